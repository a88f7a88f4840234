import type { TapeDecoder, TapePartInput } from '../../ports/tape-source.ts';
import type { ColumnMapping } from '../tape/mapping.ts';
import { QUARANTINE_CODES } from '../tape/row-validator.ts';
import { scanTapeWith, type TapeScanResult } from '../tape/scan.ts';
import { encodePreviousIndex, IndexEntries, PreviousTape, previousEntryMeta } from './previous-tape.ts';
import type { ShardAudit } from './shard-audit.ts';
import { peekTapeCurrency } from './shard-audit.ts';
import { mergeScans } from './shard-merge.ts';

/**
 * The previous tape's drift index: read whole or in ranges (merged in tape order to the index
 * of one pass), and the index a run carries to the next day from its own shards.
 */

/** How the previous tape is read: its date, the lender's mapping and its currency (peeked when absent). */
export interface PreviousScanOptions {
  snapshotDate?: string | undefined;
  mapping?: ColumnMapping | undefined;
  currency?: string | undefined;
}

/**
 * Builds the drift index of the previous tape (valid rows only); its rejects are not reported
 * again. It is the one-range case of `loadPreviousRange` + `mergePreviousRanges`, so a tape read
 * whole or in ranges on workers gives the same index.
 */
export async function loadPreviousTape(
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: PreviousScanOptions,
): Promise<{ previous: PreviousTape; intake: TapeScanResult }> {
  const currency = options.currency ?? (await peekTapeCurrency(decoder, parts, options));
  const range = await loadPreviousRange(decoder, parts, { ...options, currency });
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
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: PreviousScanOptions,
): Promise<PreviousRange> {
  const bytes = parts.reduce((n, p) => n + (p.range ? p.range.end - p.range.start : (p.bytes ?? 0)), 0);
  const index = new IndexEntries(Math.ceil(bytes / 150));
  const intake = await scanTapeWith(
    decoder,
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
