import { CLASSIFICATIONS, type Classification } from './audit-result.ts';

/** The two kinds of borrower a tape may carry (loan-tape.md). */
export const BORROWER_TYPES = ['individual', 'enterprise'] as const;
export type BorrowerType = (typeof BORROWER_TYPES)[number];

/** The three products a tape may carry (loan-tape.md). */
export const PRODUCTS = ['order_financing', 'credit_loan', 'consumer_credit'] as const;
export type Product = (typeof PRODUCTS)[number];

/** What the money is for (loan-tape.md `loan_purpose`): the balance caps differ by purpose. */
export const LOAN_PURPOSES = ['consumption', 'business'] as const;
export type LoanPurpose = (typeof LOAN_PURPOSES)[number];

/** The five categories a lender may report as its own class (`reported_classification`). */
export const REPORTED_CLASSIFICATIONS: readonly Classification[] = CLASSIFICATIONS;

/**
 * One valid row of a loan tape in canonical form. Optional columns that were empty are `null`
 * ("unknown", never 0), except `ownFundingShare` (default 1) and `currency` (default CNY).
 * Dates stay ISO `YYYY-MM-DD` strings: they compare correctly as strings and cost nothing to keep.
 */
export interface Loan {
  snapshotDate: string;
  loanId: string;
  borrowerId: string;
  borrowerType: BorrowerType;
  product: Product;
  principal: number;
  outstandingPrincipal: number;
  annualRate: number;
  termMonths: number;
  originationDate: string;
  maturityDate: string;
  daysPastDue: number;
  currency: string;
  region: string | null;
  industry: string | null;
  merchantId: string | null;
  borrowerAge: number | null;
  annualIncome: number | null;
  monthlyDebtPayments: number | null;
  otherLendersCount: number | null;
  creditScore: number | null;
  isStudent: boolean | null;
  ownFundingShare: number;
  /** The tape's loan_purpose; null when empty (see `purposeOf` for the purpose the rules use). */
  loanPurpose: LoanPurpose | null;
  /** The co-lending or loan-facilitation partner the loan is made with. */
  partnerId: string | null;
  /** Borrowers sharing a value are one related-party group for exposure limits. */
  relatedPartyGroup: string | null;
  /** The lender's own five-category class, checked against the days-past-due floor. */
  reportedClassification: Classification | null;
}

/**
 * The purpose the rules use (audit-result.md, compliance): `loan_purpose` when the tape gives it,
 * else consumer credit is consumption, order financing business, and a credit loan consumption for
 * an individual and business for an enterprise.
 */
export function purposeOf(loan: Pick<Loan, 'loanPurpose' | 'product' | 'borrowerType'>): LoanPurpose {
  if (loan.loanPurpose !== null) return loan.loanPurpose;
  if (loan.product === 'consumer_credit') return 'consumption';
  if (loan.product === 'order_financing') return 'business';
  return loan.borrowerType === 'individual' ? 'consumption' : 'business';
}

/** A co-lent loan: made with a partner (partner_id given) that funds part of it (own share below 1). */
export function isCoLent(loan: Pick<Loan, 'partnerId' | 'ownFundingShare'>): boolean {
  return loan.partnerId !== null && loan.ownFundingShare < 1;
}

/** Canonical tape column names, in the order of loan-tape.md. */
export const TAPE_COLUMNS = [
  'snapshot_date',
  'loan_id',
  'borrower_id',
  'borrower_type',
  'product',
  'principal',
  'outstanding_principal',
  'annual_rate',
  'term_months',
  'origination_date',
  'maturity_date',
  'days_past_due',
  'currency',
  'region',
  'industry',
  'merchant_id',
  'borrower_age',
  'annual_income',
  'monthly_debt_payments',
  'other_lenders_count',
  'credit_score',
  'is_student',
  'own_funding_share',
  'loan_purpose',
  'partner_id',
  'related_party_group',
  'reported_classification',
] as const;
export type TapeColumn = (typeof TAPE_COLUMNS)[number];

/** Columns every tape must carry (loan-tape.md). */
export const REQUIRED_COLUMNS: readonly TapeColumn[] = TAPE_COLUMNS.slice(0, 12);

/** Optional columns; `dataQuality.missingRate` reports each of them. */
export const OPTIONAL_COLUMNS: readonly TapeColumn[] = TAPE_COLUMNS.slice(12);
