import { localTapeParts } from '../adapters/tape/local-tape-source.ts';
import { scanTape } from '../adapters/tape/scan-tape.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import { TapeUnreadableError } from '../errors.ts';

/** The as-of date a tape file carries (its first valid row's snapshot_date, read through the mapping). */
export async function peekSnapshotDate(path: string, mapping?: ColumnMapping): Promise<string> {
  const found = new Error('found');
  let date: string | null = null;
  try {
    await scanTape(
      await localTapeParts(path),
      { mapping },
      {
        loan(loan) {
          date = loan.snapshotDate;
          throw found;
        },
        quarantine() {},
      },
    );
  } catch (error) {
    if (error !== found) throw error;
  }
  if (date === null)
    throw new TapeUnreadableError(`tape ${path} has no valid row to read its snapshot_date from`);
  return date;
}
