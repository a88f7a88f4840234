import { createHash } from 'node:crypto';
import { logger } from '../adapters/observability.ts';
import { partInputs } from '../adapters/tape/local-tape-source.ts';
import { formatFromKey } from '../adapters/tape/scan-tape.ts';
import { addDays, auditDateForSchedule } from '../domain/calendar.ts';
import { encodePreviousIndex } from '../domain/engine/previous-tape.ts';
import { noTrendFigures } from '../domain/report/trend.ts';
import { scoreBucketsFor } from '../domain/store/score-buckets.ts';
import { type ColumnMapping, mappingReadsWholeParts } from '../domain/tape/mapping.ts';
import { VALIDATION_RULES_VERSION } from '../domain/tape/row-validator.ts';
import { TapeMissingError, toSentence, WorkflowLimitError } from '../errors.ts';
import type { TapePart } from '../ports/tape-source.ts';
import { KEYS } from '../schema/tables.ts';
import { loadPreviousTape } from './audit-engine.ts';
import type { AuditDeps, RunSummary } from './deps.ts';
import type { PreviousIndexExtra } from './score-shard.ts';
import type { RunPlan, ShardSpec, StartRunEvent } from './workflow-types.ts';

/** What a date's carried drift index was built from (KEYS.carriedIndexInfo). */
export interface CarriedIndexInfo {
  /** The tape's parts as that run listed them. */
  parts: RunPlan['parts'];
  /** `mappingFingerprint` of the column mapping that read them. */
  mapping: string;
  /** VALIDATION_RULES_VERSION of the release that validated them (absent: version 1). */
  rules?: number;
}

/** A stable fingerprint of the column mapping in use (none: canonical headers). */
export function mappingFingerprint(mapping: ColumnMapping | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify(mapping ?? null))
    .digest('hex');
}

/** A listing in the form a run plan keeps it. */
function listedParts(parts: readonly TapePart[]): RunPlan['parts'] {
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
 * Reuses the previous date's carried index (written by that date's own run) as this run's
 * previous index when its tape parts (key, size, modification time), the column mapping and the
 * row-validity rules are unchanged: a server-side copy instead of reading and validating the whole previous tape.
 */
async function reuseCarriedIndex(
  previousDate: string,
  previousParts: readonly TapePart[],
  mapping: ColumnMapping | undefined,
  to: string,
  deps: AuditDeps,
): Promise<boolean> {
  const bytes = await deps.artifacts.get(KEYS.carriedIndexInfo(previousDate));
  if (bytes === null) return false;
  const info = JSON.parse(Buffer.from(bytes).toString('utf8')) as CarriedIndexInfo;
  if (!carriedIndexApplies(info, previousParts, mapping)) {
    logger.info('previous tape changed since its run: reading it again', { previousDate });
    return false;
  }
  return deps.artifacts.copy(KEYS.carriedIndex(previousDate), to);
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
  base: Pick<ShardSpec, 'runId' | 'snapshotDate' | 'previousSnapshotDate' | 'scoreBuckets'>,
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

/** Step Functions' limit on an execution's state (the largest state holds the plan and every result). */
export const STATE_LIMIT_BYTES = 256 * 1024;
/** Most bytes a shard's result, and a bucket's spec and result, add to the state (keys included). */
const SHARD_RESULT_BYTES = 200;
const BUCKET_BYTES = 700;
/** Room left for the rest of the state (merge timings, the outcome, an error). */
const STATE_SLACK_BYTES = 16 * 1024;

/** About how big the workflow's state grows with this plan: the plan, every shard's and bucket's result. */
export function workflowStateBytes(
  parts: RunPlan['parts'],
  shards: readonly ShardSpec[],
  scoreBuckets: number,
): number {
  return (
    Buffer.byteLength(JSON.stringify({ parts, shards })) +
    shards.length * SHARD_RESULT_BYTES +
    scoreBuckets * BUCKET_BYTES +
    STATE_SLACK_BYTES
  );
}

/** Refuses, in one sentence, a plan whose workflow state would pass Step Functions' limit. */
export function assertPlanFits(
  parts: RunPlan['parts'],
  shards: readonly ShardSpec[],
  scoreBuckets: number,
): void {
  const bytes = workflowStateBytes(parts, shards, scoreBuckets);
  if (bytes <= STATE_LIMIT_BYTES) return;
  throw new WorkflowLimitError(
    `the tape's ${parts.length} part(s) make ${shards.length} shards, more than one audit run can carry (its workflow state would be about ${Math.round(bytes / 1024)} KB; Step Functions allows ${STATE_LIMIT_BYTES / 1024} KB): deliver the tape in fewer, larger parts`,
  );
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

/** A run id that sorts by start time and names the date: `2026-11-25T0630Z-k3x9`. */
export function newRunId(snapshotDate: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(9, 15);
  return `${snapshotDate}T${stamp}Z-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Step 1: resolves the as-of date and its tape, takes the date's lease (a second run of the same
 * date stops here with a clear message), records the run as running, builds the previous tape's
 * drift index once for every shard, and plans the shards.
 */
export async function prepareRun(event: StartRunEvent, deps: AuditDeps): Promise<RunPlan> {
  const { config } = deps;
  const now = deps.now();
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
  const runId = newRunId(snapshotDate, now);
  const scoreBuckets = scoreBucketsFor(
    parts.reduce((n, p) => n + tapeBytesEstimate(p), 0),
    config.SCORE_BUCKET_BYTES,
  );
  // The previous tape compared against: the one the start names, else the day before's.
  const previousDate =
    'previousSnapshotDate' in event && event.previousSnapshotDate !== undefined
      ? event.previousSnapshotDate
      : addDays(snapshotDate, -1);
  const planned = planShards(
    parts,
    { runId, snapshotDate, previousSnapshotDate: previousDate, scoreBuckets },
    config.SHARD_BYTES,
    mappingReadsWholeParts(await deps.mapping()),
  );
  // Refused before the lease: a run whose state Step Functions cannot carry would fail midway.
  assertPlanFits(listedParts(parts), planned, scoreBuckets);
  await deps.store.acquireLease(snapshotDate, runId, config.LEASE_MINUTES * 60);
  try {
    const previousParts = await deps.tapes.listParts(previousDate);
    // The previous date counts when its tape is there, or its run's drift index is (a tape
    // archived or removed since still leaves the index its run wrote).
    let previousSnapshotDate =
      previousParts.length > 0 || (await deps.artifacts.get(KEYS.carriedIndexInfo(previousDate))) !== null
        ? previousDate
        : null;
    await deps.store.recordRun(runningSummary(snapshotDate, runId, trigger, now));
    const warnings: RunPlan['warnings'] = [];
    if (previousSnapshotDate !== null) {
      try {
        const mapping = await deps.mapping();
        const indexKey = KEYS.previousIndex(snapshotDate, runId);
        if (await reuseCarriedIndex(previousDate, previousParts, mapping, indexKey, deps)) {
          deps.metrics.count('PreviousIndexCarried');
        } else {
          const { previous, intake } = await loadPreviousTape(partInputs(deps.tapes, previousParts), {
            snapshotDate: previousSnapshotDate,
            mapping,
          });
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
    return {
      runId,
      snapshotDate,
      previousSnapshotDate,
      trigger,
      ...('dateSource' in event && event.dateSource !== undefined ? { dateSource: event.dateSource } : {}),
      startedAt: now.toISOString(),
      parts: listedParts(parts),
      shards: planned.map((shard) => ({ ...shard, previousSnapshotDate })),
      scoreBuckets,
      warnings,
    };
  } catch (error) {
    // The failure step cannot know this run's id: give the date back now.
    await deps.store.releaseLease(snapshotDate, runId).catch(() => undefined);
    throw error;
  }
}
