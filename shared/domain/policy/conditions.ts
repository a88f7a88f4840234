import { isCoLent, type Loan, purposeOf } from '../loan.ts';
import {
  type BooleanField,
  type Condition,
  type NumericField,
  TEXT_FIELDS,
  type TextField,
} from './policy.ts';

/** A compiled test on one loan; built once per run so the per-row loop only calls closures. */
export type LoanPredicate = (loan: Loan) => boolean;

/** Monthly debt service over monthly income, or null unless both are known and income > 0. */
export function debtToIncome(loan: Loan): number | null {
  const income = loan.annualIncome;
  const debt = loan.monthlyDebtPayments;
  if (income === null || debt === null || !(income > 0)) return null;
  return debt / (income / 12);
}

// One getter per field keeps every property access monomorphic in the hot loop.
const NUMERIC_GETTERS: Record<NumericField, (l: Loan) => number | null> = {
  principal: (l) => l.principal,
  outstandingPrincipal: (l) => l.outstandingPrincipal,
  annualRate: (l) => l.annualRate,
  termMonths: (l) => l.termMonths,
  daysPastDue: (l) => l.daysPastDue,
  borrowerAge: (l) => l.borrowerAge,
  annualIncome: (l) => l.annualIncome,
  monthlyDebtPayments: (l) => l.monthlyDebtPayments,
  otherLendersCount: (l) => l.otherLendersCount,
  creditScore: (l) => l.creditScore,
  ownFundingShare: (l) => l.ownFundingShare,
  dti: debtToIncome,
};
const BOOLEAN_GETTERS: Record<BooleanField, (l: Loan) => boolean | null> = {
  isStudent: (l) => l.isStudent,
  coLent: isCoLent,
};
const TEXT_GETTERS: Record<TextField, (l: Loan) => string | null> = {
  borrowerType: (l) => l.borrowerType,
  product: (l) => l.product,
  region: (l) => l.region,
  industry: (l) => l.industry,
  currency: (l) => l.currency,
  merchantId: (l) => l.merchantId,
  loanPurpose: purposeOf,
  partnerId: (l) => l.partnerId,
  relatedPartyGroup: (l) => l.relatedPartyGroup,
  reportedClassification: (l) => l.reportedClassification,
};

function compileCondition(c: Condition): LoanPredicate {
  const orMissing = c.orMissing === true;
  if (c.present !== undefined) {
    const get =
      NUMERIC_GETTERS[c.field as NumericField] ??
      BOOLEAN_GETTERS[c.field as BooleanField] ??
      TEXT_GETTERS[c.field as TextField];
    const present = c.present;
    return (loan) => (get(loan) !== null) === present;
  }
  if (c.field in NUMERIC_GETTERS) {
    const get = NUMERIC_GETTERS[c.field as NumericField];
    const lo = c.above ?? -Infinity;
    const loInclusive = c.atLeast ?? -Infinity;
    const hi = c.below ?? Infinity;
    const hiInclusive = c.atMost ?? Infinity;
    const eq = typeof c.equals === 'number' ? c.equals : null;
    const set = c.in !== undefined ? new Set(c.in.map(Number)) : null;
    return (loan) => {
      const v = get(loan);
      if (v === null) return orMissing;
      if (v > lo && v >= loInclusive && v < hi && v <= hiInclusive && (eq === null || v === eq)) {
        return set === null || set.has(v);
      }
      return false;
    };
  }
  if (c.field in BOOLEAN_GETTERS) {
    const get = BOOLEAN_GETTERS[c.field as BooleanField];
    const want = c.equals === undefined ? true : c.equals === true;
    return (loan) => {
      const v = get(loan);
      return v === null ? orMissing : v === want;
    };
  }
  const get = TEXT_GETTERS[c.field as TextField];
  const eq = c.equals === undefined ? null : String(c.equals);
  const set = c.in !== undefined ? new Set(c.in.map(String)) : null;
  return (loan) => {
    const v = get(loan);
    if (v === null) return orMissing;
    return (eq === null || v === eq) && (set === null || set.has(v));
  };
}

/** Compiles the conjunction of a rule's or flag's conditions into one predicate (closures). */
export function compileConditions(conditions: readonly Condition[]): LoanPredicate {
  const parts = conditions.map(compileCondition);
  if (parts.length === 1) return parts[0]!;
  return (loan) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(loan)) return false;
    return true;
  };
}

// Loan expressions of each field for generated code; `dti` mirrors debtToIncome, and the derived
// fields call the one definition of each (passed in as `h`).
const FIELD_EXPR: Record<string, string> = {
  ...Object.fromEntries(
    [...Object.keys(NUMERIC_GETTERS), ...Object.keys(BOOLEAN_GETTERS), ...Object.keys(TEXT_GETTERS)].map(
      (f) => [f, `loan.${f}`],
    ),
  ),
  dti: '(loan.annualIncome === null || loan.monthlyDebtPayments === null || !(loan.annualIncome > 0) ? null : loan.monthlyDebtPayments / (loan.annualIncome / 12))',
  loanPurpose: 'h.purposeOf(loan)',
  coLent: 'h.isCoLent(loan)',
};

/** The helpers generated code may call (`h.name`): the single definitions of the derived fields. */
export const CONDITION_HELPERS = { purposeOf, isCoLent } as const;

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
  const isBoolean = c.field in BOOLEAN_GETTERS;
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
