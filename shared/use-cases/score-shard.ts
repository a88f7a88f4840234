import { decodeIdHashes } from '../domain/engine/id-hashes.ts';
import {
  decodePreviousIndex,
  PreviousIndexError,
  type PreviousTape,
} from '../domain/engine/previous-tape.ts';
import { auditShard } from '../domain/engine/shard-audit.ts';
import { policyInForce } from '../domain/policy/resolve.ts';
import { QuarantineStreamWriter } from '../domain/tape/quarantine-stream.ts';
import { DEFAULT_CURRENCY } from '../domain/tape/row-validator.ts';
import { TapeUnreadableError } from '../errors.ts';
import type { TapePartInput } from '../ports/tape-source.ts';
import type { StoredPartial } from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps } from './deps.ts';
import type { ShardResult, ShardSpec } from './workflow-types.ts';

/** What the prepare step stores beside the previous tape's index (encodePreviousIndex's extra). */
/** A shard's output as stored in S3 between the map and merge steps (its schema: StoredPartialSchema). */
export type { PreviousIndexExtra, StoredPartial } from '../schema/artifacts.ts';

const previousCache = new Map<string, PreviousTape>();

async function previousIndex(shard: ShardSpec, deps: AuditDeps): Promise<PreviousTape | null> {
  // The loan-id buckets count drift from the two dates' score files: no index to load.
  if (shard.previousSnapshotDate === null || shard.driftInBuckets === true) return null;
  const key = KEYS.previousIndex(shard.snapshotDate, shard.runId);
  const cached = previousCache.get(key);
  if (cached) return cached;
  const bytes = await deps.artifacts.get(key);
  if (bytes === null) return null;
  let index: PreviousTape;
  try {
    index = decodePreviousIndex(bytes).tape;
  } catch (error) {
    if (error instanceof PreviousIndexError)
      throw new TapeUnreadableError(
        `the previous date's drift index ${key} cannot be read: ${error.message}`,
        {
          cause: error,
        },
      );
    throw error;
  }
  previousCache.clear(); // a warm Lambda keeps only the current run's index
  previousCache.set(key, index);
  return index;
}

/**
 * The hashes of the loan ids earlier shards hold, as [hi, lo] pairs, when the shard is given them
 * (a re-run of a shard with ids an earlier one had); undefined otherwise.
 */
async function earlierIds(shard: ShardSpec, deps: AuditDeps): Promise<Uint32Array | undefined> {
  const key = shard.earlierIdsKey;
  if (key === undefined) return undefined;
  const what = `the loan-id hashes of shard ${shard.index}'s earlier shards`;
  const bytes = await deps.artifacts.get(key);
  if (bytes === null) throw new Error(`${what} are missing (${key})`);
  return decodeIdHashes(bytes, `${what} (${key})`);
}

/**
 * Step 2, once per shard: streams the shard's rows through validation and scoring and writes
 * its mergeable partial and quarantined rows for the merge step, and its sorted scores (one file
 * per loan-id bucket) for the buckets' merges.
 */
export async function scoreShard(shard: ShardSpec, deps: AuditDeps): Promise<ShardResult> {
  const [loaded, mapping, previous, earlier] = await Promise.all([
    deps.policy(),
    deps.mapping(),
    previousIndex(shard, deps),
    earlierIds(shard, deps),
  ]);
  // Rules off on the tape's date, for the pack's lender or in the tape's currency are off, the
  // same in every shard and at finalize.
  const currency = shard.currency ?? DEFAULT_CURRENCY;
  const policy = policyInForce(loaded, shard.snapshotDate, currency);
  const input: TapePartInput = {
    key: shard.partKey,
    bytes: shard.partBytes,
    open: (range) => deps.tapes.open(shard.partKey, range),
    ...(shard.range ? { range: shard.range } : {}),
  };
  // Quarantined rows stream to S3 while the shard is read: memory stays flat however many.
  const quarantineKey = KEYS.partialQuarantine(shard.snapshotDate, shard.runId, shard.index);
  const quarantine = new QuarantineStreamWriter(false);
  const uploaded = deps.artifacts.putStream(quarantineKey, quarantine, 'text/csv; charset=utf-8');
  uploaded.catch((error) => quarantine.abort(error));
  let result: Awaited<ReturnType<typeof auditShard>>;
  try {
    result = await auditShard(deps.tapeDecoder, [input], {
      snapshotDate: shard.snapshotDate,
      currency,
      mapping,
      policy,
      previous,
      keepScores: true,
      scoreBuckets: shard.scoreBuckets,
      keepIndexEntries: true,
      earlierIds: earlier,
      quarantine,
    });
  } finally {
    await quarantine.close();
  }
  await uploaded;
  // One file per loan-id bucket (KEYS.partialScores), each read by that bucket's merge. Level 1:
  // the files live only until the merge.
  for (const [bucket, scores] of result.scores.entries()) {
    const key = KEYS.partialScores(shard.snapshotDate, shard.runId, shard.index, bucket);
    await deps.artifacts.put(key, await deps.gzip.gzip(scores.bytes(), 1), 'application/gzip');
  }
  const indexEntriesKey = KEYS.partialIndexEntries(shard.snapshotDate, shard.runId, shard.index);
  const { entries } = result.indexEntries;
  await deps.artifacts.put(
    indexEntriesKey,
    new Uint8Array(entries.buffer, entries.byteOffset, entries.byteLength),
    'application/octet-stream',
  );
  const partialKey = KEYS.partial(shard.snapshotDate, shard.runId, shard.index);
  const stored: StoredPartial = {
    partial: result.partial,
    intake: result.intake,
    quarantineKey,
    indexEntriesKey,
    quarantinedIdHashes: [...result.quarantinedIdHashes].map((h) => h.toString(16).padStart(16, '0')),
  };
  await deps.artifacts.put(partialKey, JSON.stringify(stored), 'application/json');
  deps.metrics.count('LoansScored', result.intake.rowsValid);
  deps.metrics.count('RowsQuarantined', result.intake.rowsQuarantined);
  return {
    index: shard.index,
    partialKey,
    rowsRead: result.intake.rowsRead,
    rowsQuarantined: result.intake.rowsQuarantined,
  };
}
