import { availableParallelism } from 'node:os';
import type { Context } from 'aws-lambda';
import type {
  FailureEvent,
  RunOutcome,
  RunPlan,
  ShardResult,
  ShardSpec,
  StartRunEvent,
} from '../use-cases/workflow-types.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LambdaJob } from './lambda-worker-impl.ts';
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
   * Worker threads of the map step (the Distributed Map's MaxConcurrency, locally), at most one
   * per shard; 0 scores the shards in this process, one after another.
   * @default min(shards, CPUs), or in-process when the plan has one shard
   */
  workers?: number;
  /** Skip the email step (the engine-only paths). */
  sendReport?: boolean;
  onStep?: (step: string, detail?: string) => void;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/** Threads for the map step: in-process for one shard (no thread to start), else one per shard up to the CPUs. */
function mapThreads(shards: number, workers: number | undefined): number {
  if (workers !== undefined) return Math.max(0, Math.min(workers, shards));
  return shards > 1 ? Math.min(shards, availableParallelism()) : 0;
}

/**
 * The map step: each shard through the score-shard handler, on worker threads (each a warm
 * Lambda, started after the local environment is set: threads copy it when they start) or,
 * with no threads, one shard after another in this process. A shard that throws fails the step
 * with its sentence.
 */
async function scoreShards(
  shards: readonly ShardSpec[],
  threads: number,
  score: () => Promise<Handler<unknown, ShardResult>>,
): Promise<ShardResult[]> {
  if (threads === 0) {
    const handler = await score();
    const out: ShardResult[] = [];
    for (const shard of shards) out.push(await handler(shard, lambdaContext('score-shard')));
    return out;
  }
  const pool = new WorkerPool<LambdaJob>(threads, 'lambda-worker-impl.ts');
  try {
    return await pool.map<ShardResult>(shards.map((event) => ({ event })));
  } finally {
    await pool.close();
  }
}

/**
 * Runs the audit workflow locally through the very handlers Lambda runs, in the state machine's
 * order, with its Catch: any step's error goes to the failure step, as on AWS. The map step fans
 * the shards out on worker threads like the Distributed Map (see `workers`). The environment
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
  // Imported only when shards are scored in this process; worker threads import their own.
  const score = async () =>
    (await import('../../functions/score-shard/handler.ts')).handler as Handler<unknown, ShardResult>;
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
    const shardResults = await scoreShards(thePlan.shards, threads, score);
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
