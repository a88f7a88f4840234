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

/**
 * Debt-to-income: monthly debt service over monthly income, or null unless both are known and
 * income > 0. The scorecard's DTI factor and the rules' derived `dti` field both read it.
 */
export function debtToIncome(loan: Pick<Loan, 'annualIncome' | 'monthlyDebtPayments'>): number | null {
  const income = loan.annualIncome;
  const debt = loan.monthlyDebtPayments;
  if (income === null || debt === null || !(income > 0)) return null;
  return debt / (income / 12);
}

/**
 * How a tape column's cell is read and checked (loan-tape.md "Columns" and "Row validity"):
 * `text` any non-empty string; `choice` one value of `allowed`; `number` a finite decimal, whole
 * when `integer`, at least 0 (`nonNegative`) or above 0 (`positive`) when `min` says so; `date` a
 * real `YYYY-MM-DD` calendar date; `boolean` one of the accepted spellings; `currency` an ISO
 * 4217 code.
 */
export type ColumnKind = 'text' | 'choice' | 'number' | 'date' | 'boolean' | 'currency';

/** One column of the tape: its name, the Loan field it fills and the rules its cells obey. */
export interface TapeColumnRule {
  readonly column: string;
  readonly field: keyof Loan;
  readonly required: boolean;
  readonly kind: ColumnKind;
  /** Whole numbers only (`number`). */
  readonly integer?: boolean;
  /** The smallest value a `number` may hold: `nonNegative` is 0 and up, `positive` above 0. */
  readonly min?: 'nonNegative' | 'positive';
  /** The closed set of a `choice`. */
  readonly allowed?: readonly string[];
  /** The value an empty optional cell stands for (null when it means "unknown"). */
  readonly whenEmpty?: string | number;
}

/**
 * The tape's columns in the order of loan-tape.md, with their rules: the one source of the
 * column names, which of them are required, and what the row validator checks in each cell.
 */
export const TAPE_COLUMN_TABLE = [
  { column: 'snapshot_date', field: 'snapshotDate', required: true, kind: 'date' },
  { column: 'loan_id', field: 'loanId', required: true, kind: 'text' },
  { column: 'borrower_id', field: 'borrowerId', required: true, kind: 'text' },
  { column: 'borrower_type', field: 'borrowerType', required: true, kind: 'choice', allowed: BORROWER_TYPES },
  { column: 'product', field: 'product', required: true, kind: 'choice', allowed: PRODUCTS },
  { column: 'principal', field: 'principal', required: true, kind: 'number', min: 'positive' },
  {
    column: 'outstanding_principal',
    field: 'outstandingPrincipal',
    required: true,
    kind: 'number',
    min: 'nonNegative',
  },
  { column: 'annual_rate', field: 'annualRate', required: true, kind: 'number', min: 'nonNegative' },
  {
    column: 'term_months',
    field: 'termMonths',
    required: true,
    kind: 'number',
    integer: true,
    min: 'positive',
  },
  { column: 'origination_date', field: 'originationDate', required: true, kind: 'date' },
  { column: 'maturity_date', field: 'maturityDate', required: true, kind: 'date' },
  {
    column: 'days_past_due',
    field: 'daysPastDue',
    required: true,
    kind: 'number',
    integer: true,
    min: 'nonNegative',
  },
  { column: 'currency', field: 'currency', required: false, kind: 'currency', whenEmpty: 'CNY' },
  { column: 'region', field: 'region', required: false, kind: 'text' },
  { column: 'industry', field: 'industry', required: false, kind: 'text' },
  { column: 'merchant_id', field: 'merchantId', required: false, kind: 'text' },
  {
    column: 'borrower_age',
    field: 'borrowerAge',
    required: false,
    kind: 'number',
    integer: true,
    min: 'nonNegative',
  },
  { column: 'annual_income', field: 'annualIncome', required: false, kind: 'number', min: 'nonNegative' },
  {
    column: 'monthly_debt_payments',
    field: 'monthlyDebtPayments',
    required: false,
    kind: 'number',
    min: 'nonNegative',
  },
  {
    column: 'other_lenders_count',
    field: 'otherLendersCount',
    required: false,
    kind: 'number',
    integer: true,
    min: 'nonNegative',
  },
  {
    column: 'credit_score',
    field: 'creditScore',
    required: false,
    kind: 'number',
    integer: true,
    min: 'nonNegative',
  },
  { column: 'is_student', field: 'isStudent', required: false, kind: 'boolean' },
  {
    column: 'own_funding_share',
    field: 'ownFundingShare',
    required: false,
    kind: 'number',
    min: 'nonNegative',
    whenEmpty: 1,
  },
  { column: 'loan_purpose', field: 'loanPurpose', required: false, kind: 'choice', allowed: LOAN_PURPOSES },
  { column: 'partner_id', field: 'partnerId', required: false, kind: 'text' },
  { column: 'related_party_group', field: 'relatedPartyGroup', required: false, kind: 'text' },
  {
    column: 'reported_classification',
    field: 'reportedClassification',
    required: false,
    kind: 'choice',
    allowed: REPORTED_CLASSIFICATIONS,
  },
] as const satisfies readonly TapeColumnRule[];

/** A canonical tape column name. */
export type TapeColumn = (typeof TAPE_COLUMN_TABLE)[number]['column'];

/** Canonical tape column names, in the order of loan-tape.md. */
export const TAPE_COLUMNS = TAPE_COLUMN_TABLE.map((c) => c.column) as unknown as readonly [
  TapeColumn,
  ...TapeColumn[],
];

/** Columns every tape must carry (loan-tape.md). */
export const REQUIRED_COLUMNS: readonly TapeColumn[] = TAPE_COLUMN_TABLE.filter((c) => c.required).map(
  (c) => c.column,
);

/** Optional columns; `dataQuality.missingRate` reports each of them. */
export const OPTIONAL_COLUMNS: readonly TapeColumn[] = TAPE_COLUMN_TABLE.filter((c) => !c.required).map(
  (c) => c.column,
);
