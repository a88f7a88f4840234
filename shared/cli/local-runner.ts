import { availableParallelism } from 'node:os';
import type { Context } from 'aws-lambda';
import {
  type ExecutionResult,
  LocalStateMachine,
  type MapRunScope,
  type StateMachineDefinition,
  StatesError,
  type TaskInvoker,
} from '../local/asl-engine.ts';
import { type ObjectStore, s3MapIntegrations } from '../local/asl-s3-map.ts';
import { failureSentence } from '../use-cases/map-results.ts';
import {
  executionNameFor,
  type RunOutcome,
  type RunPlan,
  type StartRunEvent,
} from '../use-cases/workflow-types.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LambdaJob, MapFunction } from './lambda-worker-impl.ts';
import { WorkerPool } from './worker-pool.ts';
import { functionOfArn, LOCAL_DATA_BUCKET, localWorkflowDefinition } from './workflow-definition.ts';

/** What the local run of the workflow ended with. */
export type LocalRunResult =
  | {
      ok: true;
      status: 'done';
      executionName: string;
      /** When the execution started (its `$$.Execution.StartTime`). */
      startedAt: string;
      plan: RunPlan;
      outcome: RunOutcome;
      timings: Record<string, number>;
    }
  | {
      ok: false;
      /** `already-running`: another run holds the date's lease; the execution ended quietly, as on AWS. */
      status: 'failed' | 'timed-out' | 'already-running';
      executionName: string;
      startedAt: string;
      snapshotDate: string | null;
      reason: string;
      timings: Record<string, number>;
    };

/** Runs one function's handler on an event: in this process, on a worker thread, or anything else. */
export type FunctionRunner = (fn: string, event: unknown, context: Context) => Promise<unknown>;

export interface LocalRunOptions {
  /**
   * Worker threads of each map step (the Distributed Maps' Lambdas, locally), at most one per
   * item (shard, loan-id bucket); 0 runs the items in this process.
   * @default min(items, CPUs), or in-process when the map has one item
   */
  workers?: number;
  /** Leave the report function out (a previous day audited only as a baseline). @default true */
  sendReport?: boolean;
  /** Called as each top-level state starts; a map step's detail says how its items run. */
  onStep?: (step: string, detail?: string) => void;
  /** The execution's name. @default `<date>-<trigger>-<time>`, as start-audit names them */
  executionName?: string;
  /**
   * Errors the local Lambda service raises instead of invoking (e.g. `Lambda.TooManyRequestsException`
   * for a function's first attempt): the definition's Retry then runs as on AWS.
   */
  serviceFault?: (call: { fn: string; attempt: number; mapItemIndex?: number }) => string | null;
  /**
   * Runs the functions the workflow's tasks name (`prepare-run`, `score-shard`, ...) in this
   * process, and `mapFunction` runs a map's items on worker threads.
   * @default the real Lambda handlers (functions/<name>/handler.ts)
   */
  runFunction?: FunctionRunner;
  /** Runs a map's items on `threads` threads. @default the Lambda handlers on a WorkerPool */
  mapFunction?: (threads: number) => { run: FunctionRunner; close: () => Promise<void> };
  /** Multiplies the definition's Retry intervals. @default 0.01 (2 s become 20 ms) */
  retryIntervalScale?: number;
  /** Multiplies the definition's task and execution timeouts (tests of the timeout paths). @default 1 */
  timeoutScale?: number;
  /**
   * The data bucket's objects, where the maps read their items and export their results (the
   * store the functions use).
   * @default the embedded S3's bucket (BUCKET_NAME)
   */
  dataBucket?: ObjectStore;
}

/** Names of this process's executions: the local state machine refuses a name twice, as AWS does. */
const executionNames = new Set<string>();

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const handlers = new Map<string, Promise<Handler>>();

/** A Lambda handler of this project, imported on first use (its module reads the environment then). */
function handlerOf(fn: string): Promise<Handler> {
  let handler = handlers.get(fn);
  if (handler === undefined) {
    if (!/^[a-z-]+$/.test(fn)) throw new Error(`no function named ${fn}`);
    handler = import(`../../functions/${fn}/handler.ts`).then((m: { handler: Handler }) => m.handler);
    handlers.set(fn, handler);
  }
  return handler;
}

/** The real handlers, in this process. */
export const runHandler: FunctionRunner = async (fn, event, context) => (await handlerOf(fn))(event, context);

/** The real handlers of the map functions on worker threads, one warm "Lambda" per thread. */
function handlersOnThreads(threads: number): { run: FunctionRunner; close: () => Promise<void> } {
  const pool = new WorkerPool<LambdaJob>(threads, 'lambda-worker-impl.ts');
  return {
    run: async (fn, event) => (await pool.map([{ fn: fn as MapFunction, event }]))[0],
    close: () => pool.close(),
  };
}

/** Threads for a map step: in-process for one item (no thread to start), else one per item up to the CPUs. */
function mapThreads(items: number, workers: number | undefined): number {
  if (workers !== undefined) return Math.max(0, Math.min(workers, items));
  return items > 1 ? Math.min(items, availableParallelism()) : 0;
}

/**
 * Runs the audit workflow locally: the state machine definition `cdk synth` produces for the
 * stack, executed by the local ASL engine (shared/local/asl-engine.ts), its tasks invoking the
 * very handlers Lambda runs, its map items on worker threads like the Distributed Maps (see
 * `workers`). Step order, retries, catches, timeouts and the state quota are the definition's.
 * The environment (endpoints, bucket, table, SHARD_BYTES) must be set before the first call:
 * handlers read it once.
 */
export async function runWorkflowLocally(
  event: StartRunEvent,
  options: LocalRunOptions = {},
  definition?: StateMachineDefinition,
): Promise<LocalRunResult> {
  const machineDefinition = definition ?? (await localWorkflowDefinition());
  const runFunction = options.runFunction ?? runHandler;
  const timings: Record<string, number> = {};
  const invokeWith =
    (run: FunctionRunner): TaskInvoker =>
    async (resource, payload, context) => {
      const fn = functionOfArn(resource);
      const fault = options.serviceFault?.({
        fn,
        attempt: context.attempt,
        ...(context.mapItemIndex === undefined ? {} : { mapItemIndex: context.mapItemIndex }),
      });
      if (fault)
        throw new StatesError(fault, JSON.stringify({ errorType: fault, errorMessage: `local ${fault}` }));
      if (fn === 'send-report' && options.sendReport === false) return { messageId: null };
      return run(fn, payload, lambdaContext(fn));
    };
  const top = machineDefinition.States;
  const dataBucket = options.dataBucket ?? (await embeddedDataBucket());
  const machine = new LocalStateMachine(
    machineDefinition,
    {
      invoke: invokeWith(runFunction),
      ...s3MapIntegrations({ [LOCAL_DATA_BUCKET]: dataBucket }),
      retryIntervalScale: options.retryIntervalScale ?? 0.01,
      ...(options.timeoutScale === undefined ? {} : { timeoutScale: options.timeoutScale }),
      mapRun: async ({ name, items }): Promise<MapRunScope | undefined> => {
        const threads = mapThreads(items, options.workers);
        options.onStep?.(name, `${items} item(s)${threads === 0 ? '' : ` on ${threads} worker thread(s)`}`);
        if (threads === 0) return undefined;
        const pool = (options.mapFunction ?? handlersOnThreads)(threads);
        return { invoke: invokeWith(pool.run), close: pool.close };
      },
      onState: (e) => {
        if (e.depth !== 0) return;
        const type = top[e.name]?.Type;
        if (type !== 'Task' && type !== 'Map') return;
        if (e.type === 'entered' && type === 'Task') options.onStep?.(e.name);
        if (e.type === 'exited') timings[e.name] = (timings[e.name] ?? 0) + (e.ms ?? 0);
      },
    },
    executionNames,
  );
  const name =
    options.executionName ??
    executionNameFor({
      snapshotDate: 'snapshotDate' in event ? event.snapshotDate : 'scheduled',
      trigger: event.trigger ?? 'on-demand',
    });
  const result = await machine.start(event, name);
  return localRunResult(result, event, timings);
}

/** The embedded S3's data bucket (BUCKET_NAME), as the functions reach it. */
async function embeddedDataBucket(): Promise<ObjectStore> {
  const [{ S3ArtifactStore }, { createS3Client }, { LOCAL_BUCKET }] = await Promise.all([
    import('../adapters/s3-artifact-store.ts'),
    import('../adapters/aws-clients.ts'),
    import('../schema/tables.ts'),
  ]);
  return new S3ArtifactStore(createS3Client(), process.env.BUCKET_NAME ?? LOCAL_BUCKET);
}

function localRunResult(
  result: ExecutionResult,
  event: StartRunEvent,
  timings: Record<string, number>,
): LocalRunResult {
  const output = result.status === 'SUCCEEDED' ? (result.output as Record<string, unknown>) : {};
  const plan = output.plan as RunPlan | undefined;
  const snapshotDate = plan?.snapshotDate ?? ('snapshotDate' in event ? event.snapshotDate : null);
  if (result.status === 'SUCCEEDED' && output.outcome !== undefined && plan !== undefined)
    return {
      ok: true,
      status: 'done',
      executionName: result.name,
      startedAt: result.startDate.toISOString(),
      plan,
      outcome: output.outcome as RunOutcome,
      timings,
    };
  const error =
    result.status === 'SUCCEEDED'
      ? ((output.error as { Error?: string; Cause?: string } | undefined) ?? {})
      : { Error: result.error, Cause: result.cause };
  return {
    ok: false,
    status:
      result.status === 'SUCCEEDED'
        ? 'already-running'
        : result.status === 'TIMED_OUT'
          ? 'timed-out'
          : 'failed',
    executionName: result.name,
    startedAt: result.startDate.toISOString(),
    snapshotDate,
    reason: failureSentence(error).sentence,
    timings,
  };
}
