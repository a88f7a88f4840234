import type { Context } from 'aws-lambda';
import type {
  FailureEvent,
  RunOutcome,
  RunPlan,
  ShardResult,
  StartRunEvent,
} from '../use-cases/workflow-types.ts';

/** What the local run of the workflow ended with. */
export type LocalRunResult =
  | {
      ok: true;
      plan: RunPlan;
      outcome: RunOutcome;
      messageId: string | null;
      timings: Record<string, number>;
    }
  | { ok: false; snapshotDate: string | null; reason: string; timings: Record<string, number> };

export interface LocalRunOptions {
  /** Shards scored at once (the Distributed Map's MaxConcurrency, locally). */
  concurrency?: number;
  /** Skip the email step (the engine-only paths). */
  sendReport?: boolean;
  onStep?: (step: string, detail?: string) => void;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 15 * 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1769',
    awsRequestId: `${functionName}-${Date.now().toString(36)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Runs the audit workflow in-process through the very handlers Lambda runs, in the state
 * machine's order, with its Catch: any step's error goes to the failure step, as on AWS. The
 * environment (endpoints, bucket, table) must be set before the first call: handlers read it once.
 */
export async function runWorkflowLocally(
  event: StartRunEvent,
  options: LocalRunOptions = {},
): Promise<LocalRunResult> {
  const timings: Record<string, number> = {};
  let current = '';
  let since = Date.now();
  const step = (name: string, detail?: string): void => {
    if (current) timings[current] = Date.now() - since;
    current = name;
    since = Date.now();
    options.onStep?.(name, detail);
  };
  const prepare = (await import('../../functions/prepare-run/handler.ts')).handler as Handler<
    unknown,
    RunPlan
  >;
  const score = (await import('../../functions/score-shard/handler.ts')).handler as Handler<
    unknown,
    ShardResult
  >;
  const finalize = (await import('../../functions/finalize-audit/handler.ts')).handler as Handler<
    unknown,
    RunOutcome
  >;
  const notify = (await import('../../functions/notify-failure/handler.ts')).handler as Handler<
    FailureEvent,
    { reason: string }
  >;
  let plan: RunPlan | null = null;
  try {
    step('prepare');
    plan = await prepare(event, lambdaContext('prepare-run'));
    const thePlan = plan;
    step('score', `${thePlan.shards.length} shard(s)`);
    const shardResults = await mapWithLimit(thePlan.shards, options.concurrency ?? 1, (shard) =>
      score(shard, lambdaContext('score-shard')),
    );
    step('finalize');
    const outcome = await finalize({ plan: thePlan, shardResults }, lambdaContext('finalize-audit'));
    let messageId: string | null = null;
    if (options.sendReport !== false) {
      step('report');
      const send = (await import('../../functions/send-report/handler.ts')).handler as Handler<
        unknown,
        { messageId: string | null }
      >;
      messageId = (await send(outcome, lambdaContext('send-report'))).messageId;
    }
    step('done');
    return { ok: true, plan: thePlan, outcome, messageId, timings };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const snapshotDate = plan?.snapshotDate ?? ('snapshotDate' in event ? event.snapshotDate : undefined);
    step('failure', message);
    const failure: FailureEvent = {
      ...(snapshotDate === undefined ? {} : { snapshotDate }),
      ...('scheduledTime' in event ? { scheduledTime: event.scheduledTime } : {}),
      ...(plan === null ? {} : { plan, runId: plan.runId }),
      error: { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: message }) },
    };
    const recorded = await notify(failure, lambdaContext('notify-failure'));
    step('done');
    return { ok: false, snapshotDate: snapshotDate ?? null, reason: recorded.reason, timings };
  }
}
