/**
 * The jobs of `risk-audit score` on a pool: a shard of the day's tape, a range of the previous
 * day's, and the digest of a file that was split.
 */
import { loadMapping, loadPolicy } from '../adapters/config-files.ts';
import { openLocalFile, sha256OfFile } from '../adapters/tape/local-tape-source.ts';
import { QuarantineFileWriter } from '../adapters/tape/quarantine-writer.ts';
import type { TapePartInput } from '../adapters/tape/scan-tape.ts';
import { splitBorrowerTable } from '../domain/engine/accumulator.ts';
import { PreviousTape, type TransferredPreviousTape } from '../domain/engine/previous-tape.ts';
import { policyInForce } from '../domain/policy/resolve.ts';
import { auditShard, loadPreviousRange } from '../use-cases/audit-engine.ts';

/** A byte range (or the whole) of one local tape file. */
interface LocalRange {
  key: string;
  bytes: number;
  range?: { start: number; end: number };
}

/** Score one shard of the day's tape. */
export interface ShardJob extends LocalRange {
  kind: 'score';
  snapshotDate: string;
  currency: string;
  mappingFile?: string;
  policyFile?: string;
  previous: TransferredPreviousTape | null;
  keepIndexEntries: boolean;
  /** The file this shard's quarantined rows are written to as found (no header; joined later). */
  quarantinePath: string;
}

/** Read one range of the previous day's tape into index entries. */
export interface PreviousJob extends LocalRange {
  kind: 'previous';
  snapshotDate: string;
  currency: string;
  mappingFile?: string;
}

/** The sha256 of a whole local file (a part that was split into ranges). */
export interface DigestJob {
  kind: 'digest';
  key: string;
}

/** What the main thread posts to a worker; the worker answers each with one message. */
export type WorkerJob = ShardJob | PreviousJob | DigestJob;

function partOf(job: LocalRange): TapePartInput {
  return {
    key: job.key,
    bytes: job.bytes,
    open: async (range) => openLocalFile(job.key, range),
    ...(job.range ? { range: job.range } : {}),
  };
}

/**
 * Runs one job on a worker thread (shard-worker-impl.ts). Returns the result and the buffers the
 * worker moves back with it.
 */
export async function runShardJob(job: WorkerJob): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  if (job.kind === 'digest') {
    return { result: await sha256OfFile(job.key), transfer: [] };
  }
  const mapping = await loadMapping(job.mappingFile);
  if (job.kind === 'previous') {
    const r = await loadPreviousRange([partOf(job)], {
      snapshotDate: job.snapshotDate,
      mapping,
      currency: job.currency,
    });
    return { result: r, transfer: [r.entries.buffer as ArrayBuffer] };
  }
  const policy = policyInForce(await loadPolicy(job.policyFile), job.snapshotDate, job.currency);
  const quarantine = new QuarantineFileWriter(job.quarantinePath, false);
  const result = await auditShard([partOf(job)], {
    snapshotDate: job.snapshotDate,
    currency: job.currency,
    mapping,
    policy,
    previous: job.previous === null ? null : PreviousTape.fromTransfer(job.previous),
    keepIdHashes: true,
    keepIndexEntries: job.keepIndexEntries,
    quarantine,
  }).finally(() => quarantine.close());
  // The borrower table goes back as its own storage: moved, not packed, copied or base64-encoded.
  const { partial, table } = splitBorrowerTable(result.partial);
  return {
    result: {
      partial,
      table,
      intake: result.intake,
      idHashes: result.idHashes,
      quarantinedIdHashes: result.quarantinedIdHashes,
      indexEntries: result.indexEntries,
    },
    transfer: [
      result.indexEntries.entries.buffer as ArrayBuffer,
      result.idHashes.buffer as ArrayBuffer,
      result.quarantinedIdHashes.buffer as ArrayBuffer,
      table.buffer,
    ],
  };
}
