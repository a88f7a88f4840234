import type { Loan } from '../loan.ts';
import type { BooleanField, Condition, NumericField, Policy, TextField } from './policy.ts';

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
}

/** Compiles a policy's enabled rules and flags. */
export function compilePolicy(policy: Policy): CompiledPolicy {
  const loanRules: CompiledLoanRule[] = [];
  const borrowerRules: CompiledPolicy['borrowerRules'] = [];
  for (const rule of policy.rulePack.rules) {
    if (!rule.enabled) continue;
    if (rule.kind === 'loan') {
      loanRules.push({ code: rule.code, severity: rule.severity, test: compileConditions(rule.when) });
    } else {
      borrowerRules.push(rule);
    }
  }
  const flags = policy.rulePack.vulnerabilityFlags
    .filter((f) => f.enabled)
    .map((f) => ({ code: f.code, test: compileConditions(f.when) }));
  return { loanRules, borrowerRules, flags };
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
