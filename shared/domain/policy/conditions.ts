/**
 * Conditions as generated source: the one evaluation of a rule's or flag's conditions, compiled
 * into the per-row loop's bit masks (compile.ts), and their readable form for findings.
 */
import { debtToIncome, isCoLent, purposeOf } from '../loan.ts';
import { BOOLEAN_FIELDS, type Condition, NUMERIC_FIELDS, TEXT_FIELDS } from './policy.ts';

// Loan expressions of each field for generated code; the derived fields call the one definition
// of each (passed in as `h`).
const FIELD_EXPR: Record<string, string> = {
  ...Object.fromEntries([...NUMERIC_FIELDS, ...BOOLEAN_FIELDS, ...TEXT_FIELDS].map((f) => [f, `loan.${f}`])),
  dti: 'h.debtToIncome(loan)',
  loanPurpose: 'h.purposeOf(loan)',
  coLent: 'h.isCoLent(loan)',
};

/** The helpers generated code may call (`h.name`): the single definitions of the derived fields. */
export const CONDITION_HELPERS = { purposeOf, isCoLent, debtToIncome } as const;

/** A JSON literal for generated code; only validated values enter it. */
export function literal(v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`policy bound must be finite, got ${v}`);
  return JSON.stringify(v);
}

/** Generated source of one condition: an expression of `loan` (and the scratch variable `v`). */
export function conditionSource(c: Condition): string {
  const expr = FIELD_EXPR[c.field];
  if (expr === undefined) throw new Error(`unknown condition field ${c.field}`);
  if (c.present !== undefined) return `((${expr}) ${c.present ? '!==' : '==='} null)`;
  const tests: string[] = [];
  if (c.above !== undefined) tests.push(`v > ${literal(c.above)}`);
  if (c.atLeast !== undefined) tests.push(`v >= ${literal(c.atLeast)}`);
  if (c.below !== undefined) tests.push(`v < ${literal(c.below)}`);
  if (c.atMost !== undefined) tests.push(`v <= ${literal(c.atMost)}`);
  const isText = (TEXT_FIELDS as readonly string[]).includes(c.field);
  const isBoolean = (BOOLEAN_FIELDS as readonly string[]).includes(c.field);
  const cast = (x: string | number | boolean): string | number | boolean =>
    isText ? String(x) : isBoolean ? x === true : Number(x);
  if (c.equals !== undefined) tests.push(`v === ${literal(cast(c.equals))}`);
  if (c.in !== undefined) tests.push(`(${c.in.map((x) => `v === ${literal(cast(x))}`).join(' || ')})`);
  if (isBoolean && c.equals === undefined && c.in === undefined) tests.push('v === true');
  return `((v = ${expr}) === null ? ${c.orMissing === true} : (${tests.join(' && ') || 'true'}))`;
}

/** Human-readable form of conditions for findings, e.g. "annualRate > 0.36". */
export function describeConditions(conditions: readonly Condition[]): string {
  return conditions
    .map((c) => {
      if (c.present !== undefined) return `${c.field} ${c.present ? 'given' : 'unknown'}`;
      const parts: string[] = [];
      if (c.above !== undefined) parts.push(`${c.field} > ${c.above}`);
      if (c.atLeast !== undefined) parts.push(`${c.field} >= ${c.atLeast}`);
      if (c.below !== undefined) parts.push(`${c.field} < ${c.below}`);
      if (c.atMost !== undefined) parts.push(`${c.field} <= ${c.atMost}`);
      if (c.equals !== undefined) parts.push(`${c.field} = ${String(c.equals)}`);
      if (c.in !== undefined) parts.push(`${c.field} in (${c.in.join(', ')})`);
      const text = parts.join(' and ');
      return c.orMissing === true ? `(${text} or ${c.field} unknown)` : text;
    })
    .join(' and ');
}
