import { parentPort } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type { LocalDepsSpec } from '../adapters/local-deps.ts';
import { lambdaContext } from './lambda-context.ts';
import { MAP_STEPS, runStepOf } from './local-map-steps.ts';
import { serveJobs } from './worker-serve.ts';

/** The functions of the local Distributed Maps. */
export type MapFunction = 'score-shard' | 'merge-scores';

/** One item of a local Distributed Map: the event the map's Lambda would receive. */
export interface LambdaJob {
  fn: MapFunction;
  event: unknown;
  /** Run the function's use case on these local ports (`risk-audit score`) instead of its handler. */
  local?: LocalDepsSpec;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const handlers = new Map<MapFunction, Promise<Handler>>();

// Imported on a function's first job, once: like a Lambda's cold start, the handler reads its
// environment (the local stack's endpoints, bucket, table, POWERTOOLS_*) and creates its clients then.
function handlerOf(fn: MapFunction): Promise<Handler> {
  let handler = handlers.get(fn);
  if (handler === undefined) {
    handler =
      fn === 'score-shard'
        ? import('../../functions/score-shard/handler.ts').then((m) => m.handler as Handler)
        : import('../../functions/merge-scores/handler.ts').then((m) => m.handler as Handler);
    handlers.set(fn, handler);
  }
  return handler;
}

// A worker thread is a warm Lambda of each map function: it serves item after item, and an item
// that throws answers with its sentence, which the local runner hands to the failure step.
serveJobs<LambdaJob>(parentPort!, async (job) => ({
  result:
    job.local === undefined
      ? await (await handlerOf(job.fn))(job.event, lambdaContext(job.fn))
      : await runStepOf(MAP_STEPS, job.fn, job.event, job.local),
}));
