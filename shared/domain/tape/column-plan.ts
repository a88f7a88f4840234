import { REQUIRED_COLUMNS, TAPE_COLUMNS, type TapeColumn } from '../loan.ts';
import type { FieldExpression } from './expression.ts';

export type { FieldExpression } from './expression.ts';

/** Units of the date arithmetic a mapping may declare (`add: { months: term }`). */
export type DateUnit = 'days' | 'months' | 'years';

/**
 * How to obtain one canonical column from a source row, resolved once per part so the per-row
 * loop only reads integers and nullable references.
 */
export interface ColumnSpec {
  column: TapeColumn;
  /** Source field index, or -1. */
  index: number;
  /** Constant text used when index is -1 and expression is null; null when the column is absent. */
  constant: string | null;
  /** Computed column (numbers, text, conditions). */
  expression: FieldExpression | null;
  /** Source value -> canonical value (code tables, enum and boolean maps). */
  values: Map<string, string> | null;
  /** Canonical value for a non-empty source value missing from `values`; null quarantines it. */
  otherwise: string | null;
  /** Value of an empty cell (after `values`); null leaves it empty (unknown, or missing if required). */
  fallback: string | null;
  /** Multiplier for numeric columns. */
  scale: number;
  /** Divisor for numeric columns (100 for percent or fen): dividing keeps 1234 / 100 = 12.34 exact to the last bit. */
  divisor: number;
  /** Source date text -> ISO date, or null when not a real date; null means ISO is expected. */
  date: ((text: string) => string | null) | null;
  /** Date arithmetic: source field index holding the whole number of `addUnit`s to add, or -1. */
  addMonthsIndex: number;
  /** Date arithmetic with a constant: whole `addUnit`s to add when addMonthsIndex is -1 (0: none). */
  addConstant: number;
  /** Unit of the date arithmetic. */
  addUnit: DateUnit;
  /** Set by the validator: a bare source cell with no transform, read in place without slicing. */
  plain: boolean;
}

/** A part's resolved column mapping. */
export interface ColumnPlan {
  /** Specs in TAPE_COLUMNS order. */
  specs: ColumnSpec[];
  /** Canonical columns the plan can produce. */
  columns: TapeColumn[];
  /** Source columns nobody reads. */
  unknownColumns: string[];
  /** Required canonical columns the source cannot provide. */
  missingRequired: TapeColumn[];
  /** Source header as read. */
  header: string[];
  /** Source field indexes the plan reads (a structure or NUL in one of them quarantines its row). */
  readIndexes: ReadonlySet<number>;
  /** The mapping's row filter: rows for which it is not true are filtered out (not read). */
  where: FieldExpression | null;
  /** The mapping's `latest.by`: of a loan's rows, the one with the largest value is kept. */
  latestBy: FieldExpression | null;
  /** Other reasons the header cannot be read with this plan (one sentence each). */
  problems: string[];
}

/** A spec for a column that the source does not carry. */
export function absentSpec(column: TapeColumn): ColumnSpec {
  return {
    column,
    index: -1,
    constant: null,
    expression: null,
    values: null,
    otherwise: null,
    fallback: null,
    scale: 1,
    divisor: 1,
    date: null,
    addMonthsIndex: -1,
    addConstant: 0,
    addUnit: 'months',
    plain: false,
  };
}

/** True when the spec yields a value (field, constant or expression). */
export function specIsPresent(spec: ColumnSpec): boolean {
  return spec.index >= 0 || spec.constant !== null || spec.expression !== null;
}

/** Finishes a plan from its specs: present columns, missing required ones and unused source columns. */
export function finishPlan(specs: ColumnSpec[], header: string[], used: ReadonlySet<number>): ColumnPlan {
  const columns = specs.filter(specIsPresent).map((s) => s.column);
  const missingRequired = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  const unknownColumns = header.filter((name, i) => !used.has(i) && name.length > 0);
  return {
    specs,
    columns,
    unknownColumns,
    missingRequired,
    header,
    readIndexes: used,
    where: null,
    latestBy: null,
    problems: [],
  };
}

/** The plan for a tape whose header already uses the canonical names (no mapping file). */
export function identityPlan(header: readonly string[]): ColumnPlan {
  const names = header.map((h) => h.trim());
  const used = new Set<number>();
  const specs = TAPE_COLUMNS.map((column) => {
    const spec = absentSpec(column);
    const index = names.indexOf(column);
    if (index >= 0) {
      spec.index = index;
      used.add(index);
    }
    return spec;
  });
  return finishPlan(specs, names, used);
}
