import type { Loan } from '../loan.ts';

/** One row that failed validation: kept whole with where it came from and why (loan-tape.md). */
export interface QuarantinedRow {
  /** Part file (object key or file name) the row came from. */
  part: string;
  /** 1-based physical line number of the row's first line in that part (the header is line 1). */
  line: number;
  /** The row's raw text as read (CSV record or JSON line). */
  raw: string;
  /** Machine-readable reason codes, e.g. `MISSING_REQUIRED`, `DUPLICATE_LOAN_ID`. */
  codes: string[];
  /** Human-readable detail naming the column(s) concerned, no borrower data. */
  detail: string;
}

/** Where each validated row goes: the per-row loop calls exactly one of these per row read. */
export interface RowSink {
  /** A valid loan, with the 64-bit hash of its loan_id (engine/hash.ts) so no consumer hashes it again. */
  loan(loan: Loan, idHashHi: number, idHashLo: number): void;
  quarantine(row: QuarantinedRow): void;
  /**
   * A quarantined row was the first of its loan_id in this pass (its 64-bit hash given): a later
   * valid row of that id is a repeat, which only a pass that saw both can quarantine. Shards
   * report these so that the merge can flag such a row in a later shard.
   */
  firstIdQuarantined?(idHashHi: number, idHashLo: number): void;
  /**
   * Asked between chunks of the tape: a promise when the sink holds more than it should (a
   * quarantine upload behind the scan), which the reader awaits before reading on.
   */
  ready?(): Promise<void> | null;
}

/** Counts of intake, mergeable by addition across shards (see mergeIntakeStats). */
export interface IntakeStats {
  rowsRead: number;
  rowsValid: number;
  rowsQuarantined: number;
  quarantineByCode: Record<string, number>;
  duplicateLoanIds: number;
  /** Valid rows whose optional column was empty in the tape, by canonical column name. */
  missingCounts: Record<string, number>;
  parts: { key: string; sha256: string; bytes: number; rowsRead: number }[];
  /** Canonical columns present in the tape after mapping. */
  columns: string[];
  /** Source columns that the mapping did not use (ignored, listed for the user). */
  unknownColumns: string[];
  /** Rows by snapshot_date for dates other than the run's (a bounded number of dates). */
  rowsByOtherDate?: Record<string, number>;
  /** Rows the mapping's `where` left out: not part of the tape, so not in rowsRead. */
  rowsFiltered?: number;
  /** Rows of a panel that are not their loan's latest (`latest`): not in rowsRead either. */
  rowsSuperseded?: number;
  /** Valid rows whose annual_rate is above 1 (100%): many of them mean rates given in percent. */
  ratesAboveOne?: number;
  /** Valid rows whose maturity_date is before the tape's date: most of them mean a misread date. */
  pastMaturity?: number;
}

/** Empty intake counts. */
export function emptyIntakeStats(): IntakeStats {
  return {
    rowsRead: 0,
    rowsValid: 0,
    rowsQuarantined: 0,
    quarantineByCode: {},
    duplicateLoanIds: 0,
    missingCounts: {},
    parts: [],
    columns: [],
    unknownColumns: [],
  };
}

/** Adds two shards' intake counts; the result equals one pass over both shards' rows. */
export function mergeIntakeStats(a: IntakeStats, b: IntakeStats): IntakeStats {
  const add = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const union = (x: string[], y: string[]): string[] => [...new Set([...x, ...y])].sort();
  return {
    rowsRead: a.rowsRead + b.rowsRead,
    rowsValid: a.rowsValid + b.rowsValid,
    rowsQuarantined: a.rowsQuarantined + b.rowsQuarantined,
    quarantineByCode: add(a.quarantineByCode, b.quarantineByCode),
    duplicateLoanIds: a.duplicateLoanIds + b.duplicateLoanIds,
    missingCounts: add(a.missingCounts, b.missingCounts),
    parts: [...a.parts, ...b.parts].sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0)),
    columns: union(a.columns, b.columns),
    unknownColumns: union(a.unknownColumns, b.unknownColumns),
    rowsByOtherDate: add(a.rowsByOtherDate ?? {}, b.rowsByOtherDate ?? {}),
    rowsFiltered: (a.rowsFiltered ?? 0) + (b.rowsFiltered ?? 0),
    rowsSuperseded: (a.rowsSuperseded ?? 0) + (b.rowsSuperseded ?? 0),
    ratesAboveOne: (a.ratesAboveOne ?? 0) + (b.ratesAboveOne ?? 0),
    pastMaturity: (a.pastMaturity ?? 0) + (b.pastMaturity ?? 0),
  };
}
