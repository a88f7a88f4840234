import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { localTapeParts } from '../adapters/tape/local-tape-source.ts';
import { surveyTapeDate } from '../adapters/tape/read-tape.ts';
import { auditDateForSchedule } from '../domain/calendar.ts';
import { type ColumnMapping, DEFAULT_TAPE_TIME_ZONE } from '../domain/tape/mapping.ts';
import { SURVEY_ROWS } from '../domain/tape/scan-options.ts';
import { previousDateProblem } from '../domain/tape/tape-checks.ts';
import { isIsoDate } from '../domain/tape/values.ts';
import { ConfigError, TapeUnreadableError } from '../errors.ts';

/**
 * The as-of date a local tape carries: the date most of its first rows give in snapshot_date,
 * read through the mapping (loan-tape.md: without a partition or `--date`, the date most of its
 * first rows carry), so one wrongly dated first row never re-dates the audit.
 */
export async function peekSnapshotDate(path: string, mapping?: ColumnMapping): Promise<string> {
  const date = await surveyTapeDate(await localTapeParts(path), { mapping });
  if (date === null)
    throw new TapeUnreadableError(
      `tape ${path} has no row with a readable snapshot_date among its first ${SURVEY_ROWS}: give the run's date with --date`,
    );
  return date;
}

/** Where a local run's date came from, for the run-date check's sentence. */
export function dateSourceOf(date: string | undefined): string {
  return date === undefined ? 'the date most of its first rows carry' : 'given with --date';
}

/**
 * Refuses a `--previous` that cannot be the tape before `--snapshot`: the same file, or dated on
 * or after the run's date (one sentence, ConfigError). `previousDate` null: not known yet.
 */
export async function checkPreviousGiven(
  snapshot: string,
  previous: string,
  runDate: string,
  previousDate: string | null,
): Promise<void> {
  const [a, b] = await Promise.all([
    realpath(snapshot).catch(() => snapshot),
    realpath(previous).catch(() => previous),
  ]);
  if (a === b)
    throw new ConfigError(
      `--previous ${previous} is the same file as --snapshot: give the previous date's tape`,
    );
  const problem = previousDateProblem(runDate, previousDate, `--previous ${previous}`);
  if (problem !== null) throw new ConfigError(problem);
}

/**
 * The date a local `run` audits its tape under: `--date`, else the date most of its first rows
 * carry. A tape whose date cannot be read (it cannot be read at all) is still run, so that the
 * run record, a failed audit.json and the failure notice say why: under the date in its file
 * name, or else the date tonight's scheduled run would audit.
 */
export async function localRunDate(
  path: string,
  date: string | undefined,
  now = new Date(),
): Promise<string> {
  if (date !== undefined) return date;
  try {
    return await peekSnapshotDate(path);
  } catch (error) {
    if (!(error instanceof TapeUnreadableError)) throw error;
    const named = /(\d{4}-\d{2}-\d{2})/.exec(basename(path))?.[1];
    const fallback =
      named !== undefined && isIsoDate(named) ? named : auditDateForSchedule(now, DEFAULT_TAPE_TIME_ZONE);
    process.stderr.write(
      `risk-audit: ${error.message}; it is audited as ${fallback}${named === fallback ? ' (the date in its name)' : ''}, so that the run records why it failed\n`,
    );
    return fallback;
  }
}
