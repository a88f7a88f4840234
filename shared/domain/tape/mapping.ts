import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { REQUIRED_COLUMNS, TAPE_COLUMNS, type TapeColumn } from '../loan.ts';
import { absentSpec, type ColumnPlan, type ColumnSpec, type DateUnit, finishPlan } from './column-plan.ts';
import { compileDateFormat, DateFormatError } from './date-format.ts';
import {
  compileExpression,
  ExpressionError,
  type ExpressionNode,
  expressionColumns,
  isCondition,
  parseExpression,
  usesRowNumber,
} from './expression.ts';

/**
 * The column mapping: how a lender's own export (any headers, units, date formats, codes,
 * delimiter, with or without a header line, one row per loan or a monthly panel) becomes the
 * canonical tape of loan-tape.md. docs/mapping.md is its reference, with a worked example of
 * every feature.
 */

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

/** The default time zone in which a Parquet instant (a UTC-adjusted timestamp) is dated. */
export const DEFAULT_TAPE_TIME_ZONE = 'Asia/Shanghai';

const DATE_COLUMNS: ReadonlySet<TapeColumn> = new Set(['snapshot_date', 'origination_date', 'maturity_date']);

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

/** A column name or a whole number: what date arithmetic adds. */
const amountToAdd = z.union([z.string().min(1), z.number().int()]);

const AddSchema = z
  .strictObject({
    days: amountToAdd.optional(),
    months: amountToAdd.optional(),
    years: amountToAdd.optional(),
  })
  .refine((a) => Object.keys(a).length === 1, { message: 'give exactly one of days, months or years' });

const ColumnRuleSchema = z
  .strictObject({
    /** Source header to read. */
    from: z.string().min(1).optional(),
    /** Which of several source columns of that name (1 = the first): a header that repeats a name. */
    occurrence: z.number().int().positive().optional(),
    /** Fixed value for every row. */
    constant: scalar.optional(),
    /** An expression over source columns (docs/mapping.md). */
    expr: z.string().min(1).optional(),
    unit: z.enum(Object.keys(UNITS) as [keyof typeof UNITS, ...(keyof typeof UNITS)[]]).optional(),
    scale: z.number().positive().optional(),
    dateFormat: z.string().min(1).optional(),
    /** Date arithmetic: adds days, months or years (a source column or a whole number). */
    add: AddSchema.optional(),
    /** Source column holding whole months to add (the older spelling of `add: { months: ... }`). */
    addMonths: z.string().min(1).optional(),
    values: z.record(z.string(), scalar).optional(),
    otherwise: scalar.optional(),
    /** Value of an empty cell. */
    default: scalar.optional(),
  })
  .refine((r) => [r.from, r.constant, r.expr].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of from, constant or expr',
  })
  .refine((r) => r.occurrence === undefined || r.from !== undefined, {
    message: 'occurrence goes with from',
  })
  .refine((r) => r.add === undefined || r.addMonths === undefined, {
    message: 'give add or addMonths, not both',
  });

/** `,` by default; `tab` and `space` name those characters. */
const DelimiterSchema = z
  .string()
  .transform((d) => (d === 'tab' || d === '\\t' ? '\t' : d === 'space' ? ' ' : d))
  .refine((d) => d.length === 1 && d !== '"' && d !== '\n' && d !== '\r', {
    message: 'a delimiter is one character (or tab, space), not a quote or a line break',
  });

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A mapping file: how a lender's export becomes the canonical tape (loan-tape.md). */
export const ColumnMappingSchema = z.strictObject({
  /** Text encoding of the tape (e.g. gbk, gb18030, big5); default utf-8. */
  encoding: z.string().min(1).optional(),
  /** Field delimiter of a CSV tape: `,` (default), `;`, `|`, `tab`, `space`. */
  delimiter: DelimiterSchema.optional(),
  /** The tape has no header line: these are its columns, in order. */
  columnNames: z
    .array(z.string().min(1))
    .min(1)
    .refine((names) => new Set(names).size === names.length, { message: 'names a column twice' })
    .optional(),
  /** Default date format of every date column that does not set its own. */
  dateFormat: z.string().min(1).optional(),
  /** IANA time zone in which Parquet instants are dated; default Asia/Shanghai. */
  timeZone: z.string().refine(validTimeZone, { message: 'not an IANA time zone' }).optional(),
  /** Only rows for which this condition is true are part of the tape; the rest are counted as filtered. */
  where: z.string().min(1).optional(),
  /** A panel with several rows per loan: keep each loan's row with the largest `by`. */
  latest: z.strictObject({ by: z.string().min(1) }).optional(),
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
  const mapping = parsed.data;
  const invalid = (field: string, message: string): ConfigError =>
    new ConfigError(`column mapping ${source} is invalid: ${field}: ${message}`);
  // Compile formats and expressions now so a typo fails before any tape is read.
  const check = (field: string, work: () => void): void => {
    try {
      work();
    } catch (error) {
      if (error instanceof ExpressionError || error instanceof DateFormatError)
        throw invalid(field, error.message);
      throw error;
    }
  };
  for (const [column, rule] of Object.entries(mapping.columns)) {
    if (rule === undefined) continue;
    check(`columns.${column}`, () => {
      if (rule.expr !== undefined) parseExpression(rule.expr);
      if (rule.dateFormat !== undefined) compileDateFormat(rule.dateFormat);
    });
    const dated = DATE_COLUMNS.has(column as TapeColumn);
    if ((rule.add !== undefined || rule.addMonths !== undefined) && !dated)
      throw invalid(`columns.${column}`, 'date arithmetic (add) applies to date columns only');
  }
  if (mapping.dateFormat !== undefined) check('dateFormat', () => compileDateFormat(mapping.dateFormat!));
  if (mapping.where !== undefined) {
    check('where', () => {
      if (!isCondition(parseExpression(mapping.where!)))
        throw new ExpressionError('is not a condition (a comparison, or conditions joined by and, or, not)');
    });
  }
  if (mapping.latest !== undefined) check('latest.by', () => parseExpression(mapping.latest!.by));
  return mapping;
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

/**
 * Whether a tape read through this mapping must be read whole, part by part, never in byte
 * ranges: latest-row-per-loan needs every row of a loan, and row() numbers rows within a part.
 */
export function mappingReadsWholeParts(mapping: ColumnMapping | undefined): boolean {
  if (mapping === undefined) return false;
  if (mapping.latest !== undefined) return true;
  const trees: string[] = [
    ...(mapping.where === undefined ? [] : [mapping.where]),
    ...Object.values(mapping.columns).flatMap((r) => (r?.expr === undefined ? [] : [r.expr])),
  ];
  return trees.some((t) => usesRowNumber(parseExpression(t)));
}

/** Extra facts of compiling a mapping against a header. */
export interface MappedPlan extends ColumnPlan {
  /** Source columns the mapping names that the header lacks, with the canonical column needing them. */
  missingSources: { column: TapeColumn; source: string }[];
  /** Source names read that the header holds more than once (1-based positions), with no occurrence given. */
  ambiguous: { column: TapeColumn | 'where' | 'latest.by'; source: string; positions: number[] }[];
}

/**
 * Resolves a mapping (or none) against a part's header. Canonical columns the mapping does not
 * mention are read by their own name when the header has them.
 */
export function compileMapping(mapping: ColumnMapping | undefined, rawHeader: readonly string[]): MappedPlan {
  const header = rawHeader.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim());
  const positions = new Map<string, number[]>();
  header.forEach((h, i) => {
    const list = positions.get(h);
    if (list === undefined) positions.set(h, [i]);
    else list.push(i);
  });
  const used = new Set<number>();
  const missingSources: MappedPlan['missingSources'] = [];
  const ambiguous: MappedPlan['ambiguous'] = [];
  /** The source index of a name for `column` (-1 when absent), noting absence and ambiguity. */
  const find = (
    column: MappedPlan['ambiguous'][number]['column'],
    name: string,
    occurrence?: number,
  ): number => {
    const list = positions.get(name.trim());
    const at = list?.[(occurrence ?? 1) - 1];
    if (at === undefined) {
      if (column !== 'where' && column !== 'latest.by')
        missingSources.push({
          column,
          source: occurrence === undefined ? name : `${name} (occurrence ${occurrence})`,
        });
      return -1;
    }
    if (occurrence === undefined && list!.length > 1)
      ambiguous.push({ column, source: name, positions: list!.map((i) => i + 1) });
    used.add(at);
    return at;
  };
  /** Compiles an expression, its columns found (null when one is missing). */
  const expression = (column: MappedPlan['ambiguous'][number]['column'], tree: ExpressionNode) => {
    const names = expressionColumns(tree);
    const indexes = names.map((n) => find(column, n));
    if (indexes.some((i) => i < 0)) return null;
    return compileExpression(tree, (n) => positions.get(n.trim())?.[0] ?? -1);
  };
  const specs: ColumnSpec[] = TAPE_COLUMNS.map((column) => {
    const spec = absentSpec(column);
    const rule = mapping?.columns[column];
    if (rule === undefined) {
      if (positions.has(column)) spec.index = find(column, column);
      if (DATE_COLUMNS.has(column) && mapping?.dateFormat !== undefined) {
        spec.date = compileDateFormat(mapping.dateFormat);
      }
      return spec;
    }
    const before = missingSources.length;
    if (rule.from !== undefined) spec.index = find(column, rule.from, rule.occurrence);
    if (rule.constant !== undefined) spec.constant = rule.constant;
    if (rule.expr !== undefined) spec.expression = expression(column, parseExpression(rule.expr));
    if (rule.unit !== undefined) {
      spec.scale = UNITS[rule.unit].scale;
      spec.divisor = UNITS[rule.unit].divisor;
    }
    if (rule.scale !== undefined) spec.scale *= rule.scale;
    if (rule.values !== undefined) spec.values = new Map(Object.entries(rule.values));
    if (rule.otherwise !== undefined) spec.otherwise = rule.otherwise;
    if (rule.default !== undefined) spec.fallback = rule.default;
    const add = addRule(rule);
    if (add !== null) {
      spec.addUnit = add.unit;
      if (typeof add.amount === 'number') spec.addConstant = add.amount;
      else spec.addMonthsIndex = find(column, add.amount);
    }
    const format = rule.dateFormat ?? (DATE_COLUMNS.has(column) ? mapping?.dateFormat : undefined);
    if (format !== undefined) spec.date = compileDateFormat(format);
    // A column whose source is missing is absent, so required ones are reported by name.
    if (missingSources.length > before) {
      spec.index = -1;
      spec.constant = null;
      spec.expression = null;
      spec.addMonthsIndex = -1;
    }
    return spec;
  });
  const plan = finishPlan(specs, header, used);
  if (mapping?.where !== undefined) plan.where = expression('where', parseExpression(mapping.where));
  if (mapping?.latest !== undefined)
    plan.latestBy = expression('latest.by', parseExpression(mapping.latest.by));
  if (mapping?.where !== undefined && plan.where === null)
    plan.problems.push(`the mapping's where reads a column its header lacks (${mapping.where})`);
  if (mapping?.latest !== undefined && plan.latestBy === null)
    plan.problems.push(`the mapping's latest.by reads a column its header lacks (${mapping.latest.by})`);
  return { ...plan, missingSources, ambiguous };
}

/** The date arithmetic of a rule, whichever spelling it uses, or null. */
function addRule(rule: ColumnRule): { unit: DateUnit; amount: string | number } | null {
  if (rule.addMonths !== undefined) return { unit: 'months', amount: rule.addMonths };
  if (rule.add === undefined) return null;
  const [unit, amount] = Object.entries(rule.add)[0] as [DateUnit, string | number];
  return { unit, amount };
}

/**
 * One sentence naming what a header cannot give: required columns it lacks, a column it names
 * more than once that the mapping reads without saying which, a `where` or `latest.by` over a
 * missing column. Null when the header is fine.
 */
export function describeHeaderProblems(plan: MappedPlan): string | null {
  if (plan.ambiguous.length > 0) {
    const a = plan.ambiguous[0]!;
    const reader = a.column === 'where' || a.column === 'latest.by' ? `the mapping's ${a.column}` : a.column;
    return `its header names the column ${JSON.stringify(a.source)} ${a.positions.length} times (columns ${a.positions.join(', ')}) and ${reader} reads it: say which one with \`from: ${JSON.stringify(a.source)}, occurrence: N\` in the column mapping`;
  }
  if (plan.missingRequired.length > 0) {
    const parts = plan.missingRequired.map((column) => {
      const sources = plan.missingSources
        .filter((m) => m.column === column)
        .map((m) => JSON.stringify(m.source));
      return sources.length > 0 ? `${column} (mapped from ${sources.join(', ')})` : column;
    });
    return `its header lacks the required column${parts.length > 1 ? 's' : ''} ${parts.join(', ')}`;
  }
  return plan.problems[0] ?? null;
}

/** Required canonical columns (re-exported for callers that only import the mapping). */
export const REQUIRED_TAPE_COLUMNS: readonly TapeColumn[] = REQUIRED_COLUMNS;
