/**
 * An independent reading of policy conditions for the tests: closures over one getter per field,
 * not the generated source the product's masks run (shared/domain/policy/conditions.ts), so the
 * masks can be checked against it on any loan.
 */
import { isCoLent, type Loan, purposeOf } from '../../../../shared/domain/loan.ts';
import type {
  BooleanField,
  Condition,
  NumericField,
  TextField,
} from '../../../../shared/domain/policy/policy.ts';

/** A test of one loan. */
export type LoanPredicate = (loan: Loan) => boolean;

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
  // Written out again on purpose: the masks call the product's debtToIncome.
  dti: (l) =>
    l.annualIncome === null || l.monthlyDebtPayments === null || !(l.annualIncome > 0)
      ? null
      : l.monthlyDebtPayments / (l.annualIncome / 12),
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

/** The conjunction of a rule's or flag's conditions as one predicate (closures). */
export function compileConditions(conditions: readonly Condition[]): LoanPredicate {
  const parts = conditions.map(compileCondition);
  if (parts.length === 1) return parts[0]!;
  return (loan) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(loan)) return false;
    return true;
  };
}
