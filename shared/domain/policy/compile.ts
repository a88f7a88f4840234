import type { Loan } from '../loan.ts';
import {
  type BooleanField,
  type Condition,
  type NumericField,
  type Policy,
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
};
const TEXT_GETTERS: Record<TextField, (l: Loan) => string | null> = {
  borrowerType: (l) => l.borrowerType,
  product: (l) => l.product,
  region: (l) => l.region,
  industry: (l) => l.industry,
  currency: (l) => l.currency,
  merchantId: (l) => l.merchantId,
};

function compileCondition(c: Condition): LoanPredicate {
  const orMissing = c.orMissing === true;
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

/** Compiles the conjunction of a rule's or flag's conditions into one predicate. */
export function compileConditions(conditions: readonly Condition[]): LoanPredicate {
  const parts = conditions.map(compileCondition);
  if (parts.length === 1) return parts[0]!;
  return (loan) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(loan)) return false;
    return true;
  };
}

// Loan expressions of each field for generated code; `dti` mirrors debtToIncome.
const FIELD_EXPR: Record<string, string> = {
  ...Object.fromEntries(
    [...Object.keys(NUMERIC_GETTERS), ...Object.keys(BOOLEAN_GETTERS), ...Object.keys(TEXT_GETTERS)].map(
      (f) => [f, `loan.${f}`],
    ),
  ),
  dti: '(loan.annualIncome === null || loan.monthlyDebtPayments === null || !(loan.annualIncome > 0) ? null : loan.monthlyDebtPayments / (loan.annualIncome / 12))',
};

function literal(v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`policy bound must be finite, got ${v}`);
  return JSON.stringify(v);
}

function conditionSource(c: Condition): string {
  const expr = FIELD_EXPR[c.field];
  if (expr === undefined) throw new Error(`unknown condition field ${c.field}`);
  const tests: string[] = [];
  if (c.above !== undefined) tests.push(`v > ${literal(c.above)}`);
  if (c.atLeast !== undefined) tests.push(`v >= ${literal(c.atLeast)}`);
  if (c.below !== undefined) tests.push(`v < ${literal(c.below)}`);
  if (c.atMost !== undefined) tests.push(`v <= ${literal(c.atMost)}`);
  const isText = (TEXT_FIELDS as readonly string[]).includes(c.field);
  const cast = (x: string | number | boolean): string | number | boolean =>
    isText ? String(x) : c.field === 'isStudent' ? x === true : Number(x);
  if (c.equals !== undefined) tests.push(`v === ${literal(cast(c.equals))}`);
  if (c.in !== undefined) tests.push(`(${c.in.map((x) => `v === ${literal(cast(x))}`).join(' || ')})`);
  if (c.field === 'isStudent' && c.equals === undefined && c.in === undefined) tests.push('v === true');
  return `((v = ${expr}) === null ? ${c.orMissing === true} : (${tests.join(' && ') || 'true'}))`;
}

/**
 * Compiles lists of conditions into one function returning a bit mask (bit i set when every
 * condition of list i holds), generated as straight-line code so the per-row loop makes one call
 * per loan instead of one per rule and field. Only validated field names and JSON literals enter
 * the generated source.
 */
export function compileMask(lists: readonly (readonly Condition[])[]): (loan: Loan) => number {
  if (lists.length > 32) throw new Error('at most 32 rules or flags');
  const lines = lists.map((conds, i) => `  if (${conds.map(conditionSource).join(' && ')}) m |= ${2 ** i};`);
  const source = `'use strict';\nreturn function mask(loan) {\n  let m = 0;\n  let v;\n${lines.join('\n')}\n  return m >>> 0;\n};`;
  return new Function(source)() as (loan: Loan) => number;
}

/** A loan rule ready for the hot loop: its code, severity and predicate. */
export interface CompiledLoanRule {
  code: string;
  severity: 'breach' | 'watch';
  test: LoanPredicate;
}

/** A vulnerability flag ready for the hot loop. */
export interface CompiledFlag {
  code: string;
  test: LoanPredicate;
}

/** The enabled loan rules, borrower rules and flags of a policy, in file order. */
export interface CompiledPolicy {
  loanRules: CompiledLoanRule[];
  borrowerRules: Extract<Policy['rulePack']['rules'][number], { kind: 'borrower_exposure' }>[];
  flags: CompiledFlag[];
  /** Bit i set when loan rule i hits the loan. */
  ruleMask: (loan: Loan) => number;
  /** Bit i set when flag i hits the loan. */
  flagMask: (loan: Loan) => number;
}

/** Compiles a policy's enabled rules and flags. */
export function compilePolicy(policy: Policy): CompiledPolicy {
  const loanRules: CompiledLoanRule[] = [];
  const borrowerRules: CompiledPolicy['borrowerRules'] = [];
  const ruleConditions: Condition[][] = [];
  for (const rule of policy.rulePack.rules) {
    if (!rule.enabled) continue;
    if (rule.kind === 'loan') {
      loanRules.push({ code: rule.code, severity: rule.severity, test: compileConditions(rule.when) });
      ruleConditions.push(rule.when);
    } else {
      borrowerRules.push(rule);
    }
  }
  const enabledFlags = policy.rulePack.vulnerabilityFlags.filter((f) => f.enabled);
  const flags = enabledFlags.map((f) => ({ code: f.code, test: compileConditions(f.when) }));
  return {
    loanRules,
    borrowerRules,
    flags,
    ruleMask: compileMask(ruleConditions),
    flagMask: compileMask(enabledFlags.map((f) => f.when)),
  };
}

/** Human-readable form of a rule's threshold for findings, e.g. "annualRate > 0.36". */
export function describeConditions(conditions: readonly Condition[]): string {
  return conditions
    .map((c) => {
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
