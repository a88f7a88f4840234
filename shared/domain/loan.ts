/** The two kinds of borrower a tape may carry (loan-tape.md). */
export const BORROWER_TYPES = ['individual', 'enterprise'] as const;
export type BorrowerType = (typeof BORROWER_TYPES)[number];

/** The three products a tape may carry (loan-tape.md). */
export const PRODUCTS = ['order_financing', 'credit_loan', 'consumer_credit'] as const;
export type Product = (typeof PRODUCTS)[number];

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
] as const;
export type TapeColumn = (typeof TAPE_COLUMNS)[number];

/** Columns every tape must carry (loan-tape.md). */
export const REQUIRED_COLUMNS: readonly TapeColumn[] = TAPE_COLUMNS.slice(0, 12);

/** Optional columns; `dataQuality.missingRate` reports each of them. */
export const OPTIONAL_COLUMNS: readonly TapeColumn[] = TAPE_COLUMNS.slice(12);
