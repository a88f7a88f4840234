import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { REQUIRED_COLUMNS, TAPE_COLUMNS, type TapeColumn } from '../loan.ts';
import { absentSpec, type ColumnPlan, type ColumnSpec, finishPlan } from './column-plan.ts';
import { compileDateFormat, DateFormatError } from './date-format.ts';
import { compileExpression, ExpressionError, expressionColumns, parseExpression } from './expression.ts';

/** Unit conversions a mapping may declare for a number column: the value is divided or multiplied. */
export const UNITS = {
  /** Already canonical. */
  yuan: { scale: 1, divisor: 1 },
  fraction: { scale: 1, divisor: 1 },
  /** 18 -> 0.18. */
  percent: { scale: 1, divisor: 100 },
  /** 18 -> 0.018. */
  permille: { scale: 1, divisor: 1000 },
  /** Amount in fen (cents): 1234 -> 12.34 yuan. */
  fen: { scale: 1, divisor: 100 },
  /** Amount in wan (10,000 yuan): 1.5 -> 15000. */
  wan: { scale: 10_000, divisor: 1 },
} as const;

const DATE_COLUMNS: ReadonlySet<TapeColumn> = new Set(['snapshot_date', 'origination_date', 'maturity_date']);

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const ColumnRuleSchema = z
  .strictObject({
    /** Source header to read. */
    from: z.string().min(1).optional(),
    /** Fixed value for every row. */
    constant: scalar.optional(),
    /** Arithmetic over source columns (numbers only). */
    expr: z.string().min(1).optional(),
    unit: z.enum(Object.keys(UNITS) as [keyof typeof UNITS, ...(keyof typeof UNITS)[]]).optional(),
    scale: z.number().positive().optional(),
    dateFormat: z.string().min(1).optional(),
    /** Source column holding whole months to add (maturity = origination + term). */
    addMonths: z.string().min(1).optional(),
    values: z.record(z.string(), scalar).optional(),
    otherwise: scalar.optional(),
  })
  .refine((r) => [r.from, r.constant, r.expr].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of from, constant or expr',
  });

/** A mapping file: how a lender's export becomes the canonical tape (loan-tape.md). */
export const ColumnMappingSchema = z.strictObject({
  /** Text encoding of the tape (e.g. gbk, gb18030, big5); default utf-8. */
  encoding: z.string().min(1).optional(),
  /** Default date format of every date column that does not set its own. */
  dateFormat: z.string().min(1).optional(),
  /** Canonical column -> rule; a bare string is shorthand for `{ from: <string> }`. */
  columns: z.partialRecord(
    z.enum(TAPE_COLUMNS),
    z.preprocess((v) => (typeof v === 'string' ? { from: v } : v), ColumnRuleSchema),
  ),
});
/** A validated column mapping. */
export type ColumnMapping = z.infer<typeof ColumnMappingSchema>;
/** One column's rule in a mapping. */
export type ColumnRule = z.infer<typeof ColumnRuleSchema>;

/** Validates an already-parsed mapping object, naming the file and field of the first problems. */
export function validateMapping(data: unknown, source = 'mapping'): ColumnMapping {
  const parsed = ColumnMappingSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
      .join('; ');
    throw new ConfigError(`column mapping ${source} is invalid: ${problems}`);
  }
  // Compile formats and expressions now so a typo fails before any tape is read.
  for (const [column, rule] of Object.entries(parsed.data.columns)) {
    if (rule === undefined) continue;
    try {
      if (rule.expr !== undefined) parseExpression(rule.expr);
      if (rule.dateFormat !== undefined) compileDateFormat(rule.dateFormat);
    } catch (error) {
      if (error instanceof ExpressionError || error instanceof DateFormatError) {
        throw new ConfigError(`column mapping ${source} is invalid: columns.${column}: ${error.message}`);
      }
      throw error;
    }
  }
  if (parsed.data.dateFormat !== undefined) {
    try {
      compileDateFormat(parsed.data.dateFormat);
    } catch (error) {
      throw new ConfigError(`column mapping ${source} is invalid: dateFormat: ${(error as Error).message}`);
    }
  }
  return parsed.data;
}

/** Parses a mapping file's text, JSON or YAML (JSON is YAML, so one parser reads both). */
export function parseMapping(text: string, source = 'mapping'): ColumnMapping {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new ConfigError(`column mapping ${source} is not valid YAML or JSON: ${first}`);
  }
  return validateMapping(data, source);
}

/** Extra facts of compiling a mapping against a header. */
export interface MappedPlan extends ColumnPlan {
  /** Source columns the mapping names that the header lacks, with the canonical column needing them. */
  missingSources: { column: TapeColumn; source: string }[];
}

/**
 * Resolves a mapping (or none) against a part's header. Canonical columns the mapping does not
 * mention are read by their own name when the header has them.
 */
export function compileMapping(mapping: ColumnMapping | undefined, rawHeader: readonly string[]): MappedPlan {
  const header = rawHeader.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
  const indexOf = (name: string): number => header.indexOf(name.trim());
  const used = new Set<number>();
  const missingSources: { column: TapeColumn; source: string }[] = [];
  const use = (column: TapeColumn, name: string): number => {
    const i = indexOf(name);
    if (i < 0) missingSources.push({ column, source: name });
    else used.add(i);
    return i;
  };
  const specs: ColumnSpec[] = TAPE_COLUMNS.map((column) => {
    const spec = absentSpec(column);
    const rule = mapping?.columns[column];
    if (rule === undefined) {
      const i = indexOf(column);
      if (i >= 0) {
        spec.index = i;
        used.add(i);
      }
      if (DATE_COLUMNS.has(column) && mapping?.dateFormat !== undefined) {
        spec.date = compileDateFormat(mapping.dateFormat);
      }
      return spec;
    }
    {
      if (rule.from !== undefined) spec.index = use(column, rule.from);
      if (rule.constant !== undefined) spec.constant = rule.constant;
      if (rule.expr !== undefined) {
        const tree = parseExpression(rule.expr);
        const names = expressionColumns(tree);
        const missing = names.filter((n) => indexOf(n) < 0);
        if (missing.length > 0) for (const n of missing) missingSources.push({ column, source: n });
        else {
          for (const n of names) used.add(indexOf(n));
          spec.expression = compileExpression(tree, indexOf);
        }
      }
      if (rule.unit !== undefined) {
        spec.scale = UNITS[rule.unit].scale;
        spec.divisor = UNITS[rule.unit].divisor;
      }
      if (rule.scale !== undefined) spec.scale *= rule.scale;
      if (rule.values !== undefined) spec.values = new Map(Object.entries(rule.values));
      if (rule.otherwise !== undefined) spec.otherwise = rule.otherwise;
      if (rule.addMonths !== undefined) spec.addMonthsIndex = use(column, rule.addMonths);
      const format = rule.dateFormat ?? (DATE_COLUMNS.has(column) ? mapping?.dateFormat : undefined);
      if (format !== undefined) spec.date = compileDateFormat(format);
    }
    // A column whose source is missing is absent, so required ones are reported by name.
    if (missingSources.some((m) => m.column === column)) {
      spec.index = -1;
      spec.expression = null;
      spec.addMonthsIndex = -1;
    }
    return spec;
  });
  return { ...finishPlan(specs, header, used), missingSources };
}

/** One sentence naming the required columns a header cannot provide, or null when none is missing. */
export function describeMissingColumns(plan: MappedPlan): string | null {
  if (plan.missingRequired.length === 0) return null;
  const parts = plan.missingRequired.map((column) => {
    const sources = plan.missingSources
      .filter((m) => m.column === column)
      .map((m) => JSON.stringify(m.source));
    return sources.length > 0 ? `${column} (mapped from ${sources.join(', ')})` : column;
  });
  return `its header lacks the required column${parts.length > 1 ? 's' : ''} ${parts.join(', ')}`;
}

/** Required canonical columns (re-exported for callers that only import the mapping). */
export const REQUIRED_TAPE_COLUMNS: readonly TapeColumn[] = REQUIRED_COLUMNS;
