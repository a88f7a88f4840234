import type { QuarantineWriter } from '../adapters/tape/quarantine-writer.ts';
import { scanTape } from '../adapters/tape/read-tape.ts';
import type { AuditResult, Finding } from '../domain/audit-result.ts';
import { createAccumulator, mergePartialList, type PartialAudit } from '../domain/engine/accumulator.ts';
import { finalizeAudit } from '../domain/engine/finalize.ts';
import { borrowerKey } from '../domain/engine/hash.ts';
import {
  encodePreviousIndex,
  IndexEntries,
  PreviousTape,
  previousEntryMeta,
} from '../domain/engine/previous-tape.ts';
import type { LoanAssessment } from '../domain/engine/scorecard.ts';
import { isCoLent, type LoanPurpose, purposeOf } from '../domain/loan.ts';
import type { Policy } from '../domain/policy/policy.ts';
import { bucketOfHash } from '../domain/store/score-buckets.ts';
import { mergeIntakeStats } from '../domain/tape/intake.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import { ANY_CURRENCY, DEFAULT_CURRENCY, QUARANTINE_CODES } from '../domain/tape/row-validator.ts';
import type { TapeScanResult } from '../domain/tape/scan.ts';
import type { ScanOptions } from '../domain/tape/scan-options.ts';
import {
  checkTape,
  everyRowQuarantinedProblem,
  runDateProblem,
  TAPE_FINDING_CODES,
  type TapeCheckInput,
  type TapeCheckSettings,
} from '../domain/tape/tape-checks.ts';
import { TapeRejectedError } from '../errors.ts';
import type { TapePartInput } from '../ports/tape-source.ts';
import { SortedScores } from './score-file.ts';

/**
 * One loan's scored state as the score file keeps it: enough for the next day's diff, the
 * watchlist and a loan's history. `borrowerKey` is the engine's 64-bit hash of the borrower id
 * (never the raw id), used to attach borrower-level rule hits at finalize.
 */
export interface ScoredLoan {
  loanId: string;
  borrowerKey: string;
  product: string;
  region: string | null;
  industry: string | null;
  /** The purpose the rules use: the tape's loan_purpose, or the one its product and borrower type imply. */
  loanPurpose: LoanPurpose;
  partnerId: string | null;
  /** Made with a partner that funds part of it (partner_id given and own_funding_share < 1). */
  coLent: boolean;
  relatedPartyGroup: string | null;
  reportedClassification: string | null;
  outstanding: number;
  score: number;
  grade: LoanAssessment['grade'];
  pd: number;
  el: number;
  dpdBucket: LoanAssessment['dpdBucket'];
  classification: LoanAssessment['classification'];
  stage: LoanAssessment['stage'];
  ruleCodes: string[];
  flags: string[];
  reasons: string[];
}

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
 * one): the single per-row path that the Lambda shards and the CLI share.
 */
export async function auditShard(
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
  };
  const intake = await scanTape(parts, scan, {
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
      await scanTape(
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

/**
 * Builds the drift index of the previous tape (valid rows only); its rejects are not reported
 * again. It is the one-range case of `loadPreviousRange` + `mergePreviousRanges`, so a tape read
 * whole or in ranges on workers gives the same index.
 */
export async function loadPreviousTape(
  parts: readonly TapePartInput[],
  options: {
    snapshotDate?: string | undefined;
    mapping?: ColumnMapping | undefined;
    currency?: string | undefined;
  },
): Promise<{ previous: PreviousTape; intake: TapeScanResult }> {
  const currency = options.currency ?? (await peekTapeCurrency(parts, options));
  const range = await loadPreviousRange(parts, { ...options, currency });
  return mergePreviousRanges(options.snapshotDate ?? range.intake.snapshotDate, [range], false);
}

/** Intake counts with `repeats` valid rows moved to quarantined as repeated loan ids. */
function quarantineRepeats(intake: TapeScanResult, repeats: number): TapeScanResult {
  if (repeats === 0) return intake;
  const code = QUARANTINE_CODES.DUPLICATE_LOAN_ID;
  return {
    ...intake,
    rowsValid: intake.rowsValid - repeats,
    rowsQuarantined: intake.rowsQuarantined + repeats,
    duplicateLoanIds: intake.duplicateLoanIds + repeats,
    quarantineByCode: { ...intake.quarantineByCode, [code]: (intake.quarantineByCode[code] ?? 0) + repeats },
  };
}

/** The valid loans of one range of the previous tape, in row order, as PreviousTape entries. */
export interface PreviousRange {
  /** `count` triples: loan id hash hi, hash lo, `previousEntryMeta`. */
  entries: Uint32Array;
  count: number;
  intake: TapeScanResult;
}

/**
 * Reads one range (or part) of the previous tape into its entries, for a fan-out: the ranges'
 * entries, merged in order by `mergePreviousRanges`, give the index of one pass.
 */
export async function loadPreviousRange(
  parts: readonly TapePartInput[],
  options: {
    snapshotDate?: string | undefined;
    mapping?: ColumnMapping | undefined;
    currency?: string | undefined;
  },
): Promise<PreviousRange> {
  const bytes = parts.reduce((n, p) => n + (p.range ? p.range.end - p.range.start : (p.bytes ?? 0)), 0);
  const index = new IndexEntries(Math.ceil(bytes / 150));
  const intake = await scanTape(
    parts,
    { snapshotDate: options.snapshotDate, mapping: options.mapping, currency: options.currency },
    {
      loan(loan, idHi, idLo) {
        index.push(idHi, idLo, previousEntryMeta(loan));
      },
      quarantine() {},
    },
  );
  return { ...index.finish(), intake };
}

/**
 * The previous tape's index from its ranges' entries, added in tape order (in shared memory for
 * worker threads unless `shared` is false). Within a range the validator quarantines a repeated
 * loan id (the first row wins, valid or not); across ranges a repeated id keeps its first valid
 * row, and each later copy is moved from valid to quarantined in the intake counts. So any cut
 * into ranges gives the one-pass index, unless an id's first row was quarantined in one range and
 * a later row is valid in another (no range sees both).
 */
export function mergePreviousRanges(
  snapshotDate: string | null,
  ranges: readonly Pick<PreviousRange, 'entries' | 'count' | 'intake'>[],
  shared = true,
): { previous: PreviousTape; intake: TapeScanResult } {
  const { previous, repeats } = indexOfEntries(snapshotDate, ranges, shared);
  const intake = quarantineRepeats(mergeScans(ranges.map((r) => r.intake)), repeats);
  return { previous, intake };
}

/** Adds entry lists to a new index in order; `repeats` counts the entries whose id was already in. */
function indexOfEntries(
  snapshotDate: string | null,
  lists: readonly { entries: Uint32Array; count: number }[],
  shared: boolean,
): { previous: PreviousTape; repeats: number } {
  const total = lists.reduce((n, r) => n + r.count, 0);
  const previous = new PreviousTape(snapshotDate, total, shared);
  let repeats = 0;
  for (const r of lists) {
    const e = r.entries;
    for (let i = 0; i < r.count; i++) {
      if (!previous.addEntry(e[i * 3]!, e[i * 3 + 1]!, e[i * 3 + 2]!)) repeats++;
    }
  }
  return { previous, repeats };
}

/**
 * The drift index of a run's own tape, stored for the next day's run so that it need not read
 * this tape again: the shards' index entries merged in tape order, as `mergePreviousRanges`
 * merges a previous tape's ranges, beside the run's intake counts (ids repeated across shards
 * moved to quarantined, as a read of the tape would count them) and the caller's `extra`.
 * It holds exactly the rows this run counted valid, as a one-pass read of the tape as the
 * previous one does.
 */
export function carriedIndex(
  snapshotDate: string | null,
  shards: readonly Pick<ShardAudit, 'indexEntries'>[],
  intake: TapeScanResult,
  extra: Record<string, unknown> = {},
): Uint8Array {
  const { previous, repeats } = indexOfEntries(
    snapshotDate,
    shards.map((s) => s.indexEntries),
    false,
  );
  return encodePreviousIndex(previous, { ...extra, intake: quarantineRepeats(intake, repeats) });
}

/** Merges shards' partials and intake counts: the result is exactly the one-pass result. */
export function mergeShards(shards: readonly Pick<ShardAudit, 'partial' | 'intake'>[]): {
  partial: PartialAudit;
  intake: TapeScanResult;
} {
  if (shards.length === 0) throw new Error('mergeShards needs at least one shard');
  const partial = mergePartialList(shards.map((s) => s.partial));
  return { partial, intake: mergeScans(shards.map((s) => s.intake)) };
}

/** Adds the intake counts of consecutive shards or ranges of one tape (the first known date wins). */
export function mergeScans(scans: readonly TapeScanResult[]): TapeScanResult {
  if (scans.length === 0) throw new Error('mergeScans needs at least one scan');
  let intake: TapeScanResult = scans[0]!;
  for (let i = 1; i < scans.length; i++) {
    intake = {
      ...mergeIntakeStats(intake, scans[i]!),
      snapshotDate: intake.snapshotDate ?? scans[i]!.snapshotDate,
      currency: intake.currency ?? scans[i]!.currency,
    };
  }
  return intake;
}

/**
 * Refuses a tape that was read but is not the run's to audit: most of its rows dated otherwise,
 * or not one valid row (TapeRejectedError, one sentence). `dateSource` says where the run's date
 * came from ("its S3 partition", "--date", ...).
 */
export function assertTapeAuditable(intake: TapeScanResult, runDate: string, dateSource: string): void {
  const problem = runDateProblem(intake, runDate, dateSource) ?? everyRowQuarantinedProblem(intake);
  if (problem !== null) throw new TapeRejectedError(problem);
}

/** The audit of merged shards, with the tape-level findings raised outside the per-row loop. */
export function finalizeShards(
  merged: { partial: PartialAudit; intake: TapeScanResult },
  ctx: {
    snapshotDate: string;
    /** Where the run's date came from, for the run-date check's sentence. */
    dateSource: string;
    previousSnapshotDate: string | null;
    previousIntake: TapeScanResult | null;
    policy: Policy;
    borrowerRefKey: string;
    tapeFindings: readonly Finding[];
  },
): AuditResult {
  assertTapeAuditable(merged.intake, ctx.snapshotDate, ctx.dateSource);
  return finalizeAudit(merged.partial, merged.intake, {
    snapshotDate: ctx.snapshotDate,
    previousSnapshotDate: ctx.previousSnapshotDate,
    previousIntake: ctx.previousIntake,
    policy: ctx.policy,
    borrowerRefKey: ctx.borrowerRefKey,
    tapeFindings: ctx.tapeFindings,
  });
}

/**
 * Folds the per-range entries of parts that were split into byte ranges back into one entry per
 * part, with the whole part's digest (computed separately), so `input.parts` does not depend on
 * how the tape was sharded.
 */
export function combineRangeParts(
  intake: TapeScanResult,
  digests: ReadonlyMap<string, string>,
): TapeScanResult {
  const byKey = new Map<string, TapeScanResult['parts']>();
  for (const p of intake.parts) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  const parts: TapeScanResult['parts'] = [];
  for (const [key, list] of byKey) {
    const digest = digests.get(key);
    if (list.length === 1 && digest === undefined) {
      parts.push(list[0]!);
      continue;
    }
    parts.push({
      key,
      sha256: digest ?? list[0]!.sha256,
      bytes: list.reduce((n, p) => n + p.bytes, 0),
      rowsRead: list.reduce((n, p) => n + p.rowsRead, 0),
    });
  }
  return { ...intake, parts: parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

/**
 * The tape-level (technical) findings of a run. Quarantine and duplicate-id counts are rated by
 * the risk appetite's data-quality thresholds (with their source), so the tape checks' own
 * findings for them are dropped rather than reported twice.
 */
export function tapeLevelFindings(input: TapeCheckInput, settings: TapeCheckSettings): Finding[] {
  const rated = new Set<string>([TAPE_FINDING_CODES.ROWS_QUARANTINED, TAPE_FINDING_CODES.DUPLICATE_LOAN_IDS]);
  return checkTape(input, settings).filter((f) => !rated.has(f.code));
}

/** The finding raised when a loan id repeats across parts or shards of one tape (no shard can see it). */
export function crossShardRepeatFinding(
  repeats: { loans: number; outstanding: number | null },
  currency: string,
): Finding {
  const amount =
    repeats.outstanding === null
      ? ''
      : ` (${Math.round(repeats.outstanding).toLocaleString('en-US')} ${currency} of outstanding)`;
  return {
    category: 'technical',
    severity: 'high',
    code: 'DUPLICATE_LOAN_IDS_ACROSS_PARTS',
    message: `${repeats.loans} rows repeat a loan id that an earlier part or shard of the tape already had; one pass over the tape would have quarantined them (the first row wins), but they entered the portfolio figures${amount}; fix the export or keep each loan in one part`,
    value: repeats.loans,
    threshold: 0,
  };
}
