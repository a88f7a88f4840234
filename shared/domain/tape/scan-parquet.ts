import type { TapeDecoder, TapePartInput } from '../../ports/tape-source.ts';
import { FieldRow } from './field-row.ts';
import { DEFAULT_TAPE_TIME_ZONE } from './mapping.ts';
import type { RowValidator } from './row-validator.ts';
import type { ScanOptions } from './scan-options.ts';
import { cellProblem, planFor } from './scan-part.ts';

/**
 * Reads a Parquet part's rows (decoded by the decoder as cell text) into the validator: the
 * columns plan the part, and a row is numbered by its place in the part (Parquet has no lines).
 */
export async function scanParquet(
  part: TapePartInput,
  options: ScanOptions,
  validator: RowValidator,
  decoder: TapeDecoder,
): Promise<void> {
  let header: string[] = [];
  let texts: ((v: unknown) => string | null)[] = [];
  let read: ReadonlySet<number> = new Set();
  const cells: (string | null)[] = [];
  let fields: string[] = [];
  const row = new FieldRow();
  await decoder.readParquet(part, {
    timeZone: options.mapping?.timeZone ?? DEFAULT_TAPE_TIME_ZONE,
    ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
    onHeader(columns) {
      header = columns.map((c) => c.name);
      texts = columns.map((c) => c.text);
      fields = new Array<string>(header.length);
      cells.length = header.length;
      const plan = planFor(part.key, header, options);
      read = plan.readIndexes;
      validator.setPart(part.key, plan);
    },
    onRow(values, n) {
      for (let i = 0; i < texts.length; i++) cells[i] = texts[i]!(values[i]);
      const problem = cellProblem(cells, header, read, fields);
      // The raw text of a quarantined row is its cells as JSON.
      const raw = (): string => parquetRowJson(header, cells);
      if (problem !== null) validator.rejectRow(n, raw(), problem);
      else validator.acceptRow(row.setCells(fields), n, raw);
      return undefined;
    },
    between: () => validator.ready(),
  });
}

/** A Parquet row as the raw text of a quarantined row: its cells as one JSON object. */
function parquetRowJson(header: readonly string[], cells: readonly (string | null)[]): string {
  const o: Record<string, string | null> = {};
  header.forEach((h, i) => {
    const c = cells[i];
    o[h] = c === null ? '(structure)' : (c ?? null);
  });
  return JSON.stringify(o);
}
