/**
 * Item keys of the single risk table (pk/sk, gsi1, gsi2 of shared/schema/tables.ts). Access
 * patterns, one query each:
 * - run record of a date:        pk = RUN#<date>, sk = RUN
 * - last N runs (trend):         gsi1pk = RUNS, gsi1sk = <date>, newest first
 * - lease of a date:             pk = RUN#<date>, sk = LEASE
 * - a loan's risk history:       pk = LOAN#<loanId>, sk = DAY#<date>
 * - a date's history manifest:   pk = RUN#<date>, sk begins_with CHG# (the loan ids a run wrote, 5,000
 *                                per item, strongly consistent: what a re-run must delete)
 * - watchlist of a date:         pk = WL#<date>, sk = <chunk, 5 digits> (100 entries per item, rank order)
 * - breaches by rule and date:   pk = BR#<date>, sk begins_with <rule>#, (200 entries per item,
 *                                largest outstanding first)
 * - breaches of a rule over time: gsi2pk = BR#<rule>, gsi2sk = <date>#<chunk>
 * The watchlist and breach index are date-level lists, so they are stored in chunks: a night
 * writes a few dozen items for them, and the per-loan items follow the day's changes only.
 */

/** Partition key and sort key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** Loan ids per history manifest item. */
export const MANIFEST_CHUNK = 5_000;

/** The partition of the GSI listing every run. */
export const RUNS_PARTITION = 'RUNS';

/** Key of a date's run record. */
export function runKey(snapshotDate: string): ItemKey {
  return { pk: `RUN#${snapshotDate}`, sk: 'RUN' };
}

/** Key of a date's lease (beside its run record). */
export function leaseKey(snapshotDate: string): ItemKey {
  return { pk: `RUN#${snapshotDate}`, sk: 'LEASE' };
}

/** Partition of a loan's history. */
export function loanPartition(loanId: string): string {
  return `LOAN#${loanId}`;
}

/** Key of a loan's history item of a date. */
export function loanHistoryKey(loanId: string, snapshotDate: string): ItemKey {
  return { pk: loanPartition(loanId), sk: `DAY#${snapshotDate}` };
}

/** Key of a chunk of the manifest of the history items a run wrote for its date, in one part (bucket). */
export function manifestKey(snapshotDate: string, runId: string, part: number, chunk: number): ItemKey {
  return {
    pk: `RUN#${snapshotDate}`,
    sk: `CHG#${runId}#${String(part).padStart(4, '0')}#${String(chunk).padStart(5, '0')}`,
  };
}

/** Partition of a date's watchlist. */
export function watchlistPartition(snapshotDate: string): string {
  return `WL#${snapshotDate}`;
}

/** Watchlist entries per item. */
export const WATCHLIST_CHUNK = 100;

/** Breach entries per item. */
export const BREACH_CHUNK = 200;

/** Key of a watchlist chunk: chunk order is rank order. */
export function watchlistKey(snapshotDate: string, chunk: number): ItemKey {
  return { pk: watchlistPartition(snapshotDate), sk: String(chunk).padStart(5, '0') };
}

/** Partition of a date's breaches. */
export function breachPartition(snapshotDate: string): string {
  return `BR#${snapshotDate}`;
}

/** Key of a chunk of a rule's breaches on a date. */
export function breachKey(snapshotDate: string, ruleCode: string, chunk: number): ItemKey {
  return { pk: breachPartition(snapshotDate), sk: `${ruleCode}#${String(chunk).padStart(5, '0')}` };
}

/** GSI2 partition of a rule's breaches over time. */
export function breachRulePartition(ruleCode: string): string {
  return `BR#${ruleCode}`;
}

/** Epoch seconds at which a detail item written at `now` expires. */
export function detailExpiry(now: Date, retentionDays: number): number {
  return Math.floor(now.getTime() / 1000) + retentionDays * 86_400;
}
