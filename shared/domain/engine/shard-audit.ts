import type { TapeDecoder, TapePartInput } from '../../ports/tape-source.ts';
import { CREDIT_SCORE_BANDS } from '../audit-result.ts';
import { isCoLent, purposeOf } from '../loan.ts';
import type { Policy } from '../policy/policy.ts';
import { bucketOfHash } from '../store/score-buckets.ts';
import { SortedScores } from '../store/score-file.ts';
import type { ColumnMapping } from '../tape/mapping.ts';
import type { QuarantineWriter } from '../tape/quarantine-stream.ts';
import { ANY_CURRENCY, DEFAULT_CURRENCY } from '../tape/row-validator.ts';
import { scanTapeWith, type TapeScanResult } from '../tape/scan.ts';
import type { ScanOptions } from '../tape/scan-options.ts';
import type { PartialAudit } from './accumulator.ts';
import { createAccumulator } from './accumulator.ts';
import { creditBandIndex } from './buckets.ts';
import { borrowerKey } from './hash.ts';
import { IndexEntries, type PreviousTape, previousEntryMeta } from './previous-tape.ts';

/**
 * The shard audit: one shard's rows (a whole tape, a part, or a byte range of one) read,
 * validated and scored in one pass, and the currency every shard of a tape is read in.
 */

/** What one shard of a tape produces: its mergeable partial, its intake counts, its rejects and its scores. */
export interface ShardAudit {
  partial: PartialAudit;
  intake: TapeScanResult;
  /**
   * The scored loans as score-file records by loanId, one set per loan-id bucket (`scoreBuckets`
   * of them, see domain/store/score-buckets.ts); empty unless `keepScores`.
   */
  scores: SortedScores[];
  /** Sorted 64-bit hashes of the valid loans' ids; empty unless `keepIdHashes`. */
  idHashes: BigUint64Array;
  /**
   * Sorted 64-bit hashes of the loan ids whose first row in this shard was quarantined (a later
   * shard's valid row of such an id is a repeat); always kept, as such rows are few.
   */
  quarantinedIdHashes: BigUint64Array;
  /**
   * The valid loans as drift-index entries in row order (see `carriedIndex`); empty unless
   * `keepIndexEntries`.
   */
  indexEntries: { entries: Uint32Array; count: number };
}

export interface ShardAuditOptions {
  snapshotDate?: string | undefined;
  /** The tape's currency (`peekTapeCurrency`), the same for every shard; rows in another are quarantined. */
  currency?: string | undefined;
  mapping?: ColumnMapping | undefined;
  policy: Policy;
  previous: PreviousTape | null;
  /** Keep every loan's scored state (the score file); off for the engine-only benchmark. */
  keepScores?: boolean;
  /** Loan-id buckets the kept scores are split into (a power of two). @default 1 */
  scoreBuckets?: number;
  /** Keep the hashes of the valid loan ids, to find ids repeated across shards. */
  keepIdHashes?: boolean;
  /** Keep the valid loans as drift-index entries, so the next day need not read this tape again. */
  keepIndexEntries?: boolean;
  /**
   * The 64-bit hashes of loan ids that earlier shards of the tape hold, as [hi, lo] pairs (see
   * ScanOptions.earlierIds): this shard's rows of them are repeats, quarantined as one pass would.
   */
  earlierIds?: Uint32Array | undefined;
  /**
   * Where quarantined rows go as they are found (a file, a streamed upload): none is kept in
   * memory, and the reader waits on `ready()` when the writer is behind.
   */
  quarantine: Pick<QuarantineWriter, 'add' | 'ready'>;
}

/**
 * The borrower table's starting size for `bytes` of tape. A CSV row is about 170 bytes; sized for
 * one borrower per two loans (a table of 1M slots per 1M loans), it grows only past ~0.8
 * borrowers a loan. Oversizing costs more than it saves: every borrower update is a random
 * access, and a table twice as big makes them ~2x slower on this machine (more TLB misses, and
 * fresh memory to fault in).
 */
export function expectedBorrowers(bytes: number): number {
  return Math.max(1024, Math.round(bytes / 340));
}

/**
 * Reads, validates and scores the rows of one shard (a whole tape, a part, or a byte range of
 * one) with `decoder`'s byte reading: the single per-row path that the Lambda shards and the CLI share.
 */
export async function auditShard(
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: ShardAuditOptions,
): Promise<ShardAudit> {
  const bytes = parts.reduce((n, p) => n + (p.range ? p.range.end - p.range.start : (p.bytes ?? 0)), 0);
  const acc = createAccumulator(options.policy, options.previous, {
    expectedBorrowers: expectedBorrowers(bytes),
  });
  const buckets = options.scoreBuckets ?? 1;
  const scores = Array.from({ length: buckets }, () => new SortedScores());
  const keep = options.keepScores === true;
  const keepIds = options.keepIdHashes === true;
  // Written as 32-bit halves through a view (little-endian: lo, then hi), so no BigInt is made
  // per loan; sorted natively as uint64 at the end.
  let ids = new BigUint64Array(keepIds ? Math.max(1024, Math.ceil(bytes / 150)) : 0);
  let ids32 = new Uint32Array(ids.buffer);
  let idCount = 0;
  const index = options.keepIndexEntries === true ? new IndexEntries(Math.ceil(bytes / 150)) : null;
  const quarantinedIds: number[] = [];
  const scan: ScanOptions = {
    snapshotDate: options.snapshotDate,
    mapping: options.mapping,
    currency: options.currency,
    earlierIds: options.earlierIds,
  };
  const intake = await scanTapeWith(decoder, parts, scan, {
    loan(loan, idHi, idLo) {
      if (keepIds) {
        if (idCount === ids.length) {
          const grown = new BigUint64Array(ids.length * 2);
          grown.set(ids);
          ids = grown;
          ids32 = new Uint32Array(ids.buffer);
        }
        ids32[idCount * 2] = idLo;
        ids32[idCount * 2 + 1] = idHi;
        idCount++;
      }
      index?.push(idHi, idLo, previousEntryMeta(loan));
      if (!keep) {
        acc.accumulate(loan, idHi, idLo);
        return;
      }
      const a = acc.add(loan, idHi, idLo);
      // Only the record's bytes are kept (no object with arrays per loan), and while loan ids
      // arrive in order (a sorted export) there is nothing to sort at the end.
      scores[bucketOfHash(idHi, buckets)]!.add({
        loanId: a.loanId,
        borrowerKey: borrowerKey(loan.borrowerId),
        product: a.product,
        region: loan.region,
        industry: loan.industry,
        loanPurpose: purposeOf(loan),
        partnerId: loan.partnerId,
        coLent: isCoLent(loan),
        relatedPartyGroup: loan.relatedPartyGroup,
        reportedClassification: loan.reportedClassification,
        outstanding: a.outstanding,
        score: a.score,
        grade: a.grade,
        pd: a.pd,
        el: a.el,
        dpdBucket: a.dpdBucket,
        classification: a.classification,
        stage: a.stage,
        creditBand: CREDIT_SCORE_BANDS[creditBandIndex(loan.creditScore)]!,
        ruleCodes: a.ruleCodes as string[],
        flags: a.flags as string[],
        reasons: a.reasons as string[],
      });
    },
    quarantine(row) {
      options.quarantine.add(row);
    },
    ready: () => options.quarantine.ready(),
    firstIdQuarantined(hi, lo) {
      // Little-endian uint64 halves, as `ids` holds them.
      quarantinedIds.push(lo, hi);
    },
  });
  const idHashes = ids.slice(0, idCount).sort();
  const quarantinedIdHashes = new BigUint64Array(Uint32Array.from(quarantinedIds).buffer).sort();
  return {
    partial: acc.toPartial(),
    intake,
    scores,
    idHashes,
    quarantinedIdHashes,
    indexEntries: index?.finish() ?? { entries: new Uint32Array(0), count: 0 },
  };
}

/** Valid rows `peekTapeCurrency` reads to decide a tape's currency. */
export const CURRENCY_PEEK_ROWS = 1000;

/**
 * The tape's currency, decided before any shard runs so that every shard quarantines the same
 * rows: the currency most of its first valid rows carry (an empty cell is CNY; ties go to the one
 * seen first), CNY when none is valid. Reads only the start of the tape.
 */
export async function peekTapeCurrency(
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: { snapshotDate?: string | undefined; mapping?: ColumnMapping | undefined },
  rows = CURRENCY_PEEK_ROWS,
): Promise<string> {
  const counts = new Map<string, number>();
  let seen = 0;
  const enough = new Error('enough rows');
  // Part by part: a part that cannot be read is left to the shard that reads it, which fails the
  // run with its own sentence once the other shards have finished.
  for (const { range: _range, ...part } of parts) {
    try {
      await scanTapeWith(
        decoder,
        [part],
        { snapshotDate: options.snapshotDate, mapping: options.mapping, currency: ANY_CURRENCY },
        {
          loan(loan) {
            counts.set(loan.currency, (counts.get(loan.currency) ?? 0) + 1);
            if (++seen >= rows) throw enough;
          },
          quarantine() {},
        },
      );
    } catch (error) {
      if (error === enough) break;
    }
  }
  let best = DEFAULT_CURRENCY;
  let most = 0;
  for (const [currency, n] of counts) {
    if (n > most) {
      best = currency;
      most = n;
    }
  }
  return best;
}
