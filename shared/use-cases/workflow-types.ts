import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MapRunOutputSchema } from '../schema/map-run.ts';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a real calendar date');

/**
 * A direct on-demand invocation: exactly `{"snapshotDate": "YYYY-MM-DD"}`, or with `"rerun": true`
 * for a re-run a person asks for (never folded into an earlier start); anything else is refused.
 */
export const OnDemandRequestSchema = z
  .object({ snapshotDate: isoDate, rerun: z.boolean().optional() })
  .strict();
export type OnDemandRequest = z.infer<typeof OnDemandRequestSchema>;

/**
 * What starts a run: a date (on demand, re-run, backfill) or the nightly schedule's fire time. A
 * date may name the previous tape's date to compare against (default: the day before); it must
 * be earlier than the run's.
 */
export const StartRunEventSchema = z.union([
  z
    .object({
      snapshotDate: isoDate,
      previousSnapshotDate: isoDate.optional(),
      trigger: z.enum(['on-demand', 'rerun', 'backfill', 's3-arrival', 'local']).default('on-demand'),
      /**
       * Where a local run's date came from (`risk-audit score --date`, or the date most of the
       * tape's first rows carry), for the run-date check's sentence; default: the S3 partition.
       */
      dateSource: z.string().min(1).max(120).optional(),
    })
    .strict()
    .refine((e) => e.previousSnapshotDate === undefined || e.previousSnapshotDate < e.snapshotDate, {
      message: 'previousSnapshotDate must be before snapshotDate',
      path: ['previousSnapshotDate'],
    }),
  z.object({ trigger: z.literal('schedule'), scheduledTime: z.string().datetime({ offset: true }) }).strict(),
]);
export type StartRunEvent = z.input<typeof StartRunEventSchema>;

export const ByteRangeSchema = z.object({
  start: z.number().int().nonnegative(),
  end: z.number().int().positive(),
});

/** One unit of the map step: a part file, or a row-aligned byte range of one large part. */
export const ShardSpecSchema = z.object({
  runId: z.string().min(1),
  snapshotDate: isoDate,
  previousSnapshotDate: isoDate.nullable(),
  index: z.number().int().nonnegative(),
  partKey: z.string().min(1),
  /** Size of the whole part in bytes (Parquet reads and byte ranges need it). */
  partBytes: z.number().int().nonnegative(),
  range: ByteRangeSchema.optional(),
  /** Loan-id buckets the shard splits its score file into (a power of two; see `scoreBucketsFor`). */
  scoreBuckets: z.number().int().positive().default(1),
  /**
   * The tape's currency (`peekTapeCurrency`) when it is not CNY: rows in another are quarantined.
   * Absent for a CNY tape, so that a plan of many shards stays small (Step Functions' state limit).
   */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  /**
   * For a re-run of a shard that holds loan ids an earlier shard already had: the artifact
   * (KEYS.shardEarlierIds) of those ids' hashes. The shard quarantines its rows of them as
   * repeats (DUPLICATE_LOAN_ID), as one pass over the whole tape would.
   */
  earlierIdsKey: z.string().min(1).optional(),
  /**
   * Present when the loan-id buckets count drift from the previous date's score files: the shard
   * then reads no previous index (its memory does not grow with the book).
   */
  driftInBuckets: z.literal(true).optional(),
});
export type ShardSpec = z.infer<typeof ShardSpecSchema>;

/** The execution a step runs in, from the context object (`$$.Execution.Name`, `$$.Execution.StartTime`). */
export const ExecutionRefSchema = z.object({
  name: z.string().min(1).max(80),
  startTime: z.string().datetime({ offset: true }),
});
export type ExecutionRef = z.infer<typeof ExecutionRefSchema>;

/** Input of the prepare step: the execution's start event and the execution itself (its run id derives from it). */
export const PrepareEventSchema = z
  .object({ start: StartRunEventSchema, execution: ExecutionRefSchema })
  .strict();
export type PrepareEvent = z.input<typeof PrepareEventSchema>;

/**
 * The run id of an execution: it sorts by start time and names the date (`2026-11-25T063012Z-3fa9c1`),
 * and depends only on the execution (its name and start time), so a retried prepare, the failure
 * step and the execution's status-change event all name the same run.
 */
export function runIdFor(snapshotDate: string, execution: ExecutionRef): string {
  const stamp = new Date(execution.startTime).toISOString().replace(/[-:]/g, '').slice(9, 15);
  const tag = createHash('sha256').update(execution.name).digest('hex').slice(0, 6);
  return `${snapshotDate}T${stamp}Z-${tag}`;
}

export { type PlannedPart, PlannedPartSchema, PlannedPartsSchema } from '../schema/artifacts.ts';

/** A date's score files: the run that wrote them and their loan-id buckets (its scores manifest). */
const DateScoresSchema = z.object({
  runId: z.string().min(1),
  buckets: z.number().int().positive(),
});

/** A second pass of the first map: where the first pass's shard results are kept, and how many shards the run has. */
const SettlingSchema = z.object({ outcomesKey: z.string().min(1), shards: z.number().int().positive() });

/**
 * The plan the prepare step hands to the map and finalize steps. Its size does not grow with the
 * tape: the parts as listed and the shards (the first map's items) are objects in S3.
 */
export const RunPlanSchema = z.object({
  runId: z.string().min(1),
  snapshotDate: isoDate,
  previousSnapshotDate: isoDate.nullable(),
  /** The tape's currency, read from its first rows (`peekTapeCurrency`). */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('CNY'),
  trigger: z.string(),
  /** Where the run's date came from, when not the S3 partition (see StartRunEvent). */
  dateSource: z.string().optional(),
  startedAt: z.string(),
  /** The tape's parts as listed (PlannedParts, a JSON array) and how many. */
  partsKey: z.string().min(1),
  partCount: z.number().int().nonnegative(),
  /** The first map's items (ShardSpecs, a JSON array its ItemReader reads) and how many. */
  shardsKey: z.string().min(1),
  shardCount: z.number().int().nonnegative(),
  /** Where both maps export their results (their ResultWriter's prefix). */
  resultsPrefix: z.string().min(1),
  /** Loan-id buckets of the date's score files: the merge map's items (1 below SCORE_BUCKET_BYTES of tape). */
  scoreBuckets: z.number().int().positive().default(1),
  /** Checks that could not run while preparing (e.g. an unreadable previous tape): findings at finalize. */
  warnings: z.array(z.object({ code: z.string(), message: z.string() })).default([]),
  /**
   * Present on the second pass of the first map, which scores again only the shards holding loan
   * ids an earlier shard had (`shardsKey` and `shardCount` then name those): where the first
   * pass's shard results are kept, and how many shards the run has.
   */
  settling: SettlingSchema.optional(),
  /**
   * The previous date's score files, when they hold exactly the loans of the previous tape's
   * drift index (the run that wrote both, on a tape unchanged since): the loan-id buckets then
   * count drift from their join with today's scores, and no shard reads the index. Absent, the
   * shards count drift from the index (first nights, a previous tape changed since its run).
   */
  driftFromScores: DateScoresSchema.extend({
    /** The loans its manifest counts: the buckets' previous loans must add up to them. */
    loans: z.number().int().nonnegative(),
  }).optional(),
});
export type RunPlan = z.infer<typeof RunPlanSchema>;

export const ShardResultSchema = z.object({
  index: z.number().int().nonnegative(),
  partialKey: z.string().min(1),
  rowsRead: z.number().int().nonnegative(),
  rowsQuarantined: z.number().int().nonnegative(),
});
export type ShardResult = z.infer<typeof ShardResultSchema>;

/** Step Functions' caught error (`{ Error, Cause }`), as a Catch writes it. */
export const CaughtErrorSchema = z
  .object({ Error: z.string().optional(), Cause: z.string().optional() })
  .passthrough();
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

/** A map item that failed after its retries, caught inside the map: the step after the map fails the run with it. */
export const FailedShardSchema = z.object({
  failed: z.literal(true),
  index: z.number().int().nonnegative(),
  error: CaughtErrorSchema,
});
export type FailedShard = z.infer<typeof FailedShardSchema>;

/** What a shard's child execution returns: its result, or its error caught inside the map. */
export const ShardOutcomeSchema = z.union([ShardResultSchema, FailedShardSchema]);

/** Input of the merge step: the plan and where the first map exported every shard's result (some may have failed). */
export const MergeEventSchema = z.object({
  plan: RunPlanSchema,
  shardResults: MapRunOutputSchema,
});
export type MergeEvent = z.infer<typeof MergeEventSchema>;

/**
 * One item of the second map: the loans whose id hashes to `bucket` (of `buckets`), merged from
 * every shard's file of that bucket and joined with the previous date's loans of that bucket.
 */
export const BucketSpecSchema = z.object({
  runId: z.string().min(1),
  snapshotDate: isoDate,
  previousSnapshotDate: isoDate.nullable(),
  bucket: z.number().int().nonnegative(),
  buckets: z.number().int().positive(),
  /** Number of shards (their score files of this bucket are read in shard order). */
  shards: z.number().int().nonnegative(),
  /**
   * The previous date's score files (its scores manifest): the run that wrote them and their
   * buckets; null when there is no previous date or it has no score manifest (this run is then
   * the book's baseline).
   */
  previousScores: DateScoresSchema.nullable(),
  /** Present when the bucket counts drift from its join with `previousScores` (RunPlan.driftFromScores). */
  drift: z.literal(true).optional(),
  /** What every bucket needs from the merged shards (borrower-level rule hits, quarantined ids). */
  contextKey: z.string().min(1),
});
export type BucketSpec = z.infer<typeof BucketSpecSchema>;

/** What the merge step hands on: the audit's draft and the buckets to merge. */
export const MergedRunSchema = z.object({
  draftKey: z.string().min(1),
  /** The second map's items (BucketSpecs, a JSON array its ItemReader reads). */
  bucketsKey: z.string().min(1),
  /**
   * Present when the buckets count drift: the draft is then the audit before drift
   * (AuditBeforeDriftSchema), which finalize completes with the buckets' counts.
   */
  driftInBuckets: z.literal(true).optional(),
  /** Milliseconds per part of the merge step. */
  timings: z.record(z.string(), z.number()).default({}),
});
export type MergedRun = z.infer<typeof MergedRunSchema>;

/**
 * What merge-audit returns when shards hold loan ids an earlier shard already had: the plan's
 * fields for a second pass of the first map over those shards only (merged into `$.plan` by the
 * workflow's SettleRepeats state), after which merge-audit runs again.
 */
export const SettleRequestSchema = z.object({
  settle: z.object({
    shardsKey: z.string().min(1),
    shardCount: z.number().int().positive(),
    settling: SettlingSchema,
  }),
});
export type SettleRequest = z.infer<typeof SettleRequestSchema>;

export const BucketResultSchema = z.object({
  bucket: z.number().int().nonnegative(),
  resultKey: z.string().min(1),
  loans: z.number().int().nonnegative(),
  changes: z.number().int().nonnegative(),
});
export type BucketResult = z.infer<typeof BucketResultSchema>;

/** A loan-id bucket that failed after its retries (see FailedShardSchema). */
export const FailedBucketSchema = z.object({
  failed: z.literal(true),
  bucket: z.number().int().nonnegative(),
  error: CaughtErrorSchema,
});
export type FailedBucket = z.infer<typeof FailedBucketSchema>;

/** What a bucket's child execution returns: its result, or its error caught inside the map. */
export const BucketOutcomeSchema = z.union([BucketResultSchema, FailedBucketSchema]);

/** Input of the finalize step: the plan, the merge step's output and where the second map exported every bucket's result. */
export const FinalizeEventSchema = z.object({
  plan: RunPlanSchema,
  merged: MergedRunSchema,
  bucketResults: MapRunOutputSchema,
});
export type FinalizeEvent = z.infer<typeof FinalizeEventSchema>;

export const RunOutcomeSchema = z.object({
  runId: z.string(),
  snapshotDate: isoDate,
  status: z.enum(['ok', 'partial', 'failed']),
  auditKey: z.string(),
});
export type RunOutcome = z.infer<typeof RunOutcomeSchema>;

/**
 * Input of the failure step: whatever of the run is known (the start event's fields, the plan once
 * prepared), the execution (`$.execution`, added before the step) and Step Functions' caught error.
 */
export const FailureEventSchema = z.object({
  snapshotDate: isoDate.optional(),
  scheduledTime: z.string().optional(),
  objectKey: z.string().optional(),
  trigger: z.string().optional(),
  runId: z.string().optional(),
  plan: RunPlanSchema.optional(),
  execution: ExecutionRefSchema.optional(),
  error: CaughtErrorSchema,
});
export type FailureEvent = z.infer<typeof FailureEventSchema>;

/** Input of the delivery-failure step: the finished run's outcome and the report step's caught error. */
export const DeliveryFailureEventSchema = z.object({
  deliveryFailed: z.object({ outcome: RunOutcomeSchema, error: CaughtErrorSchema }),
});
export type DeliveryFailureEvent = z.infer<typeof DeliveryFailureEventSchema>;

/** The statuses of an execution's end that the status-change rule sends (SUCCEEDED is not news). */
export const UNCAUGHT_END_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * EventBridge's "Step Functions Execution Status Change" event (source `aws.states`): `detail`
 * holds what DescribeExecution returns, dates as epoch milliseconds, the input as a JSON string.
 */
export const ExecutionStatusChangeSchema = z
  .object({
    'detail-type': z.literal('Step Functions Execution Status Change'),
    source: z.literal('aws.states'),
    detail: z
      .object({
        executionArn: z.string().min(1),
        stateMachineArn: z.string().min(1),
        name: z.string().min(1),
        status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
        startDate: z.number().int().nonnegative(),
        stopDate: z.number().int().nonnegative().nullable().optional(),
        input: z.string().nullable().optional(),
        error: z.string().nullable().optional(),
        cause: z.string().nullable().optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

/** What the notify-failure function is given: a workflow failure, a failed delivery, or an execution's end. */
export const NotifyEventSchema = z.union([
  ExecutionStatusChangeSchema,
  DeliveryFailureEventSchema,
  FailureEventSchema,
]);
export type NotifyEvent = z.infer<typeof NotifyEventSchema>;

/** An execution's name: the date and trigger first, so the console lists runs by date (unique by time). */
export function executionNameFor(input: { snapshotDate: string; trigger: string }, now = new Date()): string {
  return `${input.snapshotDate}-${input.trigger}-${now.getTime().toString(36)}`.slice(0, 80);
}
