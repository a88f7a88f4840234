import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizedWorkflow } from '../../infra/lib/workflow-definition.ts';
import { RunInProgressError, TapeMissingError, TapeUnreadableError } from '../../shared/errors.ts';
import {
  type ExecutionResult,
  LocalStateMachine,
  lambdaFunctionError,
  readPath,
  type StateMachineDefinition,
} from '../../shared/local/asl-engine.ts';
import { succeededItems } from '../../shared/use-cases/map-results.ts';
import {
  type BucketResult,
  BucketSpecSchema,
  FailureEventSchema,
  FinalizeEventSchema,
  type MergedRun,
  MergeEventSchema,
  RunOutcomeSchema,
  type RunPlan,
  type ShardResult,
  ShardSpecSchema,
  StartRunEventSchema,
} from '../../shared/use-cases/workflow-types.ts';
import { templateOf } from './stack-fixture.ts';
import { allStates, stateMachineDefinition } from './template-helpers.ts';

let machine: StateMachineDefinition;
/** Task state name by Resource: the template's function tokens all read "TOKEN", so each task gets its own. */
beforeAll(() => {
  machine = stateMachineDefinition(templateOf()) as unknown as StateMachineDefinition;
  for (const [name, state] of Object.entries(allStates(machine as never)))
    if (state.Type === 'Task') state.Resource = `task:${name}`;
});

/** A stub for a Task state, by state name: returns the function's result or throws. */
type TaskStub = (input: unknown) => unknown;

/** Runs the synthesized definition on the local engine, each task answered by its stub. */
async function simulate(
  definition: StateMachineDefinition,
  input: unknown,
  stubs: Record<string, TaskStub>,
): Promise<ExecutionResult & { output?: unknown; error?: string }> {
  const engine = new LocalStateMachine(definition, {
    invoke: async (resource, payload) => {
      const stub = stubs[resource.slice('task:'.length)];
      if (stub === undefined) throw new Error(`no stub for ${resource}`);
      return stub(payload);
    },
    retryIntervalScale: 0,
  });
  return engine.start(input);
}

/** A handler's exception as the stubs throw it. */
const lambdaError = (error: Error): Error => lambdaFunctionError(error);

const DATE = '2026-11-25';
const RUN_ID = `${DATE}-r1`;
/** Loan-id buckets of every plan here: the merge map runs one child per bucket. */
const BUCKETS = 2;

function plan(shardCount: number): RunPlan {
  const shards = Array.from({ length: shardCount }, (_, index) => ({
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    index,
    partKey: `snapshots/${DATE}/loans.csv`,
    partBytes: 3_000,
    range: { start: index * 1_000, end: (index + 1) * 1_000 },
    scoreBuckets: BUCKETS,
  }));
  return {
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    trigger: 'schedule',
    startedAt: '2026-11-25T22:00:01.000Z',
    parts: [{ key: `snapshots/${DATE}/loans.csv`, bytes: 3_000, lastModified: null }],
    shards,
    scoreBuckets: BUCKETS,
    warnings: [],
  };
}

/** What merge-audit hands on for a plan: one BucketSpec per loan-id bucket. */
function mergedRun(p: RunPlan): MergedRun {
  return {
    draftKey: `runs/${DATE}/merge/${RUN_ID}/draft.json`,
    buckets: Array.from({ length: p.scoreBuckets }, (_, bucket) => ({
      runId: p.runId,
      snapshotDate: p.snapshotDate,
      previousSnapshotDate: p.previousSnapshotDate,
      bucket,
      buckets: p.scoreBuckets,
      shards: p.shards.length,
      previousScores: { runId: '2026-11-24-r1', buckets: 1 },
      contextKey: `runs/${DATE}/merge/${RUN_ID}/context.bin`,
    })),
    timings: { partials: 12 },
  };
}

function bucketResult(bucket: number): BucketResult {
  return { bucket, resultKey: `runs/${DATE}/merge/${RUN_ID}/bucket-${bucket}.json`, loans: 5, changes: 2 };
}

/** The steps' own check of a map's results, raised as their Lambda would raise it. */
function trySucceeded(
  items: readonly object[],
  item: { what: string; key: 'index' | 'bucket' } = { what: 'shard', key: 'index' },
): void {
  try {
    succeededItems(items, item);
  } catch (error) {
    throw lambdaError(error as Error);
  }
}

/** Stubs that check every input against the handlers' own schemas and record what they got. */
function recordingStubs(shardCount: number, overrides: Partial<Record<string, TaskStub>> = {}) {
  const seen: Record<string, unknown[]> = {};
  const record = (name: string, input: unknown): void => {
    seen[name] = [...(seen[name] ?? []), input];
  };
  const stubs: Record<string, TaskStub> = {
    Prepare: (input) => {
      record('Prepare', input);
      expect(StartRunEventSchema.safeParse(input).success).toBe(true);
      return plan(shardCount);
    },
    ScoreShard: (input): ShardResult => {
      record('ScoreShard', input);
      const shard = ShardSpecSchema.parse(input);
      return {
        index: shard.index,
        partialKey: `runs/${DATE}/partials/${RUN_ID}/${shard.index}.json`,
        rowsRead: 10,
        rowsQuarantined: 1,
      };
    },
    MergeAudit: (input): MergedRun => {
      record('MergeAudit', input);
      const event = MergeEventSchema.parse(input);
      expect(event.shardResults).toHaveLength(event.plan.shards.length);
      // What the step does first: a failed shard fails the run with its own error.
      trySucceeded(event.shardResults);
      return mergedRun(event.plan);
    },
    MergeBucket: (input): BucketResult => {
      record('MergeBucket', input);
      return bucketResult(BucketSpecSchema.parse(input).bucket);
    },
    Finalize: (input) => {
      record('Finalize', input);
      const event = FinalizeEventSchema.parse(input);
      trySucceeded(event.bucketResults, { what: 'loan-id bucket', key: 'bucket' });
      return {
        runId: event.plan.runId,
        snapshotDate: event.plan.snapshotDate,
        status: 'partial',
        auditKey: `runs/${DATE}/audit.json`,
      };
    },
    SendReport: (input) => {
      record('SendReport', input);
      RunOutcomeSchema.parse(input);
      return { messageId: 'm-1' };
    },
    NotifyFailure: (input) => {
      record('NotifyFailure', input);
      FailureEventSchema.parse(input);
      return { notified: true };
    },
  };
  for (const [name, stub] of Object.entries(overrides)) {
    const base = stubs[name];
    stubs[name] = (input) => {
      record(`${name}:override`, input);
      return stub === undefined ? base?.(input) : stub(input);
    };
  }
  return { stubs, seen };
}

describe('Workflow: audit state machine (the synthesized definition on the local engine)', () => {
  it('runs a scheduled audit through every step, each getting the shape its handler parses', async () => {
    const { stubs, seen } = recordingStubs(3);
    const input = { trigger: 'schedule', scheduledTime: '2026-11-25T22:00:00Z' };
    const result = await simulate(machine, input, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'MergeScores',
      'Finalize',
      'SendReport',
      'AuditDone',
    ]);
    expect(seen.Prepare).toEqual([input]);
    expect((seen.ScoreShard ?? []).map((s) => (s as { index: number }).index)).toEqual([0, 1, 2]);
    expect(seen.ScoreShard?.[1]).toEqual(plan(3).shards[1]);
    // merge-audit gets exactly what finalize used to: the plan and every shard's result.
    expect(seen.MergeAudit).toHaveLength(1);
    expect(Object.keys(seen.MergeAudit?.[0] as object).sort()).toEqual(['plan', 'shardResults']);
    const merge = MergeEventSchema.parse(seen.MergeAudit?.[0]);
    expect(merge.plan).toEqual(plan(3));
    expect(merge.shardResults.map((r) => r.index)).toEqual([0, 1, 2]);
    // Each bucket child gets its own BucketSpec, as merge-audit planned it.
    expect(seen.MergeBucket).toEqual(mergedRun(plan(3)).buckets);
    // Finalize gets the plan, the merge step's output and the buckets' results, and nothing else.
    expect(Object.keys(seen.Finalize?.[0] as object).sort()).toEqual(['bucketResults', 'merged', 'plan']);
    const finalize = FinalizeEventSchema.parse(seen.Finalize?.[0]);
    expect(finalize.plan).toEqual(plan(3));
    expect(finalize.merged).toEqual(mergedRun(plan(3)));
    expect(finalize.bucketResults).toEqual([bucketResult(0), bucketResult(1)]);
    expect(seen.SendReport).toEqual([
      { runId: RUN_ID, snapshotDate: DATE, status: 'partial', auditKey: `runs/${DATE}/audit.json` },
    ]);
    expect(seen.NotifyFailure).toBeUndefined();
  });

  it('hands an on-demand start (what start-audit sends) to Prepare unchanged', async () => {
    const { stubs, seen } = recordingStubs(1);
    const input = { snapshotDate: DATE, trigger: 'on-demand' };
    const result = await simulate(machine, input, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(seen.Prepare).toEqual([input]);
  });

  it('turns a tape-arrival start into the date of the object key', async () => {
    const { stubs, seen } = recordingStubs(1);
    const result = await simulate(
      machine,
      { trigger: 's3-arrival', objectKey: `snapshots/${DATE}/part-0001.csv.gz` },
      stubs,
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(seen.Prepare).toEqual([{ snapshotDate: DATE, trigger: 's3-arrival' }]);
    expect(StartRunEventSchema.parse(seen.Prepare?.[0])).toEqual({
      snapshotDate: DATE,
      trigger: 's3-arrival',
    });
  });

  it('sends the notice and fails with the TapeMissingError when Prepare finds no tape', async () => {
    const { stubs, seen } = recordingStubs(1, {
      Prepare: () => {
        throw lambdaError(new TapeMissingError(`no tape has landed for ${DATE}`));
      },
    });
    const result = await simulate(
      machine,
      { trigger: 'schedule', scheduledTime: '2026-11-25T22:00:00Z' },
      stubs,
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeMissingError' });
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'NotifyFailure', 'AuditFailed']);
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(notice.plan).toBeUndefined();
    expect(notice.scheduledTime).toBe('2026-11-25T22:00:00Z');
    expect(notice.error.Error).toBe('TapeMissingError');
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe(`no tape has landed for ${DATE}`);
  });

  it('ends quietly, without a failure notice, when another run of the date holds the lease', async () => {
    const { stubs, seen } = recordingStubs(1, {
      Prepare: () => {
        throw lambdaError(new RunInProgressError(`the audit of ${DATE} is already running (run r0)`));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'AlreadyRunning']);
    expect(seen.NotifyFailure).toBeUndefined();
    expect(seen.ScoreShard).toBeUndefined();
  });

  it("fails the run with the failing shard's own error after the other shards finish", async () => {
    const { stubs, seen } = recordingStubs(3, {
      ScoreShard: (input) => {
        const shard = ShardSpecSchema.parse(input);
        if (shard.index === 1) throw lambdaError(new TapeUnreadableError('part loans.csv is not valid gzip'));
        return { index: shard.index, partialKey: `p/${shard.index}`, rowsRead: 1, rowsQuarantined: 0 };
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(seen['ScoreShard:override']).toHaveLength(3);
    // MergeAudit got every shard's result, the failed one as a value, and merged nothing.
    expect(seen.MergeAudit).toHaveLength(1);
    expect(seen.MergeBucket).toBeUndefined();
    expect(seen.Finalize).toBeUndefined();
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(notice.plan?.runId).toBe(RUN_ID);
    expect(notice.error.Error).toBe('TapeUnreadableError');
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe('part loans.csv is not valid gzip');
    expect(readPath(seen.NotifyFailure?.[0], '$.shardResults[1].failed')).toBe(true);
  });

  it("fails the run with the failing bucket's own error after the other buckets finish", async () => {
    const { stubs, seen } = recordingStubs(2, {
      MergeBucket: (input) => {
        const spec = BucketSpecSchema.parse(input);
        if (spec.bucket === 1) throw lambdaError(new TapeUnreadableError('previous scores are corrupt'));
        return bucketResult(spec.bucket);
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'MergeScores',
      'Finalize',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(seen['MergeBucket:override']).toHaveLength(BUCKETS);
    expect(seen.Finalize).toHaveLength(1);
    expect(seen.SendReport).toBeUndefined();
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(notice.plan?.runId).toBe(RUN_ID);
    expect(notice.error.Error).toBe('TapeUnreadableError');
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe('previous scores are corrupt');
    expect(readPath(seen.NotifyFailure?.[0], '$.bucketResults[0]')).toEqual(bucketResult(0));
    expect(readPath(seen.NotifyFailure?.[0], '$.bucketResults[1]')).toMatchObject({
      failed: true,
      bucket: 1,
    });
  });

  it('sends the notice with the plan when the merge step fails, and merges no bucket', async () => {
    const { stubs, seen } = recordingStubs(2, {
      MergeAudit: () => {
        throw lambdaError(new TapeUnreadableError('partial runs/2026-11-25/partials/r1/1.json is truncated'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(seen.MergeBucket).toBeUndefined();
    expect(seen.Finalize).toBeUndefined();
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    // The plan (and so the run id whose lease to release) reaches the notice.
    expect(notice.plan).toEqual(plan(2));
    expect(notice.error.Error).toBe('TapeUnreadableError');
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toContain('is truncated');
  });

  it('still fails the run with the original error when the failure notice itself fails', async () => {
    const { stubs } = recordingStubs(1, {
      Finalize: () => {
        throw lambdaError(new TapeUnreadableError('previous scores are corrupt'));
      },
      NotifyFailure: () => {
        throw lambdaError(new Error('ses is down'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path.slice(-2)).toEqual(['NotifyFailure', 'AuditFailed']);
  });

  it('reports a failed report step with the run already stored', async () => {
    const { stubs, seen } = recordingStubs(2, {
      SendReport: () => {
        throw lambdaError(new Error('recipient rejected'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Error' });
    const notice = seen.NotifyFailure?.[0] as { outcome?: { status: string }; plan?: unknown };
    expect(notice.outcome?.status).toBe('partial');
    expect(notice.plan).toBeDefined();
  });
});

describe('Workflow: what the local engine checks in the synthesized definition', () => {
  it('needs no JSONata: every state is one the local engine runs', () => {
    const states = Object.entries(allStates(machine as never));
    expect(states.filter(([, s]) => s.QueryLanguage !== undefined)).toEqual([]);
    expect(() => new LocalStateMachine(machine, { invoke: async () => null })).not.toThrow();
  });

  it('retries a transient Lambda error of a shard as written, then scores the shard', async () => {
    let calls = 0;
    const { stubs, seen } = recordingStubs(2, {
      ScoreShard: (input) => {
        const shard = ShardSpecSchema.parse(input);
        if (shard.index === 1 && calls++ < 4) {
          const e = new Error('Rate exceeded');
          e.name = 'Lambda.TooManyRequestsException';
          throw lambdaError(e);
        }
        return { index: shard.index, partialKey: `p/${shard.index}`, rowsRead: 1, rowsQuarantined: 0 };
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result.status).toBe('SUCCEEDED');
    // Shard 0 once, shard 1 four times refused and a fifth time scored (MaxAttempts 5 allows it).
    expect(seen['ScoreShard:override']).toHaveLength(1 + 5);
    expect(seen.NotifyFailure).toBeUndefined();
  });

  it('fails the run with the error once MaxAttempts retries of a transient error are spent', async () => {
    const { stubs, seen } = recordingStubs(1, {
      ScoreShard: () => {
        const e = new Error('Rate exceeded');
        e.name = 'Lambda.TooManyRequestsException';
        throw lambdaError(e);
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    expect(seen['ScoreShard:override']).toHaveLength(1 + 5);
    expect(FailureEventSchema.parse(seen.NotifyFailure?.[0]).error.Error).toBe(
      'Lambda.TooManyRequestsException',
    );
  });

  it('never retries an error of our own handlers (a broken tape stays broken)', async () => {
    const { stubs, seen } = recordingStubs(1, {
      ScoreShard: () => {
        throw lambdaError(new TapeUnreadableError('part loans.csv is not valid gzip'));
      },
    });
    await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(seen['ScoreShard:override']).toHaveLength(1);
  });

  it("fails the run with a shard's timeout, caught inside the map, once the other shards finish", async () => {
    const { stubs, seen } = recordingStubs(2, {
      ScoreShard: async (input) => {
        const shard = ShardSpecSchema.parse(input);
        if (shard.index === 0) await new Promise((r) => setTimeout(r, 200));
        return { index: shard.index, partialKey: `p/${shard.index}`, rowsRead: 1, rowsQuarantined: 0 };
      },
    });
    // 930 s scaled to 93 ms: shard 0 takes 200 ms.
    const engine = new LocalStateMachine(machine, {
      invoke: async (resource, payload) => stubs[resource.slice('task:'.length)]!(payload),
      timeoutScale: 1e-4,
    });
    const result = await engine.start({ snapshotDate: DATE, trigger: 'on-demand' });
    // A function may not raise a `States.` name: merge-audit names the shard in its own error.
    expect(result).toMatchObject({ status: 'FAILED', error: 'MapItemFailedError' });
    expect(
      JSON.parse(FailureEventSchema.parse(seen.NotifyFailure?.[0]).error.Cause ?? '{}').errorMessage,
    ).toBe('shard 0 took longer than its time limit and was stopped');
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(readPath(seen.MergeAudit?.[0], '$.shardResults[0].error.Error')).toBe('States.Timeout');
    expect(readPath(seen.MergeAudit?.[0], '$.shardResults[1].index')).toBe(1);
  });

  it('sends the notice when a shard result passes 256 KiB: the map fails, its Catch runs', async () => {
    const { stubs, seen } = recordingStubs(2, {
      ScoreShard: (input) => ({ ...ShardSpecSchema.parse(input), padding: 'x'.repeat(300 * 1024) }),
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'ScoreShards', 'NotifyFailure', 'AuditFailed']);
    expect(seen.NotifyFailure).toHaveLength(1);
  });

  it('fails the execution with no notice when a step result passes 256 KiB outside a map (States.ALL does not catch it)', async () => {
    const { stubs, seen } = recordingStubs(1, {
      MergeAudit: (input) => ({
        ...mergedRun(MergeEventSchema.parse(input).plan),
        padding: 'x'.repeat(300 * 1024),
      }),
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(result.path.at(-1)).toBe('MergeAudit');
    expect(seen.NotifyFailure).toBeUndefined();
  });
});

describe('Function: synthesizedWorkflow (the definition local runs execute)', () => {
  it('is the synthesized definition with each task naming its own function', () => {
    const local = synthesizedWorkflow((folder) => `fn:${folder}`);
    const tasks = Object.fromEntries(
      Object.entries(allStates(local as never))
        .filter(([, s]) => s.Type === 'Task')
        .map(([name, s]) => [name, s.Resource]),
    );
    expect(tasks).toEqual({
      Prepare: 'fn:prepare-run',
      ScoreShard: 'fn:score-shard',
      MergeAudit: 'fn:merge-audit',
      MergeBucket: 'fn:merge-scores',
      Finalize: 'fn:finalize-audit',
      SendReport: 'fn:send-report',
      NotifyFailure: 'fn:notify-failure',
    });
    // Apart from the function names, the very definition the template deploys.
    const deployed = stateMachineDefinition(templateOf()) as unknown as StateMachineDefinition;
    for (const state of Object.values(allStates(local as never)))
      if (state.Type === 'Task') state.Resource = 'TOKEN';
    expect(local).toEqual(deployed);
  });
});
