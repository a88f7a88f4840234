import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { LogAttributes, LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { isExpectedError } from '../errors.ts';
import type { LogFields, Logger as LoggerPort } from '../ports/logger.ts';
import { METRIC, METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../schema/metrics.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? POWERTOOLS_SERVICE_NAME;

/**
 * Structured JSON logger shared by every function (the use cases log through it as their Logger
 * port, stepLogger); never log borrower ids, names or incomes.
 * Its level is fixed when it is made (each invocation resets it to that): POWERTOOLS_LOG_LEVEL,
 * else INFO in Lambda and WARN elsewhere (the CLI, tests), whose output is for people; the local
 * stack's endpoints are set after this module loads, so its defaults would come too late.
 */
export const logger = new Logger({
  serviceName,
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL ??
    (process.env.AWS_LAMBDA_FUNCTION_NAME === undefined ? 'WARN' : 'INFO')) as LogLevel,
});

/**
 * A Powertools logger as the use cases' Logger port: one JSON line a call, the fields beside the
 * message (and the Lambda context the handler's middleware added).
 */
export function powertoolsLogger(sink: Logger): LoggerPort {
  const extra = (fields: LogFields | undefined): LogAttributes[] =>
    fields === undefined ? [] : [{ ...fields }];
  return {
    info: (message, fields) => sink.info(message, ...extra(fields)),
    warn: (message, fields) => sink.warn(message, ...extra(fields)),
    error: (message, fields) => sink.error(message, ...extra(fields)),
  };
}

/** The functions' logger as the steps' Logger port (AuditDeps.logger). */
export const stepLogger: LoggerPort = powertoolsLogger(logger);

/** CloudWatch EMF metrics under the RiskAudit namespace. */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
});

/** X-Ray tracer; off outside Lambda (POWERTOOLS_TRACE_ENABLED unset and no Lambda runtime). */
export const tracer = new Tracer({
  serviceName,
  enabled:
    process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false',
});

/**
 * Counts the expected outcomes a handler throws (a duplicate start, a missing tape: see
 * isExpectedError) as `ExpectedErrors` for its function, timestamped at the invocation's start
 * like Lambda's own `Errors`, so the function-error alarm (Errors minus ExpectedErrors) fires for
 * faults only. The error is rethrown unchanged: the workflow's Catch still sees it.
 */
export function countExpectedErrors(
  sink: Metrics = metrics,
): MiddlewareObj<unknown, unknown, Error, Context> {
  const started = new WeakMap<object, number>();
  return {
    before: (request) => {
      started.set(request, Date.now());
    },
    onError: (request) => {
      if (!isExpectedError(request.error)) return;
      const single = sink.singleMetric();
      single.addDimension('FunctionName', request.context.functionName);
      single.setTimestamp(started.get(request) ?? Date.now());
      single.addMetric(METRIC.expectedErrors, MetricUnit.Count, 1);
    },
  };
}

/**
 * Wraps a step handler with the Powertools middlewares, middleware first, handler last: the
 * same wrapped handler runs in Lambda and in the local runner.
 */
export function withObservability<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  const wrapped = middy<TEvent, TResult>({ timeoutEarlyInMillis: 0 })
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { clearState: true }));
  // Local runs switch metrics off; without this the flush would warn after every step.
  if (process.env.POWERTOOLS_METRICS_DISABLED !== 'true') {
    wrapped.use(logMetrics(metrics)).use(countExpectedErrors());
  }
  return wrapped.handler(handler);
}
