import type { QuarantinedRow } from './intake.ts';

/**
 * The quarantine file: one CSV line per rejected row, `line,part,codes,detail,raw`. Safe to open
 * in a spreadsheet: a cell that a spreadsheet would run as a formula (starting with = + - @, tab
 * or carriage return) is prefixed with an apostrophe, the OWASP "CSV injection" defence.
 */

/** The quarantine file's header line. */
export const QUARANTINE_CSV_HEADER = 'line,part,codes,detail,raw';

/** Neutralises formula triggers, then quotes per RFC 4180. */
export function safeCsvCell(value: string): string {
  let s = value;
  const c = s.charCodeAt(0);
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) s = `'${s}`;
  if (/[",\r\n]/.test(s)) return `"${s.replaceAll('"', '""')}"`;
  return s;
}

/** One quarantined row as a CSV line (no line break inside unless quoted in `raw`). */
export function quarantineCsvLine(row: QuarantinedRow): string {
  return [
    String(row.line),
    safeCsvCell(row.part),
    safeCsvCell(row.codes.join('|')),
    safeCsvCell(row.detail),
    safeCsvCell(row.raw),
  ].join(',');
}
