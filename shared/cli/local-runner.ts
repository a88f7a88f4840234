import { availableParallelism } from 'node:os';
import type { Context } from 'aws-lambda';
import type {
  BucketResult,
  FailureEvent,
  MergedRun,
  RunOutcome,
  RunPlan,
  ShardResult,
  StartRunEvent,
} from '../use-cases/workflow-types.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LambdaJob, MapFunction } from './lambda-worker-impl.ts';
import { WorkerPool } from './worker-pool.ts';

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
  /**
   * Worker threads of each map step (the Distributed Maps' MaxConcurrency, locally), at most one
   * per item (shard, loan-id bucket); 0 runs the items in this process, one after another.
   * @default min(items, CPUs), or in-process when the map has one item
   */
  workers?: number;
  /** Skip the email step (the engine-only paths). */
  sendReport?: boolean;
  onStep?: (step: string, detail?: string) => void;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/** Threads for a map step: in-process for one item (no thread to start), else one per item up to the CPUs. */
function mapThreads(items: number, workers: number | undefined): number {
  if (workers !== undefined) return Math.max(0, Math.min(workers, items));
  return items > 1 ? Math.min(items, availableParallelism()) : 0;
}

/** Imports a function's handler (in this process: worker threads import their own). */
async function handlerOf<R>(fn: MapFunction): Promise<Handler<unknown, R>> {
  const m =
    fn === 'score-shard'
      ? await import('../../functions/score-shard/handler.ts')
      : await import('../../functions/merge-scores/handler.ts');
  return m.handler as unknown as Handler<unknown, R>;
}

/**
 * A map step: each item through its function's handler, on worker threads (each a warm Lambda,
 * started after the local environment is set: threads copy it when they start) or, with no
 * threads, one item after another in this process. An item that throws fails the step with its
 * sentence.
 */
async function mapItems<R>(fn: MapFunction, items: readonly unknown[], threads: number): Promise<R[]> {
  if (threads === 0) {
    const handler = await handlerOf<R>(fn);
    const out: R[] = [];
    for (const item of items) out.push(await handler(item, lambdaContext(fn)));
    return out;
  }
  const pool = new WorkerPool<LambdaJob>(threads, 'lambda-worker-impl.ts');
  try {
    return await pool.map<R>(items.map((event) => ({ fn, event })));
  } finally {
    await pool.close();
  }
}

/**
 * Runs the audit workflow locally through the very handlers Lambda runs, in the state machine's
 * order, with its Catch: any step's error goes to the failure step, as on AWS. The map steps fan
 * the shards and then the loan-id buckets out on worker threads like the Distributed Maps (see
 * `workers`). The environment
 * (endpoints, bucket, table, SHARD_BYTES) must be set before the first call: handlers read it once.
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
  const merge = (await import('../../functions/merge-audit/handler.ts')).handler as Handler<
    unknown,
    MergedRun
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
    const threads = mapThreads(thePlan.shards.length, options.workers);
    step(
      'score',
      `${thePlan.shards.length} shard(s)${threads === 0 ? '' : ` on ${threads} worker thread(s)`}`,
    );
    const shardResults = await mapItems<ShardResult>('score-shard', thePlan.shards, threads);
    step('merge');
    const merged = await merge({ plan: thePlan, shardResults }, lambdaContext('merge-audit'));
    const bucketThreads = mapThreads(merged.buckets.length, options.workers);
    step(
      'buckets',
      `${merged.buckets.length} loan-id bucket(s)${bucketThreads === 0 ? '' : ` on ${bucketThreads} worker thread(s)`}`,
    );
    const bucketResults = await mapItems<BucketResult>('merge-scores', merged.buckets, bucketThreads);
    step('finalize');
    const outcome = await finalize({ plan: thePlan, merged, bucketResults }, lambdaContext('finalize-audit'));
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
