import { localTapeParts } from '../adapters/tape/local-tape-source.ts';
import { SURVEY_ROWS, surveyTapeDate } from '../adapters/tape/scan-tape.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import { TapeUnreadableError } from '../errors.ts';

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
