import type { TapePart } from '../../ports/tape-source.ts';
import { type Finding, type FindingSeverity, SEVERITY_RANK } from '../audit-result.ts';
import { tapeDeadline } from '../calendar.ts';
import { REQUIRED_COLUMNS } from '../loan.ts';
import type { IntakeStats } from './intake.ts';

/**
 * Tape-level (technical risk) checks: whether the day's tape arrived, on time, whole and in the
 * same shape as yesterday's. Each check is a pure function returning zero or more findings.
 */

/** Finding codes of the tape-level checks. */
export const TAPE_FINDING_CODES = {
  TAPE_MISSING: 'TAPE_MISSING',
  TAPE_LATE: 'TAPE_LATE',
  TAPE_EMPTY: 'TAPE_EMPTY',
  TAPE_UNREADABLE: 'TAPE_UNREADABLE',
  TAPE_MISSING_COLUMN: 'TAPE_MISSING_COLUMN',
  SCHEMA_COLUMNS_ADDED: 'SCHEMA_COLUMNS_ADDED',
  SCHEMA_COLUMNS_REMOVED: 'SCHEMA_COLUMNS_REMOVED',
  ROW_COUNT_CHANGE: 'ROW_COUNT_CHANGE',
  DUPLICATE_LOAN_IDS: 'DUPLICATE_LOAN_IDS',
  ROWS_QUARANTINED: 'ROWS_QUARANTINED',
  TAPE_DIGEST: 'TAPE_DIGEST',
  RATES_LOOK_LIKE_PERCENT: 'RATES_LOOK_LIKE_PERCENT',
  MOSTLY_PAST_MATURITY: 'MOSTLY_PAST_MATURITY',
  MAPPED_COLUMN_EMPTY: 'MAPPED_COLUMN_EMPTY',
} as const;

/** The findings that warn the user that the tape (or its mapping) is probably misread. */
export const INPUT_WARNING_CODES: ReadonlySet<string> = new Set([
  TAPE_FINDING_CODES.RATES_LOOK_LIKE_PERCENT,
  TAPE_FINDING_CODES.MOSTLY_PAST_MATURITY,
  TAPE_FINDING_CODES.MAPPED_COLUMN_EMPTY,
]);

/** Thresholds of the tape checks. */
export interface TapeCheckSettings {
  /** Local time `HH:MM` by which the tape is due on the day after its as-of date. */
  cutoff: string;
  timeZone: string;
  /** Largest tolerated |today's valid rows / yesterday's - 1|; @default 0.2 */
  maxRowCountChange?: number;
  /** Quarantine rate from which the quarantine finding is high rather than medium; @default 0.01 */
  highQuarantineRate?: number;
}

function finding(
  severity: FindingSeverity,
  code: string,
  message: string,
  value: number | string | null,
  threshold: number | string | null,
): Finding {
  return { category: 'technical', severity, code, message, value, threshold };
}

/** Critical when no part landed for the date. */
export function checkTapePresent(parts: readonly TapePart[], snapshotDate: string): Finding[] {
  return parts.length > 0
    ? []
    : [finding('critical', TAPE_FINDING_CODES.TAPE_MISSING, `no tape landed for ${snapshotDate}`, 0, 1)];
}

/** Medium when the last part landed after the cutoff (local time on the following day). */
export function checkTapeOnTime(
  parts: readonly TapePart[],
  snapshotDate: string,
  settings: Pick<TapeCheckSettings, 'cutoff' | 'timeZone'>,
): Finding[] {
  const times = parts.map((p) => p.lastModified?.getTime()).filter((t): t is number => t !== undefined);
  if (times.length === 0) return [];
  const deadline = tapeDeadline(snapshotDate, settings.cutoff, settings.timeZone);
  const arrived = new Date(Math.max(...times));
  if (arrived.getTime() <= deadline.getTime()) return [];
  const minutes = Math.round((arrived.getTime() - deadline.getTime()) / 60_000);
  const late =
    minutes < 120
      ? `${minutes} minutes`
      : minutes < 2 * 24 * 60
        ? `${Math.round(minutes / 6) / 10} hours`
        : `${Math.round(minutes / 144) / 10} days`;
  return [
    finding(
      'medium',
      TAPE_FINDING_CODES.TAPE_LATE,
      `the tape arrived ${late} after the ${settings.cutoff} ${settings.timeZone} cutoff`,
      arrived.toISOString(),
      deadline.toISOString(),
    ),
  ];
}

/** Critical when the tape had no rows at all, or no valid row. */
export function checkTapeNotEmpty(stats: Pick<IntakeStats, 'rowsRead' | 'rowsValid'>): Finding[] {
  if (stats.rowsRead === 0) {
    return [finding('critical', TAPE_FINDING_CODES.TAPE_EMPTY, 'the tape has no rows', 0, 1)];
  }
  if (stats.rowsValid === 0) {
    return [finding('critical', TAPE_FINDING_CODES.TAPE_EMPTY, 'the tape has no valid rows', 0, 1)];
  }
  return [];
}

/** Critical for each required column the tape (after mapping) lacks. */
export function checkRequiredColumns(columns: readonly string[]): Finding[] {
  return REQUIRED_COLUMNS.filter((c) => !columns.includes(c)).map((c) =>
    finding(
      'critical',
      TAPE_FINDING_CODES.TAPE_MISSING_COLUMN,
      `the tape lacks the required column ${c}`,
      c,
      null,
    ),
  );
}

/** Schema drift against the previous tape: removed columns are medium, added ones low. */
export function checkSchemaDrift(
  columns: readonly string[],
  previousColumns: readonly string[] | null,
): Finding[] {
  if (previousColumns === null) return [];
  const added = columns.filter((c) => !previousColumns.includes(c));
  const removed = previousColumns.filter((c) => !columns.includes(c));
  const out: Finding[] = [];
  if (removed.length > 0) {
    out.push(
      finding(
        'medium',
        TAPE_FINDING_CODES.SCHEMA_COLUMNS_REMOVED,
        `columns missing since the previous tape: ${removed.join(', ')}`,
        removed.join(','),
        null,
      ),
    );
  }
  if (added.length > 0) {
    out.push(
      finding(
        'low',
        TAPE_FINDING_CODES.SCHEMA_COLUMNS_ADDED,
        `columns new since the previous tape: ${added.join(', ')}`,
        added.join(','),
        null,
      ),
    );
  }
  return out;
}

/** Today's valid rows over yesterday's, minus one; null without a previous tape (or an empty one). */
export function rowCountChange(rowsValid: number, previousRowsValid: number | null): number | null {
  if (previousRowsValid === null || previousRowsValid === 0) return null;
  return rowsValid / previousRowsValid - 1;
}

/** High when the valid row count moved by more than the configured share day over day. */
export function checkRowCountChange(
  rowsValid: number,
  previousRowsValid: number | null,
  maxChange = 0.2,
): Finding[] {
  const change = rowCountChange(rowsValid, previousRowsValid);
  if (change === null || Math.abs(change) <= maxChange) return [];
  const pct = (change * 100).toFixed(1);
  return [
    finding(
      'high',
      TAPE_FINDING_CODES.ROW_COUNT_CHANGE,
      `valid rows changed by ${change > 0 ? '+' : ''}${pct}% since the previous tape (${previousRowsValid} -> ${rowsValid})`,
      change,
      maxChange,
    ),
  ];
}

/** Medium when loan ids repeat (the later rows were quarantined). */
export function checkDuplicateLoanIds(stats: Pick<IntakeStats, 'duplicateLoanIds'>): Finding[] {
  return stats.duplicateLoanIds === 0
    ? []
    : [
        finding(
          'medium',
          TAPE_FINDING_CODES.DUPLICATE_LOAN_IDS,
          `${stats.duplicateLoanIds} rows repeat an earlier loan_id and were quarantined`,
          stats.duplicateLoanIds,
          0,
        ),
      ];
}

/** Medium (high from the configured rate) when rows were quarantined. */
export function checkQuarantine(
  stats: Pick<IntakeStats, 'rowsRead' | 'rowsQuarantined' | 'quarantineByCode'>,
  highRate = 0.01,
): Finding[] {
  if (stats.rowsQuarantined === 0 || stats.rowsRead === 0) return [];
  const rate = stats.rowsQuarantined / stats.rowsRead;
  const top = Object.entries(stats.quarantineByCode)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  return [
    finding(
      rate >= highRate ? 'high' : 'medium',
      TAPE_FINDING_CODES.ROWS_QUARANTINED,
      `${stats.rowsQuarantined} of ${stats.rowsRead} rows quarantined (${top})`,
      rate,
      highRate,
    ),
  ];
}

/**
 * Warnings that the tape is probably misread, each naming the likely fix: most rates above 1 (the
 * rates are in percent: `unit: percent`), most loans past their maturity (a date format read the
 * wrong way round, e.g. DD/MM as MM/DD), an optional column present in the tape but empty on
 * every valid row (a mapping naming the wrong source column).
 */
export function checkInputWarnings(
  stats: Pick<IntakeStats, 'rowsValid' | 'ratesAboveOne' | 'pastMaturity' | 'missingCounts' | 'columns'>,
): Finding[] {
  const n = stats.rowsValid;
  if (n === 0) return [];
  const out: Finding[] = [];
  const rates = stats.ratesAboveOne ?? 0;
  if (rates * 2 > n) {
    out.push(
      finding(
        'medium',
        TAPE_FINDING_CODES.RATES_LOOK_LIKE_PERCENT,
        `${count(rates)} of ${count(n)} valid loans have an annual_rate above 1 (100%): the rates look like percentages; give the column \`unit: percent\` in the mapping`,
        rates / n,
        0.5,
      ),
    );
  }
  const past = stats.pastMaturity ?? 0;
  if (past * 2 > n) {
    out.push(
      finding(
        'medium',
        TAPE_FINDING_CODES.MOSTLY_PAST_MATURITY,
        `${count(past)} of ${count(n)} valid loans matured before the tape's date: check the maturity_date column and its date format (day and month swapped?)`,
        past / n,
        0.5,
      ),
    );
  }
  for (const [column, missing] of Object.entries(stats.missingCounts)) {
    if (missing === n && stats.columns.includes(column)) {
      out.push(
        finding(
          'low',
          TAPE_FINDING_CODES.MAPPED_COLUMN_EMPTY,
          `the column ${column} is in the tape but empty on every valid row: check the mapping's source for it`,
          column,
          null,
        ),
      );
    }
  }
  return out;
}

/** Info finding per part carrying its sha256, so the report pins exactly which bytes were audited. */
export function checkPartDigests(stats: Pick<IntakeStats, 'parts'>): Finding[] {
  return stats.parts.map((p) =>
    finding(
      'info',
      TAPE_FINDING_CODES.TAPE_DIGEST,
      `part ${p.key}: ${p.bytes} bytes, ${p.rowsRead} rows`,
      p.sha256,
      null,
    ),
  );
}

/** Thousands separators for the sentences people read. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The sentence that fails a run when more than half of the tape's rows carry a snapshot_date
 * other than the run's (loan-tape.md), naming both dates and where the run's came from; null
 * otherwise. Fewer such rows are only quarantined: one wrong row never re-dates the audit.
 */
export function runDateProblem(
  stats: Pick<IntakeStats, 'rowsRead' | 'rowsByOtherDate'>,
  runDate: string,
  dateSource: string,
): string | null {
  const others = Object.entries(stats.rowsByOtherDate ?? {});
  const other = others.reduce((n, [, k]) => n + k, 0);
  if (stats.rowsRead === 0 || other * 2 <= stats.rowsRead) return null;
  const [date, rows] = others.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
  const more = others.length > 1 ? ` (${count(other)} carry other dates in all)` : '';
  return `the tape is not for ${runDate}: ${count(rows)} of its ${count(stats.rowsRead)} rows carry snapshot_date ${date}${more}, while the run's date is ${runDate} (${dateSource}); deliver the tape under its own date, or give that date`;
}

/** The sentence that fails a run in which not one row was valid, with the counts by reason; null otherwise. */
export function everyRowQuarantinedProblem(
  stats: Pick<IntakeStats, 'rowsRead' | 'rowsValid' | 'quarantineByCode'>,
): string | null {
  if (stats.rowsRead === 0 || stats.rowsValid > 0) return null;
  const reasons = Object.entries(stats.quarantineByCode)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([c, n]) => `${c} ${count(n)}`)
    .join(', ');
  return `every row was quarantined (${count(stats.rowsRead)} rows: ${reasons}); quarantine.csv lists each with its line and reasons`;
}

/**
 * The sentence refusing a previous tape that cannot be the day before: dated on or after the
 * run's date (the same tape given twice is dated the same). Null when it is earlier.
 */
export function previousDateProblem(
  runDate: string,
  previousDate: string | null,
  what: string,
): string | null {
  if (previousDate === null || previousDate < runDate) return null;
  return `${what} is dated ${previousDate}, ${previousDate === runDate ? 'the same date as' : 'after'} the tape it should precede (${runDate}): give an earlier date's tape`;
}

/** Everything known about a day's tape for the checks. */
export interface TapeCheckInput {
  snapshotDate: string;
  parts: readonly TapePart[];
  /** Intake of the scan; null when the tape could not be scanned. */
  stats: IntakeStats | null;
  /** The sentence of TapeUnreadableError when the scan failed. */
  unreadable?: string | null;
  previous: { columns: readonly string[]; rowsValid: number } | null;
}

/** Runs every tape-level check; findings ordered most severe first. */
export function checkTape(input: TapeCheckInput, settings: TapeCheckSettings): Finding[] {
  const out: Finding[] = [...checkTapePresent(input.parts, input.snapshotDate)];
  if (input.parts.length > 0) out.push(...checkTapeOnTime(input.parts, input.snapshotDate, settings));
  if (input.unreadable !== undefined && input.unreadable !== null) {
    out.push(finding('critical', TAPE_FINDING_CODES.TAPE_UNREADABLE, input.unreadable, null, null));
  }
  const stats = input.stats;
  if (stats !== null) {
    out.push(...checkTapeNotEmpty(stats));
    out.push(...checkRequiredColumns(stats.columns));
    out.push(...checkSchemaDrift(stats.columns, input.previous?.columns ?? null));
    out.push(
      ...checkRowCountChange(stats.rowsValid, input.previous?.rowsValid ?? null, settings.maxRowCountChange),
    );
    out.push(...checkDuplicateLoanIds(stats));
    out.push(...checkQuarantine(stats, settings.highQuarantineRate));
    out.push(...checkInputWarnings(stats));
    out.push(...checkPartDigests(stats));
  }
  return out.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}
