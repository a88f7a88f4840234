import { TapeUnreadableError } from '../../errors.ts';
import { NUL_IN_ROW } from './csv-scanner.ts';
import { compileMapping, describeHeaderProblems, type MappedPlan } from './mapping.ts';
import type { ScanOptions } from './scan-options.ts';

/** The error of a part that cannot be read: one sentence naming the part and the problem. */
export function unreadable(key: string, problem: string, cause?: unknown): TapeUnreadableError {
  return new TapeUnreadableError(
    `tape part ${key} cannot be read: ${problem}`,
    cause === undefined ? {} : { cause },
  );
}

/** Compiles the part's plan from its header, refusing a header without a required column. */
export function planFor(key: string, header: readonly string[], options: ScanOptions): MappedPlan {
  const plan = compileMapping(options.mapping, header);
  const problem = describeHeaderProblems(plan);
  if (problem !== null) throw unreadable(key, problem);
  return plan;
}

/**
 * Copies a row's cells into `out` (a structure as '') and says why the row cannot be read
 * although it was split into cells: a cell the plan reads holds a structure (null: a JSON object
 * or array, a Parquet struct or list) or a NUL character. Null when fine.
 */
export function cellProblem(
  cells: readonly (string | null)[],
  header: readonly string[],
  read: ReadonlySet<number>,
  out: string[],
): string | null {
  let problem: string | null = null;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i] as string | null;
    if (c === null) {
      out[i] = '';
      if (read.has(i))
        problem ??= `column ${JSON.stringify(header[i])} holds a structure (an object or a list), not a value`;
    } else {
      out[i] = c;
      if (c.indexOf('\0') !== -1) problem ??= NUL_IN_ROW;
    }
  }
  return problem;
}
