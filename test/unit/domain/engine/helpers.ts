import { readFileSync } from 'node:fs';
import type { Loan } from '../../../../shared/domain/loan.ts';
import {
  defaultPolicyPaths,
  type Policy,
  type PolicyDocument,
  parsePolicy,
} from '../../../../shared/domain/policy/policy.ts';
import { policyInForce } from '../../../../shared/domain/policy/resolve.ts';
import { emptyIntakeStats, type IntakeStats } from '../../../../shared/domain/tape/intake.ts';

/** The default policy files shipped in policies/, plus any extra documents (a lender profile). */
export function defaultPolicyFiles(...extra: PolicyDocument[]): Policy {
  const paths = defaultPolicyPaths();
  return parsePolicy([
    { text: readFileSync(paths.rules, 'utf8'), fileName: 'default-rules.yaml' },
    { text: readFileSync(paths.appetite, 'utf8'), fileName: 'risk-appetite.yaml' },
    ...extra,
  ]);
}

/** The default policy resolved for a tape of `date` in `currency` (the tests' tapes are of 2026-11-25). */
export function defaultPolicy(date = '2026-11-25', currency = 'CNY'): Policy {
  return policyInForce(defaultPolicyFiles(), date, currency);
}

/** A lender profile document (kind: lender-profile) for the given lender fields. */
export function lenderProfile(lender: {
  licence: string;
  netAssets?: number | null;
  tier1Capital?: number | null;
  licensedRegions?: string[] | null;
  currency?: string;
}): PolicyDocument {
  const text = [
    'kind: lender-profile',
    'lender:',
    `  licence: ${lender.licence}`,
    `  netAssets: ${lender.netAssets ?? null}`,
    `  tier1Capital: ${lender.tier1Capital ?? null}`,
    `  licensedRegions: ${lender.licensedRegions === undefined || lender.licensedRegions === null ? null : JSON.stringify(lender.licensedRegions)}`,
    `  currency: ${lender.currency ?? 'CNY'}`,
  ].join('\n');
  return { text, fileName: 'lender.yaml' };
}

/** The default pack for another lender, resolved for a tape of `date` in `currency`. */
export function policyFor(
  lender: Parameters<typeof lenderProfile>[0],
  date = '2026-11-25',
  currency = 'CNY',
): Policy {
  return policyInForce(defaultPolicyFiles(lenderProfile(lender)), date, currency);
}

/** A valid loan with every optional field empty ("unknown"), overridden as needed. */
export function makeLoan(overrides: Partial<Loan> = {}): Loan {
  return {
    snapshotDate: '2026-11-25',
    loanId: 'L1',
    borrowerId: 'B1',
    borrowerType: 'individual',
    product: 'credit_loan',
    principal: 1000,
    outstandingPrincipal: 1000,
    annualRate: 0.18,
    termMonths: 12,
    originationDate: '2026-01-01',
    maturityDate: '2027-01-01',
    daysPastDue: 0,
    currency: 'CNY',
    region: null,
    industry: null,
    merchantId: null,
    borrowerAge: null,
    annualIncome: null,
    monthlyDebtPayments: null,
    otherLendersCount: null,
    creditScore: null,
    isStudent: null,
    ownFundingShare: 1,
    loanPurpose: null,
    partnerId: null,
    relatedPartyGroup: null,
    reportedClassification: null,
    ...overrides,
  };
}

/** Intake counts matching a list of valid loans, with optional extras. */
export function intakeOf(loans: readonly Loan[], extra: Partial<IntakeStats> = {}): IntakeStats {
  const missing: Record<string, number> = {};
  const count = (column: string, empty: boolean): void => {
    if (empty) missing[column] = (missing[column] ?? 0) + 1;
  };
  for (const l of loans) {
    count('region', l.region === null);
    count('industry', l.industry === null);
    count('merchant_id', l.merchantId === null);
    count('borrower_age', l.borrowerAge === null);
    count('annual_income', l.annualIncome === null);
    count('monthly_debt_payments', l.monthlyDebtPayments === null);
    count('other_lenders_count', l.otherLendersCount === null);
    count('credit_score', l.creditScore === null);
    count('is_student', l.isStudent === null);
    count('loan_purpose', l.loanPurpose === null);
    count('partner_id', l.partnerId === null);
    count('related_party_group', l.relatedPartyGroup === null);
    count('reported_classification', l.reportedClassification === null);
  }
  return {
    ...emptyIntakeStats(),
    rowsRead: loans.length,
    rowsValid: loans.length,
    missingCounts: missing,
    parts: [
      { key: 'snapshots/2026-11-25/loans.csv', sha256: 'a'.repeat(64), bytes: 100, rowsRead: loans.length },
    ],
    ...extra,
  };
}
