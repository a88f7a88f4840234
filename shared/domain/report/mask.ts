import { borrowerRef } from '../engine/hash.ts';
import { CsvScanner } from '../tape/csv-scanner.ts';
import { type ColumnMapping, compileMapping } from '../tape/mapping.ts';

/**
 * Masked references for people: a loan id shows its first two and last four characters, a
 * borrower id becomes its keyed-hash reference (the one the rest of the report uses). The raw
 * text of a quarantined row is shown only with both masked; where they cannot be located in it,
 * it is not shown at all.
 */

/** A loan id shown to people: its first two and last four characters. */
export function maskLoanId(loanId: string): string {
  if (loanId.length === 0) return '';
  return loanId.length <= 8
    ? `${loanId.slice(0, 1)}…${loanId.slice(-2)}`
    : `${loanId.slice(0, 2)}…${loanId.slice(-4)}`;
}

/** Where a part's ids are: source field positions (CSV) or names (JSON), from its header and the mapping. */
export interface IdFields {
  loan: number;
  borrower: number;
  /** The header, for JSON rows (a field's name) and to check a CSV row's width. */
  header: readonly string[];
}

/**
 * Locates the loan and borrower id fields of a header through the column mapping (or the
 * canonical names); null when either id is not a plain source field (a constant or expression).
 */
export function idFieldsOf(header: readonly string[], mapping: ColumnMapping | undefined): IdFields | null {
  const plan = compileMapping(mapping, header);
  const loan = plan.specs.find((s) => s.column === 'loan_id');
  const borrower = plan.specs.find((s) => s.column === 'borrower_id');
  if (!loan || !borrower || loan.index < 0 || borrower.index < 0) return null;
  if (loan.expression !== null || borrower.expression !== null) return null;
  return { loan: loan.index, borrower: borrower.index, header: plan.header };
}

function splitCsvRecord(raw: string): string[] | null {
  let cells: string[] | null = null;
  let records = 0;
  const scanner = new CsvScanner((row, _line, _text, _start, _end, malformed) => {
    records++;
    if (malformed === null) cells = row.toArray();
  });
  try {
    scanner.push(raw);
    scanner.end();
  } catch {
    return null;
  }
  return records === 1 ? cells : null;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function maskBorrower(value: string, refKey: string): string {
  const id = value.trim();
  return id.length === 0 ? value : borrowerRef(id, refKey);
}

/**
 * A quarantined CSV row with its ids masked, or null when it cannot be split into exactly the
 * header's fields (a broken row may have its ids anywhere).
 */
export function maskCsvRow(raw: string, ids: IdFields, refKey: string): string | null {
  const cells = splitCsvRecord(raw);
  if (cells === null || cells.length !== ids.header.length) return null;
  cells[ids.loan] = maskLoanId((cells[ids.loan] ?? '').trim());
  cells[ids.borrower] = maskBorrower(cells[ids.borrower] ?? '', refKey);
  return cells.map(csvCell).join(',');
}

/**
 * A quarantined JSON row (a JSON Lines record or a Parquet row's JSON) with its ids masked, the
 * fields located by the row's own keys through the mapping; null when it is not a JSON object or
 * its ids cannot be located.
 */
export function maskJsonRow(raw: string, mapping: ColumnMapping | undefined, refKey: string): string | null {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record);
  const ids = idFieldsOf(keys, mapping);
  if (ids === null) return null;
  const loanKey = keys[ids.loan]!;
  const borrowerKey = keys[ids.borrower]!;
  const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  record[loanKey] = maskLoanId(text(record[loanKey]).trim());
  record[borrowerKey] = maskBorrower(text(record[borrowerKey]), refKey);
  return JSON.stringify(record);
}

/** Whether a raw row is JSON (a JSON Lines record or a Parquet row) rather than CSV. */
export function isJsonRow(raw: string): boolean {
  return raw.trimStart().startsWith('{');
}
