import type { WatchlistRow } from './types.ts';

/** Column headers of the watchlist attachment, in order. */
export const WATCHLIST_COLUMNS = [
  'loan_ref',
  'grade',
  'score',
  'pd',
  'dpd_bucket',
  'classification',
  'outstanding',
  'product',
  'region',
  'industry',
  'flags',
  'reasons',
] as const;

// A spreadsheet treats a cell that starts with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Makes one text cell inert in a spreadsheet: a leading `'` before any formula trigger. */
export function neutraliseCell(value: string): string {
  const clean = value.replace(CONTROL, '');
  return FORMULA_START.test(clean) ? `'${clean}` : clean;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

function text(value: string | null): string {
  return quote(neutraliseCell(value ?? ''));
}

function number(value: number | null, digits: number): string {
  if (value === null || !Number.isFinite(value)) return '';
  return String(Number(value.toFixed(digits)));
}

/**
 * The watchlist as RFC 4180 CSV (CRLF, UTF-8 with a BOM so spreadsheets read non-ASCII names).
 * Only the listed columns are written, so a row object that carries more never leaks it.
 */
export function buildWatchlistCsv(rows: readonly WatchlistRow[]): string {
  const lines: string[] = [WATCHLIST_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        text(r.loanRef),
        text(r.grade),
        number(r.score, 0),
        number(r.pd, 4),
        text(r.dpdBucket),
        text(r.classification),
        number(r.outstanding, 2),
        text(r.product),
        text(r.region),
        text(r.industry),
        text(r.flags.join('; ')),
        text(r.reasons.join('; ')),
      ].join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
