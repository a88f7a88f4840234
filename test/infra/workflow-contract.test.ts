import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizedWorkflow } from '../../infra/lib/workflow-definition.ts';
import {
  MailDeliveryDelayedError,
  PlanMemoryError,
  RunInProgressError,
  TapeMissingError,
  TapeUnreadableError,
} from '../../shared/errors.ts';
import {
  type ExecutionResult,
  LocalStateMachine,
  lambdaFunctionError,
  type StateMachineDefinition,
} from '../../shared/local/asl-engine.ts';
import { type ObjectStore, s3MapIntegrations } from '../../shared/local/asl-s3-map.ts';
import {
  ITEM_READER_RESOURCE,
  type MapRunOutput,
  RESULT_WRITER_RESOURCE,
} from '../../shared/schema/map-run.ts';
import { KEYS } from '../../shared/schema/tables.ts';
import { itemNumber, readMapResults, succeededItems } from '../../shared/use-cases/map-results.ts';
import {
  type BucketOutcomeSchema,
  BucketOutcomeSchema as BucketOutcomes,
  type BucketResult,
  type BucketSpec,
  BucketSpecSchema,
  DeliveryFailureEventSchema,
  FailureEventSchema,
  FinalizeEventSchema,
  type MergedRun,
  MergeEventSchema,
  PrepareEventSchema,
  RunOutcomeSchema,
  type RunPlan,
  ShardOutcomeSchema,
  type ShardResult,
  type ShardSpec,
  ShardSpecSchema,
} from '../../shared/use-cases/workflow-types.ts';
import { templateOf } from './stack-fixture.ts';
import { allStates, stateMachineDefinition } from './template-helpers.ts';

let machine: StateMachineDefinition;
/**
 * Task state name by Resource: the template's function tokens all read "TOKEN", so each task gets
 * its own; the maps' S3 integrations get their ARNs back (the partition is a token too), their
 * bucket stays "TOKEN".
 */
beforeAll(() => {
  machine = stateMachineDefinition(templateOf()) as unknown as StateMachineDefinition;
  for (const [name, state] of Object.entries(allStates(machine as never))) {
    if (state.Type === 'Task') state.Resource = `task:${name}`;
    if (state.ItemReader) (state.ItemReader as { Resource: string }).Resource = ITEM_READER_RESOURCE;
    if (state.ResultWriter) (state.ResultWriter as { Resource: string }).Resource = RESULT_WRITER_RESOURCE;
  }
});

/** The data bucket of a simulated execution, in memory. */
class MemoryBucket implements ObjectStore {
  public readonly objects = new Map<string, string>();
  public async get(key: string): Promise<Uint8Array | null> {
    const body = this.objects.get(key);
    return body === undefined ? null : new TextEncoder().encode(body);
  }
  public async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
}

/** A stub for a Task state, by state name: returns the function's result or throws. */
type TaskStub = (input: unknown) => unknown;

/** Runs the synthesized definition on the local engine, each task answered by its stub, the bucket in memory. */
async function simulate(
  definition: StateMachineDefinition,
  input: unknown,
  stubs: Record<string, TaskStub>,
  bucket: MemoryBucket = new MemoryBucket(),
  options: { timeoutScale?: number } = {},
): Promise<ExecutionResult & { output?: unknown; error?: string }> {
  const engine = new LocalStateMachine(definition, {
    invoke: async (resource, payload) => {
      const stub = stubs[resource.slice('task:'.length)];
      if (stub === undefined) throw new Error(`no stub for ${resource}`);
      return stub(payload);
    },
    ...s3MapIntegrations({ TOKEN: bucket }),
    retryIntervalScale: 0,
    ...options,
  });
  return engine.start(input);
}

/** A handler's exception as the stubs throw it. */
const lambdaError = (error: Error): Error => lambdaFunctionError(error);

type JsonMap = Record<string, unknown>;

const DATE = '2026-11-25';
const RUN_ID = `${DATE}-r1`;
/** Loan-id buckets of every plan here: the merge map runs one child per bucket. */
const BUCKETS = 2;

function shards(shardCount: number): ShardSpec[] {
  return Array.from({ length: shardCount }, (_, index) => ({
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    index,
    partKey: `snapshots/${DATE}/loans.csv`,
    partBytes: 3_000,
    range: { start: index * 1_000, end: (index + 1) * 1_000 },
    scoreBuckets: BUCKETS,
  }));
}

function plan(shardCount: number): RunPlan {
  return {
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    currency: 'CNY',
    trigger: 'schedule',
    startedAt: '2026-11-25T22:00:01.000Z',
    partsKey: KEYS.runParts(DATE, RUN_ID),
    partCount: 1,
    shardsKey: KEYS.shardList(DATE, RUN_ID),
    shardCount,
    resultsPrefix: KEYS.mapResults(DATE, RUN_ID),
    scoreBuckets: BUCKETS,
    warnings: [],
  };
}

function bucketSpecs(p: RunPlan): BucketSpec[] {
  return Array.from({ length: p.scoreBuckets }, (_, bucket) => ({
    runId: p.runId,
    snapshotDate: p.snapshotDate,
    previousSnapshotDate: p.previousSnapshotDate,
    bucket,
    buckets: p.scoreBuckets,
    shards: p.shardCount,
    previousScores: { runId: '2026-11-24-r1', buckets: 1 },
    contextKey: `runs/${DATE}/merge/${RUN_ID}/context.bin`,
  }));
}

/** What merge-audit hands on for a plan: the key of its BucketSpecs. */
function mergedRun(p: RunPlan): MergedRun {
  return {
    draftKey: `runs/${DATE}/merge/${RUN_ID}/draft.json`,
    bucketsKey: KEYS.bucketList(p.snapshotDate, p.runId),
    timings: { partials: 12 },
  };
}

function bucketResult(bucket: number): BucketResult {
  return { bucket, resultKey: `runs/${DATE}/merge/${RUN_ID}/bucket-${bucket}.json`, loans: 5, changes: 2 };
}

/** Every shard's outcome as merge-audit reads it: from the first map's exported results. */
function shardOutcomes(bucket: MemoryBucket, output: MapRunOutput, expected: number) {
  return readMapResults(bucket, output, {
    what: 'shard',
    expected,
    outcome: ShardOutcomeSchema,
    failed: (input, error) => ({ failed: true as const, index: itemNumber(input, 'index'), error }),
  });
}

function bucketOutcomes(bucket: MemoryBucket, output: MapRunOutput, expected: number) {
  return readMapResults<ReturnType<(typeof BucketOutcomeSchema)['parse']>>(bucket, output, {
    what: 'loan-id bucket',
    expected,
    outcome: BucketOutcomes,
    failed: (input, error) => ({ failed: true as const, bucket: itemNumber(input, 'bucket'), error }),
  });
}

/** The map results a stub step read (recorded under `<step>:results`). */
type ItemOutcome = { index?: number; bucket?: number; failed?: boolean; error?: { Error?: string } };
function resultsOf(seen: Record<string, unknown[]>, key: string): ItemOutcome[] {
  return (seen[key]?.[0] ?? []) as ItemOutcome[];
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

/** Stubs that check every input against the handlers' own schemas, write and read the bucket as the steps do, and record what they got. */
function recordingStubs(shardCount: number, overrides: Partial<Record<string, TaskStub>> = {}) {
  const seen: Record<string, unknown[]> = {};
  const bucket = new MemoryBucket();
  const record = (name: string, input: unknown): void => {
    seen[name] = [...(seen[name] ?? []), input];
  };
  const stubs: Record<string, TaskStub> = {
    Prepare: async (input) => {
      record('Prepare', input);
      expect(PrepareEventSchema.safeParse(input).success).toBe(true);
      const p = plan(shardCount);
      await bucket.put(p.shardsKey, JSON.stringify(shards(shardCount)));
      return p;
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
    MergeAudit: async (input): Promise<MergedRun> => {
      record('MergeAudit', input);
      const event = MergeEventSchema.parse(input);
      const outcomes = await shardOutcomes(bucket, event.shardResults, event.plan.shardCount);
      record('MergeAudit:results', outcomes);
      // What the step does first: a failed shard fails the run with its own error.
      trySucceeded(outcomes.sort((a, b) => a.index - b.index));
      await bucket.put(mergedRun(event.plan).bucketsKey, JSON.stringify(bucketSpecs(event.plan)));
      return mergedRun(event.plan);
    },
    MergeBucket: (input): BucketResult => {
      record('MergeBucket', input);
      return bucketResult(BucketSpecSchema.parse(input).bucket);
    },
    Finalize: async (input) => {
      record('Finalize', input);
      const event = FinalizeEventSchema.parse(input);
      const outcomes = await bucketOutcomes(bucket, event.bucketResults, event.plan.scoreBuckets);
      record('Finalize:results', outcomes);
      trySucceeded(
        outcomes.sort((a, b) => a.bucket - b.bucket),
        { what: 'loan-id bucket', key: 'bucket' },
      );
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
    DeliveryFailed: (input) => {
      record('DeliveryFailed', input);
      DeliveryFailureEventSchema.parse(input);
      return { delivered: false };
    },
  };
  for (const [name, stub] of Object.entries(overrides)) {
    const base = stubs[name];
    stubs[name] = (input) => {
      record(`${name}:override`, input);
      return stub === undefined ? base?.(input) : stub(input);
    };
  }
  return { stubs, seen, bucket };
}

describe('Workflow: audit state machine (the synthesized definition on the local engine)', () => {
  it('runs a scheduled audit through every step, each getting the shape its handler parses', async () => {
    const { stubs, seen, bucket } = recordingStubs(3);
    const input = { trigger: 'schedule', scheduledTime: '2026-11-25T22:00:00Z' };
    const result = await simulate(machine, input, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'RepeatsAcrossShards',
      'MergeScores',
      'Finalize',
      'SendReport',
      'AuditDone',
    ]);
    // Prepare gets the start event and the execution its run id derives from.
    const prepared = PrepareEventSchema.parse(seen.Prepare?.[0]);
    expect(prepared.start).toEqual(input);
    expect(prepared.execution.name).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(prepared.execution.startTime))).toBe(false);
    // The shards come from the plan's items file, read by the map's ItemReader.
    expect((seen.ScoreShard ?? []).map((s) => (s as { index: number }).index).sort()).toEqual([0, 1, 2]);
    expect(seen.ScoreShard).toContainEqual(shards(3)[1]);
    // merge-audit gets the plan and where the map exported every shard's result, no result itself.
    expect(seen.MergeAudit).toHaveLength(1);
    expect(Object.keys(seen.MergeAudit?.[0] as object).sort()).toEqual(['plan', 'shardResults']);
    const merge = MergeEventSchema.parse(seen.MergeAudit?.[0]);
    expect(merge.plan).toEqual(plan(3));
    expect(merge.shardResults.ResultWriterDetails).toEqual({
      Bucket: 'TOKEN',
      Key: expect.stringMatching(
        new RegExp(`^${KEYS.mapResults(DATE, RUN_ID)}/[0-9a-f-]{36}/manifest\\.json$`),
      ),
    });
    expect(resultsOf(seen, 'MergeAudit:results').map((r) => r.index)).toEqual([0, 1, 2]);
    // Each bucket child gets its own BucketSpec, as merge-audit planned it.
    expect(seen.MergeBucket).toEqual(expect.arrayContaining(bucketSpecs(plan(3))));
    expect(seen.MergeBucket).toHaveLength(BUCKETS);
    // Finalize gets the plan, the merge step's output and where the buckets' results are, and nothing else.
    expect(Object.keys(seen.Finalize?.[0] as object).sort()).toEqual(['bucketResults', 'merged', 'plan']);
    const finalize = FinalizeEventSchema.parse(seen.Finalize?.[0]);
    expect(finalize.plan).toEqual(plan(3));
    expect(finalize.merged).toEqual(mergedRun(plan(3)));
    expect(seen['Finalize:results']?.[0]).toEqual([bucketResult(0), bucketResult(1)]);
    expect(seen.SendReport).toEqual([
      { runId: RUN_ID, snapshotDate: DATE, status: 'partial', auditKey: `runs/${DATE}/audit.json` },
    ]);
    expect(seen.NotifyFailure).toBeUndefined();
  });

  it('hands an on-demand start (what start-audit sends) to Prepare unchanged', async () => {
    const { stubs, seen, bucket } = recordingStubs(1);
    const input = { snapshotDate: DATE, trigger: 'on-demand' };
    const result = await simulate(machine, input, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(PrepareEventSchema.parse(seen.Prepare?.[0]).start).toEqual(input);
  });

  it('turns a tape-arrival start into the date of the object key', async () => {
    const { stubs, seen, bucket } = recordingStubs(1);
    const result = await simulate(
      machine,
      { trigger: 's3-arrival', objectKey: `snapshots/${DATE}/part-0001.csv.gz` },
      stubs,
      bucket,
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(PrepareEventSchema.parse(seen.Prepare?.[0]).start).toEqual({
      snapshotDate: DATE,
      trigger: 's3-arrival',
    });
  });

  it('sends the notice and fails with the TapeMissingError when Prepare finds no tape', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      Prepare: () => {
        throw lambdaError(new TapeMissingError(`no tape has landed for ${DATE}`));
      },
    });
    const result = await simulate(
      machine,
      { trigger: 'schedule', scheduledTime: '2026-11-25T22:00:00Z' },
      stubs,
      bucket,
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeMissingError' });
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'FailedExecution', 'NotifyFailure', 'AuditFailed']);
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(notice.plan).toBeUndefined();
    // The notice knows the execution, so it names the run Prepare would have named.
    expect(notice.execution).toEqual(PrepareEventSchema.parse(seen['Prepare:override']?.[0]).execution);
    expect(notice.scheduledTime).toBe('2026-11-25T22:00:00Z');
    expect(notice.error.Error).toBe('TapeMissingError');
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe(`no tape has landed for ${DATE}`);
  });

  it("sends the notice and fails with prepare's memory refusal, without retrying it", async () => {
    const sentence =
      "the run's score-shard step would need about 2,348 MB for a shard of 128 MiB of tape with the previous date's drift index of 100,000,000 loans, more than the 1,769 MB it is configured with: raise shardMemoryMb to at least 2348";
    const { stubs, seen, bucket } = recordingStubs(1, {
      Prepare: () => {
        throw lambdaError(new PlanMemoryError(sentence));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'PlanMemoryError' });
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'FailedExecution', 'NotifyFailure', 'AuditFailed']);
    expect(seen['Prepare:override']).toHaveLength(1);
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(notice.snapshotDate).toBe(DATE);
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe(sentence);
  });

  it('ends quietly, without a failure notice, when another run of the date holds the lease', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      Prepare: () => {
        throw lambdaError(new RunInProgressError(`the audit of ${DATE} is already running (run r0)`));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual(['StartedBy', 'Prepare', 'AlreadyRunning']);
    expect(seen.NotifyFailure).toBeUndefined();
    expect(seen.ScoreShard).toBeUndefined();
  });

  it("fails the run with the failing shard's own error after the other shards finish", async () => {
    const { stubs, seen, bucket } = recordingStubs(3, {
      ScoreShard: (input) => {
        const shard = ShardSpecSchema.parse(input);
        if (shard.index === 1) throw lambdaError(new TapeUnreadableError('part loans.csv is not valid gzip'));
        return { index: shard.index, partialKey: `p/${shard.index}`, rowsRead: 1, rowsQuarantined: 0 };
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'FailedExecution',
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
    // The failed shard is a value among the exported results, its error trimmed to its sentence.
    expect(resultsOf(seen, 'MergeAudit:results')[1]).toMatchObject({ failed: true, index: 1 });
    expect(JSON.stringify(resultsOf(seen, 'MergeAudit:results')[1])).not.toContain('trace');
  });

  it("fails the run with the failing bucket's own error after the other buckets finish", async () => {
    const { stubs, seen, bucket } = recordingStubs(2, {
      MergeBucket: (input) => {
        const spec = BucketSpecSchema.parse(input);
        if (spec.bucket === 1) throw lambdaError(new TapeUnreadableError('previous scores are corrupt'));
        return bucketResult(spec.bucket);
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'RepeatsAcrossShards',
      'MergeScores',
      'Finalize',
      'FailedExecution',
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
    expect(resultsOf(seen, 'Finalize:results')[0]).toEqual(bucketResult(0));
    expect(resultsOf(seen, 'Finalize:results')[1]).toMatchObject({ failed: true, bucket: 1 });
  });

  it('scores again only the shards merge-audit names when loan ids repeat across shards, then merges once more', async () => {
    // Prepare: the first MergeAudit finds shard 2 holding ids an earlier shard had and asks for
    // it alone (what merge-audit writes: the settle list and the first pass's results); the
    // second MergeAudit merges as usual.
    const settleKey = KEYS.settleShardList(DATE, RUN_ID);
    const again = { ...shards(3)[2]!, earlierIdsKey: KEYS.shardEarlierIds(DATE, RUN_ID, 2) };
    const settling = { outcomesKey: KEYS.firstShardOutcomes(DATE, RUN_ID), shards: 3 };
    let merges = 0;
    const { stubs, seen, bucket } = recordingStubs(3, {
      MergeAudit: async (input) => {
        const event = MergeEventSchema.parse(input);
        const outcomes = await shardOutcomes(bucket, event.shardResults, event.plan.shardCount);
        record(`MergeAudit:${++merges}`, outcomes);
        if (merges === 1) {
          await bucket.put(settleKey, JSON.stringify([again]));
          return { settle: { shardsKey: settleKey, shardCount: 1, settling } };
        }
        await bucket.put(mergedRun(event.plan).bucketsKey, JSON.stringify(bucketSpecs(event.plan)));
        return mergedRun(event.plan);
      },
    });
    function record(name: string, value: unknown): void {
      seen[name] = [...(seen[name] ?? []), value];
    }

    // Act
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);

    // Assess: the loop runs once, through the Choice and the plan's merge.
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'RepeatsAcrossShards',
      'ScoreRepeatsAgain',
      'ScoreShards',
      'MergeAudit',
      'RepeatsAcrossShards',
      'MergeScores',
      'Finalize',
      'SendReport',
      'AuditDone',
    ]);
    // Shards 0-2, then shard 2 alone with the key of its earlier ids.
    expect(
      (seen.ScoreShard ?? [])
        .map((s) => (s as { index: number }).index)
        .slice(0, 3)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(seen.ScoreShard?.[3]).toEqual(again);
    expect(seen.ScoreShard).toHaveLength(4);
    // The second merge gets the plan naming the settling shard and the first pass's results,
    // and reads the second map's one result.
    const second = MergeEventSchema.parse(seen['MergeAudit:override']?.[1]);
    expect(second.plan).toEqual({ ...plan(3), shardsKey: settleKey, shardCount: 1, settling });
    expect(resultsOf(seen, 'MergeAudit:2').map((r) => r.index)).toEqual([2]);
    expect(FinalizeEventSchema.parse(seen.Finalize?.[0]).plan.settling).toEqual(settling);
  });

  it('sends the notice with the plan when the merge step fails, and merges no bucket', async () => {
    const { stubs, seen, bucket } = recordingStubs(2, {
      MergeAudit: () => {
        throw lambdaError(new TapeUnreadableError('partial runs/2026-11-25/partials/r1/1.json is truncated'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'MergeAudit',
      'FailedExecution',
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
    const { stubs, bucket } = recordingStubs(1, {
      Finalize: () => {
        throw lambdaError(new TapeUnreadableError('previous scores are corrupt'));
      },
      NotifyFailure: () => {
        throw lambdaError(new Error('ses is down'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(result.path.slice(-2)).toEqual(['NotifyFailure', 'AuditFailed']);
  });

  it('ends a finished audit whose report cannot be sent as a success with a failed delivery, no failure notice', async () => {
    const { stubs, seen, bucket } = recordingStubs(2, {
      SendReport: () => {
        throw lambdaError(new Error('Email address is not verified'));
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.slice(-4)).toEqual(['Finalize', 'SendReport', 'DeliveryFailed', 'AuditDone']);
    // A refusal is not retried; the failure notice is for failed audits only.
    expect(seen['SendReport:override']).toHaveLength(1);
    expect(seen.NotifyFailure).toBeUndefined();
    const delivery = DeliveryFailureEventSchema.parse(seen.DeliveryFailed?.[0]);
    expect(delivery.deliveryFailed.outcome).toEqual({
      runId: RUN_ID,
      snapshotDate: DATE,
      status: 'partial',
      auditKey: `runs/${DATE}/audit.json`,
    });
    expect(JSON.parse(delivery.deliveryFailed.error.Cause ?? '{}').errorMessage).toBe(
      'Email address is not verified',
    );
  });

  it('retries a transient send error of the report step (3 more attempts), then records the delivery as failed', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      SendReport: () => {
        throw lambdaError(
          new MailDeliveryDelayedError('cannot send the report through SES (Throttling): Rate exceeded'),
        );
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(seen['SendReport:override']).toHaveLength(1 + 3);
    expect(DeliveryFailureEventSchema.parse(seen.DeliveryFailed?.[0]).deliveryFailed.error.Error).toBe(
      'MailDeliveryDelayedError',
    );
  });

  it('sends a report that SES throttled once, on the retry', async () => {
    let calls = 0;
    const { stubs, seen, bucket } = recordingStubs(1, {
      SendReport: () => {
        if (calls++ === 0) throw lambdaError(new MailDeliveryDelayedError('SES throttled'));
        return { messageId: 'm-2' };
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('AuditDone');
    expect(seen['SendReport:override']).toHaveLength(2);
    expect(seen.DeliveryFailed).toBeUndefined();
  });

  it('fails the run with the notice when the shards file is missing (States.ItemReaderFailed is caught)', async () => {
    const { stubs, seen, bucket } = recordingStubs(2, { Prepare: () => plan(2) });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ItemReaderFailed' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'FailedExecution',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(seen.ScoreShard).toBeUndefined();
  });

  it('carries a systemic failure of 2,000 shards to the notice in a small state: results and errors stay in S3', async () => {
    const long = 'x'.repeat(1500);
    const { stubs, seen, bucket } = recordingStubs(2000, {
      ScoreShard: (input) => {
        const e = new TapeUnreadableError(`part loans.csv is not valid gzip\n${long}`);
        e.stack = `${e.name}: ${e.message}\n${'    at frame (file.js:1:1)\n'.repeat(40)}`;
        ShardSpecSchema.parse(input);
        throw lambdaError(e);
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'TapeUnreadableError' });
    expect(seen['ScoreShard:override']).toHaveLength(2000);
    // Every shard's full error is in the exported FAILED-free results (caught inside the map) ...
    const results = seen['MergeAudit:results']?.[0] as { failed?: boolean }[];
    expect(results.filter((r) => r.failed)).toHaveLength(2000);
    // ... and what reaches the notice is the first shard's sentence in a state of a few KB.
    const notice = FailureEventSchema.parse(seen.NotifyFailure?.[0]);
    expect(JSON.parse(notice.error.Cause ?? '{}').errorMessage).toBe('part loans.csv is not valid gzip');
    expect(Buffer.byteLength(JSON.stringify(seen.NotifyFailure?.[0]))).toBeLessThan(8 * 1024);
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
    const { stubs, seen, bucket } = recordingStubs(2, {
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
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result.status).toBe('SUCCEEDED');
    // Shard 0 once, shard 1 four times refused and a fifth time scored (MaxAttempts 5 allows it).
    expect(seen['ScoreShard:override']).toHaveLength(1 + 5);
    expect(seen.NotifyFailure).toBeUndefined();
  });

  it('fails the run with the error once MaxAttempts retries of a transient error are spent', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      ScoreShard: () => {
        const e = new Error('Rate exceeded');
        e.name = 'Lambda.TooManyRequestsException';
        throw lambdaError(e);
      },
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    expect(seen['ScoreShard:override']).toHaveLength(1 + 5);
    expect(FailureEventSchema.parse(seen.NotifyFailure?.[0]).error.Error).toBe(
      'Lambda.TooManyRequestsException',
    );
  });

  it('never retries an error of our own handlers (a broken tape stays broken)', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      ScoreShard: () => {
        throw lambdaError(new TapeUnreadableError('part loans.csv is not valid gzip'));
      },
    });
    await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(seen['ScoreShard:override']).toHaveLength(1);
  });

  it("fails the run with a shard's timeout, caught inside the map, once the other shards finish", async () => {
    const { stubs, seen, bucket } = recordingStubs(2, {
      ScoreShard: async (input) => {
        const shard = ShardSpecSchema.parse(input);
        if (shard.index === 0) await new Promise((r) => setTimeout(r, 200));
        return { index: shard.index, partialKey: `p/${shard.index}`, rowsRead: 1, rowsQuarantined: 0 };
      },
    });
    // 930 s scaled to 93 ms: shard 0 takes 200 ms.
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket, {
      timeoutScale: 1e-4,
    });
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
      'FailedExecution',
      'NotifyFailure',
      'AuditFailed',
    ]);
    const timedOut = resultsOf(seen, 'MergeAudit:results')[0];
    expect(timedOut?.error?.Error).toBe('States.Timeout');
    expect(resultsOf(seen, 'MergeAudit:results')[1]?.index).toBe(1);
  });

  it('sends the notice when a shard result passes 256 KiB: the map fails, its Catch runs', async () => {
    const { stubs, seen, bucket } = recordingStubs(2, {
      ScoreShard: (input) => ({ ...ShardSpecSchema.parse(input), padding: 'x'.repeat(300 * 1024) }),
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect(result.path).toEqual([
      'StartedBy',
      'Prepare',
      'ScoreShards',
      'FailedExecution',
      'NotifyFailure',
      'AuditFailed',
    ]);
    expect(seen.NotifyFailure).toHaveLength(1);
  });

  it('fails the execution with no notice when a step result passes 256 KiB outside a map (States.ALL does not catch it)', async () => {
    const { stubs, seen, bucket } = recordingStubs(1, {
      MergeAudit: (input) => ({
        ...mergedRun(MergeEventSchema.parse(input).plan),
        padding: 'x'.repeat(300 * 1024),
      }),
    });
    const result = await simulate(machine, { snapshotDate: DATE, trigger: 'on-demand' }, stubs, bucket);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(result.path.at(-1)).toBe('MergeAudit');
    expect(seen.NotifyFailure).toBeUndefined();
  });
});

describe('Function: synthesizedWorkflow (the definition local runs execute)', () => {
  it('is the synthesized definition with each task naming its own function', () => {
    const local = synthesizedWorkflow({ functionArn: (folder) => `fn:${folder}`, dataBucket: 'the-bucket' });
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
      DeliveryFailed: 'fn:notify-failure',
    });
    // The maps read and export in the data bucket, named as local runs name it.
    for (const map of ['ScoreShards', 'MergeScores']) {
      const state = local.States[map] as { ItemReader: JsonMap; ResultWriter: JsonMap };
      expect(state.ItemReader).toMatchObject({
        Resource: ITEM_READER_RESOURCE,
        Parameters: { Bucket: 'the-bucket' },
      });
      expect(state.ResultWriter).toMatchObject({
        Resource: RESULT_WRITER_RESOURCE,
        Parameters: { Bucket: 'the-bucket', 'Prefix.$': '$.plan.resultsPrefix' },
      });
    }
    // Apart from the function names, the very definition the template deploys.
    const deployed = stateMachineDefinition(templateOf()) as unknown as StateMachineDefinition;
    for (const state of Object.values(allStates(local as never))) {
      if (state.Type === 'Task') state.Resource = 'TOKEN';
      for (const field of ['ItemReader', 'ResultWriter'] as const) {
        const io = state[field] as { Resource: string; Parameters: { Bucket: string } } | undefined;
        if (io === undefined) continue;
        io.Resource = io.Resource.replace('arn:aws:', 'arn:TOKEN:');
        io.Parameters.Bucket = 'TOKEN';
      }
    }
    expect(local).toEqual(deployed);
  });
});
