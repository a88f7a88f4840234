import { createHash } from 'node:crypto';
import type { RuntimeConfig } from '../config.ts';
import { addDays, auditDateForSchedule } from '../domain/calendar.ts';
import { loadPreviousTape } from '../domain/engine/previous-scan.ts';
import { encodePreviousIndex } from '../domain/engine/previous-tape.ts';
import { peekTapeCurrency } from '../domain/engine/shard-audit.ts';
import { type ConfiguredMemory, estimateLoans, memoryRefusal, type PlanSize } from '../domain/plan/memory.ts';
import { noTrendFigures } from '../domain/report/trend.ts';
import { scoreBucketsFor } from '../domain/store/score-buckets.ts';
import { SCORE_FILE_VERSION } from '../domain/store/score-file.ts';
import { type ColumnMapping, mappingReadsWholeParts } from '../domain/tape/mapping.ts';
import { DEFAULT_CURRENCY, VALIDATION_RULES_VERSION } from '../domain/tape/row-validator.ts';
import { partInputs } from '../domain/tape/scan.ts';
import { formatFromKey } from '../domain/tape/scan-options.ts';
import { PlanMemoryError, TapeMissingError, toSentence, WorkflowLimitError } from '../errors.ts';
import type { TapePart } from '../ports/tape-source.ts';
import { type CarriedIndexInfo, CarriedIndexInfoSchema, ScoreManifestSchema } from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps, RunSummary } from './deps.ts';
import { readOptionalArtifact } from './read-artifact.ts';
import type { PreviousIndexExtra } from './score-shard.ts';
import {
  type PlannedPart,
  type PrepareEvent,
  type RunPlan,
  runIdFor,
  type ShardSpec,
  type StartRunEvent,
} from './workflow-types.ts';

export type { CarriedIndexInfo } from '../schema/artifacts.ts';

/** A stable fingerprint of the column mapping in use (none: canonical headers). */
export function mappingFingerprint(mapping: ColumnMapping | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify(mapping ?? null))
    .digest('hex');
}

/** A listing in the form a run plan keeps it. */
function listedParts(parts: readonly TapePart[]): PlannedPart[] {
  return parts.map((p) => ({
    key: p.key,
    bytes: p.bytes,
    lastModified: p.lastModified?.toISOString() ?? null,
  }));
}

/**
 * Whether a carried index still describes the tape: the same parts (key, size, modification time,
 * in order) read with the same column mapping.
 */
export function carriedIndexApplies(
  info: CarriedIndexInfo,
  parts: readonly TapePart[],
  mapping: ColumnMapping | undefined,
): boolean {
  return (
    (info.rules ?? 1) === VALIDATION_RULES_VERSION &&
    info.mapping === mappingFingerprint(mapping) &&
    JSON.stringify(info.parts) === JSON.stringify(listedParts(parts))
  );
}

/**
 * The previous date's carried index (written by that date's own run) when it still describes the
 * previous tape: its tape parts (key, size, modification time), the column mapping and the
 * row-validity rules unchanged. Null when there is none or the tape changed since.
 */
async function applicableCarriedIndex(
  previousDate: string,
  previousParts: readonly TapePart[],
  mapping: ColumnMapping | undefined,
  deps: AuditDeps,
): Promise<CarriedIndexInfo | null> {
  const info = await readOptionalArtifact(
    deps.artifacts,
    KEYS.carriedIndexInfo(previousDate),
    CarriedIndexInfoSchema,
    "previous date's drift index description",
  );
  if (info === null) return null;
  if (!carriedIndexApplies(info, previousParts, mapping)) {
    deps.logger.info('previous tape changed since its run: reading it again', { previousDate });
    return null;
  }
  return info;
}

/**
 * The previous date's score files when the loan-id buckets can count drift from them: the run
 * that wrote the applicable carried index also wrote the date's score files (its manifest names
 * it), in this release's format, so they hold exactly the index's loans. Undefined otherwise:
 * the shards then count drift from the index.
 */
export async function driftScoresOf(
  previousDate: string,
  carried: CarriedIndexInfo | null,
  deps: Pick<AuditDeps, 'artifacts'>,
): Promise<RunPlan['driftFromScores']> {
  if (carried?.runId === undefined) return undefined;
  const manifest = await readOptionalArtifact(
    deps.artifacts,
    KEYS.scoresManifest(previousDate),
    ScoreManifestSchema,
    "previous date's score manifest",
  );
  if (manifest === null || manifest.runId !== carried.runId || manifest.format !== SCORE_FILE_VERSION)
    return undefined;
  return { runId: manifest.runId, buckets: manifest.buckets, loans: manifest.loans };
}

/**
 * A part's size as uncompressed CSV, for sizing the loan-id buckets: gzip and Parquet parts hold
 * about 4x their bytes (the 1M-loan bench tape: 167 MB of CSV, 44 MB gzipped).
 */
export function tapeBytesEstimate(part: Pick<TapePart, 'key' | 'bytes'>): number {
  return isSplittable(part.key) ? part.bytes : part.bytes * 4;
}

/** Whether a part can be split into row-aligned byte ranges: uncompressed CSV or JSON Lines only. */
export function isSplittable(key: string): boolean {
  const format = formatFromKey(key);
  return (format === 'csv' || format === 'jsonl') && !/\.gz(ip)?$/i.test(key);
}

/**
 * Splits the parts into shards: big uncompressed CSV/JSONL parts into row-aligned byte ranges,
 * unless `wholeParts` (a mapping that reads each part whole: see mappingReadsWholeParts).
 */
export function planShards(
  parts: readonly TapePart[],
  base: Pick<ShardSpec, 'runId' | 'snapshotDate' | 'previousSnapshotDate' | 'scoreBuckets' | 'currency'>,
  shardBytes: number,
  wholeParts = false,
): ShardSpec[] {
  const shards: ShardSpec[] = [];
  for (const part of parts) {
    if (wholeParts || !isSplittable(part.key) || part.bytes <= shardBytes) {
      shards.push({ ...base, index: shards.length, partKey: part.key, partBytes: part.bytes });
      continue;
    }
    const n = Math.ceil(part.bytes / shardBytes);
    const step = Math.ceil(part.bytes / n);
    for (let start = 0; start < part.bytes; start += step) {
      shards.push({
        ...base,
        index: shards.length,
        partKey: part.key,
        partBytes: part.bytes,
        range: { start, end: Math.min(part.bytes, start + step) },
      });
    }
  }
  return shards;
}

/** Step Functions' limit on an execution's state. */
export const STATE_LIMIT_BYTES = 256 * 1024;
/**
 * Room the rest of the state takes besides the plan: the start event, the maps' exported-results
 * references, the merge step's output (draft and items keys, timings), the outcome, an error
 * trimmed to its sentence (about 2 KB measured with the test's fullest state; 16 KiB kept).
 */
const STATE_SLACK_BYTES = 16 * 1024;

/**
 * About how big the workflow's state grows with this plan. It no longer grows with the tape: the
 * parts and shards are objects in S3, the maps read their items from there and export their
 * results there, so only the plan's own fields (and its warnings) count.
 */
export function workflowStateBytes(plan: RunPlan): number {
  return Buffer.byteLength(JSON.stringify(plan)) + STATE_SLACK_BYTES;
}

/** Refuses, in one sentence, a plan whose workflow state would pass Step Functions' limit. */
export function assertPlanFits(plan: RunPlan): void {
  const bytes = workflowStateBytes(plan);
  if (bytes <= STATE_LIMIT_BYTES) return;
  throw new WorkflowLimitError(
    `the plan of the tape's ${plan.partCount} part(s) is more than one audit run can carry (its workflow state would be about ${Math.round(bytes / 1024)} KB; Step Functions allows ${STATE_LIMIT_BYTES / 1024} KB)`,
  );
}

/** The memory of each planned step's function, as the deployment gives it (none locally: nothing checked). */
export function configuredMemory(config: RuntimeConfig): ConfiguredMemory {
  const given = {
    'score-shard': config.SHARD_MEMORY_MB,
    'merge-audit': config.MERGE_AUDIT_MEMORY_MB,
    'merge-scores': config.MERGE_SCORES_MEMORY_MB,
    'finalize-audit': config.FINALIZE_MEMORY_MB,
  };
  return Object.fromEntries(Object.entries(given).filter(([, mb]) => mb !== undefined));
}

/**
 * The plan's size as the memory model reads it: its largest shard (a compressed part as about 4x
 * its bytes), the date's loans at the lender's own bytes per row when the previous date's run
 * measured them, and the loans of the previous date's drift index the shards load (its run's count,
 * else an estimate from its tape; none without a previous tape or run, or when the loan-id buckets
 * count drift).
 */
export function planSize(opts: {
  shards: readonly ShardSpec[];
  wholeParts: boolean;
  parts: readonly TapePart[];
  previousParts: readonly TapePart[];
  previousRun: Pick<RunSummary, 'rowsRead' | 'loanCount'> | null;
  scoreBuckets: number;
  /** The loan-id buckets count drift (RunPlan.driftFromScores): no shard loads the previous index. */
  driftInBuckets?: boolean;
}): PlanSize {
  let largestShardBytes = 0;
  let largestShardWhole = false;
  for (const shard of opts.shards) {
    const bytes =
      shard.range === undefined
        ? tapeBytesEstimate({ key: shard.partKey, bytes: shard.partBytes })
        : shard.range.end - shard.range.start;
    if (bytes <= largestShardBytes) continue;
    largestShardBytes = bytes;
    largestShardWhole = shard.range === undefined && (opts.wholeParts || !isSplittable(shard.partKey));
  }
  const bytesOf = (parts: readonly TapePart[]) => parts.reduce((n, p) => n + tapeBytesEstimate(p), 0);
  const previousBytes = bytesOf(opts.previousParts);
  const rowsRead = opts.previousRun?.rowsRead ?? 0;
  const measured = previousBytes > 0 && rowsRead > 0 ? { tapeBytes: previousBytes, rowsRead } : null;
  return {
    largestShardBytes,
    largestShardWhole,
    loans: estimateLoans(bytesOf(opts.parts), measured),
    previousLoans:
      opts.driftInBuckets === true
        ? 0
        : (opts.previousRun?.loanCount ?? (previousBytes > 0 ? estimateLoans(previousBytes, measured) : 0)),
    scoreBuckets: opts.scoreBuckets,
  };
}

/** The record of a run that has just started. */
export function runningSummary(snapshotDate: string, runId: string, trigger: string, now: Date): RunSummary {
  return {
    snapshotDate,
    runId,
    status: 'running',
    trigger,
    startedAt: now.toISOString(),
    finishedAt: null,
    error: null,
    inputSha256: null,
    rowsRead: null,
    rowsQuarantined: null,
    loanCount: null,
    ...noTrendFigures(),
    overall: null,
    findings: null,
  };
}

/**
 * Step 1: resolves the as-of date and its tape, plans the shards, refuses a plan a step's function
 * has too little memory for, takes the date's lease (a second run of the same date stops here with
 * a clear message), records the run as running and builds the previous tape's drift index once for
 * every shard.
 */
export async function prepareRun(prepare: PrepareEvent, deps: AuditDeps): Promise<RunPlan> {
  const { config } = deps;
  const now = deps.now();
  const event: StartRunEvent = prepare.start;
  const snapshotDate =
    'scheduledTime' in event
      ? auditDateForSchedule(new Date(event.scheduledTime), config.TIMEZONE)
      : event.snapshotDate;
  const trigger = event.trigger ?? 'on-demand';
  const parts = await deps.tapes.listParts(snapshotDate);
  if (parts.length === 0) {
    deps.metrics.count('TapeMissing');
    throw new TapeMissingError(
      `no tape has landed for ${snapshotDate} (nothing under ${KEYS.tapePrefix(snapshotDate)})`,
    );
  }
  // The execution names the run: a retry of this step takes the same id (and so its own lease back).
  const runId = runIdFor(snapshotDate, prepare.execution);
  const scoreBuckets = scoreBucketsFor(
    parts.reduce((n, p) => n + tapeBytesEstimate(p), 0),
    config.SCORE_BUCKET_BYTES,
  );
  // The previous tape compared against: the one the start names, else the day before's.
  const previousDate =
    'previousSnapshotDate' in event && event.previousSnapshotDate !== undefined
      ? event.previousSnapshotDate
      : addDays(snapshotDate, -1);
  // One currency per tape, read from its first rows before any shard runs, so that every shard
  // quarantines the same rows.
  const currency = await peekTapeCurrency(deps.tapeDecoder, partInputs(deps.tapes, parts), {
    snapshotDate,
    mapping: await deps.mapping(),
  });
  const planned = planShards(
    parts,
    {
      runId,
      snapshotDate,
      previousSnapshotDate: previousDate,
      scoreBuckets,
      ...(currency === DEFAULT_CURRENCY ? {} : { currency }),
    },
    config.SHARD_BYTES,
    mappingReadsWholeParts(await deps.mapping()),
  );
  const previousParts = await deps.tapes.listParts(previousDate);
  const mapping = await deps.mapping();
  // Read before the lease: whether the previous date's index still applies, and so whether the
  // buckets count drift from its score files (then no shard loads the index). An unreadable
  // description fails the drift only (below), not the run.
  let carried: CarriedIndexInfo | null = null;
  let carriedError: unknown = null;
  try {
    carried = await applicableCarriedIndex(previousDate, previousParts, mapping, deps);
  } catch (error) {
    carriedError = error;
  }
  const driftFromScores = await driftScoresOf(previousDate, carried, deps);
  // Refused before the lease: a step that runs out of memory would fail the run midway.
  const memory = configuredMemory(config);
  if (Object.keys(memory).length > 0) {
    const size = planSize({
      shards: planned,
      wholeParts: mappingReadsWholeParts(mapping),
      parts,
      previousParts,
      previousRun: await deps.store.getRun(previousDate),
      scoreBuckets,
      driftInBuckets: driftFromScores !== undefined,
    });
    const refusal = memoryRefusal(size, memory);
    if (refusal !== null) throw new PlanMemoryError(refusal);
  }
  const listed = listedParts(parts);
  const keys = {
    partsKey: KEYS.runParts(snapshotDate, runId),
    shardsKey: KEYS.shardList(snapshotDate, runId),
    resultsPrefix: KEYS.mapResults(snapshotDate, runId),
  };
  await deps.store.acquireLease(snapshotDate, runId, config.LEASE_MINUTES * 60);
  try {
    // The previous date counts when its tape is there, or its run's drift index is (a tape
    // archived or removed since still leaves the index its run wrote).
    let previousSnapshotDate =
      previousParts.length > 0 || (await deps.artifacts.get(KEYS.carriedIndexInfo(previousDate))) !== null
        ? previousDate
        : null;
    await deps.store.recordRun(runningSummary(snapshotDate, runId, trigger, now));
    const warnings: RunPlan['warnings'] = [];
    let copied = false;
    if (previousSnapshotDate !== null) {
      try {
        if (carriedError !== null) throw carriedError;
        const indexKey = KEYS.previousIndex(snapshotDate, runId);
        copied = carried !== null && (await deps.artifacts.copy(KEYS.carriedIndex(previousDate), indexKey));
        if (copied) {
          deps.metrics.count('PreviousIndexCarried');
        } else {
          const { previous, intake } = await loadPreviousTape(
            deps.tapeDecoder,
            partInputs(deps.tapes, previousParts),
            {
              snapshotDate: previousSnapshotDate,
              mapping,
            },
          );
          await deps.artifacts.put(
            indexKey,
            encodePreviousIndex(previous, { intake } satisfies PreviousIndexExtra),
            'application/octet-stream',
          );
        }
      } catch (error) {
        // Drift needs the previous tape; without it the audit still runs, marked partial.
        warnings.push({
          code: 'PREVIOUS_TAPE_UNREADABLE',
          message: `drift not computed: ${toSentence(error)}`,
        });
        previousSnapshotDate = null;
      }
    }
    // The buckets count drift only against the index this run copied (a copy that found no
    // index, or a previous date without a tape, leaves the shards to it, or drift to none).
    const driftInBuckets = driftFromScores !== undefined && previousSnapshotDate !== null && copied;
    const plan: RunPlan = {
      runId,
      snapshotDate,
      previousSnapshotDate,
      currency,
      trigger,
      ...('dateSource' in event && event.dateSource !== undefined ? { dateSource: event.dateSource } : {}),
      startedAt: now.toISOString(),
      ...keys,
      partCount: listed.length,
      shardCount: planned.length,
      scoreBuckets,
      warnings,
      ...(driftInBuckets ? { driftFromScores } : {}),
    };
    // Refused before any shard runs: a run whose state Step Functions cannot carry would fail midway.
    assertPlanFits(plan);
    // The parts and the shards live in S3 (the first map's ItemReader reads the shards): the
    // state stays the same size whatever the tape's number of parts.
    await deps.artifacts.put(keys.partsKey, JSON.stringify(listed), 'application/json');
    await deps.artifacts.put(
      keys.shardsKey,
      JSON.stringify(
        planned.map(
          (shard): ShardSpec => ({
            ...shard,
            previousSnapshotDate,
            ...(driftInBuckets ? { driftInBuckets: true } : {}),
          }),
        ),
      ),
      'application/json',
    );
    return plan;
  } catch (error) {
    // Give the date back now (the failure step would too: it knows the run id from the execution).
    await deps.store.releaseLease(snapshotDate, runId).catch(() => undefined);
    throw error;
  }
}
