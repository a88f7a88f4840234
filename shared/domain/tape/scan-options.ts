import type { ColumnMapping } from './mapping.ts';

/** Tape file formats; gzip is detected from the bytes, so `csv` covers `.csv.gz` too. */
export type TapeFormat = 'csv' | 'jsonl' | 'parquet';

/** Options of one scan. */
export interface ScanOptions {
  /**
   * The run's date (the S3 partition or `--date`); rows with another date are quarantined. When
   * absent it is the date most of the tape's first rows carry (surveyTapeDate), so one wrongly
   * dated first row never re-dates the audit.
   */
  snapshotDate?: string | undefined;
  /** The lender's column mapping; none means canonical headers. */
  mapping?: ColumnMapping | undefined;
  /** Forces a format instead of guessing from the key's extension and the first bytes. */
  format?: TapeFormat | undefined;
  /** Stops after this many rows (a survey of the first rows); the "no rows" check is then off. */
  maxRows?: number | undefined;
  /** The tape's currency (see `peekTapeCurrency`); rows in another are quarantined. */
  currency?: string | undefined;
  /**
   * The 64-bit hashes of loan ids that earlier shards of the tape hold (their first row, valid or
   * not), as [hi, lo] pairs; a row with one of them is a repeat, quarantined as DUPLICATE_LOAN_ID
   * as one pass would.
   */
  earlierIds?: Uint32Array | undefined;
}

/** Rows read to find a tape's date when none is given. */
export const SURVEY_ROWS = 1000;

/** Guesses the format from a key's extension; null when the name says nothing. */
export function formatFromKey(key: string): TapeFormat | null {
  const k = key.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (k.endsWith('.parquet') || k.endsWith('.pq')) return 'parquet';
  if (k.endsWith('.jsonl') || k.endsWith('.ndjson') || k.endsWith('.json')) return 'jsonl';
  if (k.endsWith('.csv') || k.endsWith('.txt')) return 'csv';
  return null;
}

/** Rows read so far in a scan that stops early (maxRows). */
export class ScanLimitReached extends Error {}

/** Throws ScanLimitReached once the scan has read its maxRows. */
export function checkLimit(rowsRead: number, options: ScanOptions): void {
  if (options.maxRows !== undefined && rowsRead >= options.maxRows) throw new ScanLimitReached();
}
