import { type Loan, TAPE_COLUMN_TABLE, TAPE_COLUMNS } from '../loan.ts';

/**
 * Writes loans back out in the canonical tape form (the generator, fixtures, and re-exports).
 * Numbers print with JavaScript's shortest round-trip form, so reading a written tape gives
 * the same numbers back bit for bit.
 */

/** Quotes a CSV cell only when RFC 4180 requires it. */
export function csvCell(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 || c === 34 || c === 10 || c === 13) return `"${s.replaceAll('"', '""')}"`;
  }
  return s;
}

function str(s: string | null): string {
  return s === null ? '' : csvCell(s);
}

/**
 * Prints a number so that it parses back to the same double. Number-to-string is slow for
 * fractions in V8, so values with at most four decimals are printed from an integer instead.
 */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n)) return String(n);
  for (let k = 0; k < 3; k++) {
    const f = FACTORS[k]!;
    const scaled = Math.round(n * f);
    if (scaled / f === n && Math.abs(scaled) < 1e15) {
      const neg = scaled < 0;
      const digits = String(neg ? -scaled : scaled).padStart(DECIMALS[k]! + 1, '0');
      const cut = digits.length - DECIMALS[k]!;
      let frac = digits.slice(cut);
      while (frac.endsWith('0')) frac = frac.slice(0, -1);
      return `${neg ? '-' : ''}${digits.slice(0, cut)}.${frac}`;
    }
  }
  return String(n);
}
const FACTORS = [100, 10_000, 1_000_000];
const DECIMALS = [2, 4, 6];

function num(n: number | null): string {
  return n === null ? '' : formatNumber(n);
}

/** The canonical header line (no line break). */
export const TAPE_CSV_HEADER = TAPE_COLUMNS.join(',');

/** One loan as a canonical CSV line (no line break). */
export function loanToCsvLine(l: Loan): string {
  return `${l.snapshotDate},${str(l.loanId)},${str(l.borrowerId)},${str(l.borrowerType)},${str(l.product)},${num(l.principal)},${num(l.outstandingPrincipal)},${num(l.annualRate)},${num(l.termMonths)},${l.originationDate},${l.maturityDate},${num(l.daysPastDue)},${str(l.currency)},${str(l.region)},${str(l.industry)},${str(l.merchantId)},${num(l.borrowerAge)},${num(l.annualIncome)},${num(l.monthlyDebtPayments)},${num(l.otherLendersCount)},${num(l.creditScore)},${l.isStudent === null ? '' : l.isStudent ? 'true' : 'false'},${num(l.ownFundingShare)},${str(l.loanPurpose)},${str(l.partnerId)},${str(l.relatedPartyGroup)},${str(l.reportedClassification)}`;
}

/** Canonical row values in TAPE_COLUMNS order (null for empty): each column's Loan field, from the column table. */
export function loanToRow(l: Loan): (string | number | boolean | null)[] {
  const row = new Array<string | number | boolean | null>(TAPE_COLUMN_TABLE.length);
  for (let i = 0; i < TAPE_COLUMN_TABLE.length; i++) row[i] = l[TAPE_COLUMN_TABLE[i]!.field];
  return row;
}

/** One loan as a canonical JSON line (no line break); NaN and infinities become strings so the line stays JSON. */
export function loanToJsonLine(l: Loan): string {
  const row = loanToRow(l);
  let out = '{';
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    const text = typeof v === 'number' && !Number.isFinite(v) ? JSON.stringify(String(v)) : JSON.stringify(v);
    out += `${i === 0 ? '' : ','}"${TAPE_COLUMNS[i]}":${text}`;
  }
  return `${out}}`;
}
