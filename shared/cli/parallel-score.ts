import type { TapePartInput, TapeScanResult } from '../adapters/tape/scan-tape.ts';
import { withBorrowerTable } from '../domain/engine/accumulator.ts';
import type { TransferredBorrowerTable } from '../domain/engine/borrower-table.ts';
import type { PreviousTape } from '../domain/engine/previous-tape.ts';
import { mergePreviousRanges, type PreviousRange, type ShardAudit } from '../use-cases/audit-engine.ts';
import { planShards } from '../use-cases/prepare-run.ts';
import type { DigestJob, PreviousJob, ShardJob, WorkerJob } from './shard-jobs.ts';
import type { WorkerPool } from './worker-pool.ts';

/** Splits a local tape into about `shards` row-aligned byte ranges (at least 64 KiB each). */
export function planLocalShards(parts: readonly TapePartInput[], shards: number, snapshotDate: string) {
  const total = parts.reduce((n, p) => n + (p.bytes ?? 0), 0);
  return planShards(
    parts.map((p) => ({ key: p.key, bytes: p.bytes ?? 0, lastModified: null })),
    { runId: 'local', snapshotDate, previousSnapshotDate: null, scoreBuckets: 1 },
    Math.max(64 * 1024, Math.ceil(total / shards)),
  );
}

/** The part, byte range, date and mapping of each planned range: what every job on a range carries. */
function rangeJobs(
  parts: readonly TapePartInput[],
  count: number,
  snapshotDate: string,
  mappingFile: string | undefined,
) {
  return planLocalShards(parts, count, snapshotDate).map((s) => ({
    key: s.partKey,
    bytes: s.partBytes,
    ...(s.range ? { range: s.range } : {}),
    snapshotDate,
    ...(mappingFile ? { mappingFile } : {}),
  }));
}

type ShardOutput = Pick<
  ShardAudit,
  'partial' | 'intake' | 'idHashes' | 'quarantinedIdHashes' | 'indexEntries'
>;

/**
 * Reads the previous day's tape in about `ranges` row-aligned byte ranges on the pool and merges
 * them, in tape order, into one index in shared memory (equal to one pass; see
 * `mergePreviousRanges`).
 */
export async function loadPreviousInWorkers(
  pool: WorkerPool<WorkerJob>,
  parts: readonly TapePartInput[],
  options: { ranges: number; snapshotDate: string; mappingFile?: string | undefined },
): Promise<{ previous: PreviousTape; intake: TapeScanResult }> {
  const jobs: PreviousJob[] = rangeJobs(parts, options.ranges, options.snapshotDate, options.mappingFile).map(
    (base) => ({ kind: 'previous', ...base }),
  );
  const ranges = await pool.map<PreviousRange>(jobs);
  return mergePreviousRanges(options.snapshotDate, ranges);
}

/**
 * Audits a local tape in `shards` row-aligned byte ranges on the pool, the local counterpart of
 * the Distributed Map. Returns the shards in order, and the whole-file digests of the parts that
 * were split: hashed on the pool once the shards are done, while the caller merges them.
 */
export async function auditInWorkers(
  pool: WorkerPool<WorkerJob>,
  parts: readonly TapePartInput[],
  options: {
    shards: number;
    snapshotDate: string;
    previous: PreviousTape | null;
    mappingFile?: string | undefined;
    policyFile?: string | undefined;
    /** Keep each shard's drift-index entries (see `carriedIndex`). */
    keepIndexEntries?: boolean;
    /** The file of shard i's quarantined rows (no header), written by its thread as it reads. */
    quarantinePath: (shard: number) => string;
    /** Called with each shard as soon as it is done (to merge while the others still run). */
    onShard?: (shard: ShardOutput) => void;
  },
): Promise<{ shards: ShardOutput[]; digests: Promise<Map<string, string>> }> {
  // Shared memory when the index was merged here: every worker reads the same table, no copy.
  const previous = options.previous?.toTransfer() ?? null;
  const jobs: ShardJob[] = rangeJobs(parts, options.shards, options.snapshotDate, options.mappingFile).map(
    (base, i) => ({
      kind: 'score',
      ...base,
      ...(options.policyFile ? { policyFile: options.policyFile } : {}),
      previous,
      keepIndexEntries: options.keepIndexEntries === true,
      quarantinePath: options.quarantinePath(i),
    }),
  );
  const shards = new Array<ShardOutput>(jobs.length);
  const scored = pool.map<ShardOutput & { table: TransferredBorrowerTable }>(jobs, ({ table, ...s }, i) => {
    shards[i] = { ...s, partial: withBorrowerTable(s.partial, table) };
    options.onShard?.(shards[i]);
  });
  // Queued behind the shards: the first thread to finish its shards hashes while the others score.
  const split = [...new Set(jobs.filter((j) => j.range).map((j) => j.key))];
  const digests = pool
    .map<string>(split.map((key): DigestJob => ({ kind: 'digest', key })))
    .then((hex) => new Map(split.map((key, i) => [key, hex[i]!])));
  // Not awaited here: the caller merges meanwhile. A failure still surfaces when it awaits.
  digests.catch(() => undefined);
  await scored;
  return { shards, digests };
}
