import type { Classification } from '../audit-result.ts';
import type { BorrowerType, Loan, LoanPurpose, Product } from '../loan.ts';
import { addMonthsIso, daysBetween, shiftIsoDays } from '../tape/values.ts';
import { cumulative, hashString, Rng } from './prng.ts';

/**
 * Synthetic loan books for demos, tests and benchmarks: a digital lender's mix of individuals
 * and small businesses over three products, lognormal amounts, a Zipf-like handful of heavy
 * borrowers, a delinquency tail, regions and industries, vulnerable borrowers, co-lending and
 * loan-facilitation partners, related-party groups, the lender's own five-category classes and a
 * few compliance breaches of every kind the default rule pack checks. Everything is a pure function of (seed, date, ids), and books are
 * produced as iterables so a million loans never sit in memory at once.
 */

/** Options of generateBook. */
export interface GenerateBookOptions {
  loans: number;
  /** As-of date, YYYY-MM-DD. */
  date: string;
  seed?: string | number;
  /** Number of deliberately invalid rows mixed in (demo of quarantine); default 0. */
  badRows?: number;
}

/** Options of rollForward. */
export interface RollForwardOptions {
  /** The new as-of date (normally the previous tape's date + 1). */
  date: string;
  seed?: string | number;
  /** New loans per previous loan per day; default 0.004. */
  newLoanRate?: number;
  badRows?: number;
}

const PROVINCES = [
  'Guangdong',
  'Zhejiang',
  'Jiangsu',
  'Shandong',
  'Henan',
  'Sichuan',
  'Hubei',
  'Fujian',
  'Hunan',
  'Shanghai',
  'Beijing',
  'Anhui',
  'Hebei',
  'Shaanxi',
  'Jiangxi',
  'Chongqing',
  'Liaoning',
  'Yunnan',
  'Guangxi',
  'Shanxi',
  'Tianjin',
  'Guizhou',
  'Heilongjiang',
  'Jilin',
  'Inner Mongolia',
  'Xinjiang',
  'Gansu',
  'Hainan',
  'Ningxia',
  'Qinghai',
  'Tibet',
] as const;
const PROVINCE_CUM = cumulative([
  14, 11, 10, 8, 7, 6, 5, 5, 4.5, 4, 3.5, 3.5, 3.5, 3, 2.5, 2.5, 2, 2, 2, 1.8, 1.5, 1.5, 1.2, 1, 1, 0.8, 0.7,
  0.6, 0.3, 0.2, 0.1,
]);

const ENTERPRISE_INDUSTRIES = [
  'retail_ecommerce',
  'wholesale',
  'manufacturing',
  'catering',
  'logistics',
  'agriculture',
  'construction',
  'services',
] as const;
const ENTERPRISE_INDUSTRY_CUM = cumulative([34, 16, 14, 10, 9, 6, 5, 6]);
const OCCUPATIONS = [
  'office_worker',
  'factory_worker',
  'self_employed',
  'gig_worker',
  'civil_servant',
  'farmer',
  'student',
  'retired',
  'unemployed',
] as const;
const OCCUPATION_CUM = cumulative([30, 20, 16, 12, 7, 6, 1.2, 4, 2]);

const HEAVY_BORROWERS = 25;
/** Sum of 1/k over the heavy borrowers' ranks (Zipf normaliser). */
const HARMONIC = Array.from({ length: HEAVY_BORROWERS }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Attributes that belong to a borrower, so every loan of one borrower agrees on them. */
interface Borrower {
  id: string;
  type: BorrowerType;
  region: string;
  industry: string;
  age: number | null;
  income: number | null;
  monthlyDebt: number | null;
  otherLenders: number;
  creditScore: number | null;
  isStudent: boolean | null;
  heavy: boolean;
  /** Related-party group (heavy enterprises and a few small businesses), or null. */
  group: string | null;
}

/** Banks that co-fund loans with the lender (Zipf-like shares), and platforms that only facilitate. */
const CO_LENDING_PARTNERS = ['PB-ICBK', 'PB-CCBX', 'PB-NBCB', 'PB-WZRB', 'PB-HZCB', 'PB-XMIB'] as const;
const CO_LENDING_CUM = cumulative([34, 22, 16, 12, 9, 7]);
const FACILITATION_PARTNERS = ['FP-TMALL', 'FP-JDCOM', 'FP-MEITU'] as const;
const FACILITATION_CUM = cumulative([50, 30, 20]);
/** The date the micro-loan cost guideline reached the industry (policies/default-rules.yaml). */
const COST_GUIDELINE_DATE = '2025-12-24';
/** Five-category class by days past due on the loan scale (the floor every class is checked against). */
function classByDpd(dpd: number): Classification {
  if (dpd <= 0) return 'normal';
  if (dpd <= 90) return 'special_mention';
  if (dpd <= 270) return 'substandard';
  if (dpd <= 360) return 'doubtful';
  return 'loss';
}
const MILDER: Record<Classification, Classification> = {
  normal: 'normal',
  special_mention: 'normal',
  substandard: 'special_mention',
  doubtful: 'substandard',
  loss: 'doubtful',
};

/** Derives a borrower's attributes from its id alone (seeded), so any tape day reproduces them. */
function borrowerFor(id: string, type: BorrowerType, heavy: boolean, seed: string): Borrower {
  const r = new Rng(`${seed}|borrower|${id}`);
  const region = r.pick(PROVINCES, PROVINCE_CUM);
  if (type === 'enterprise') {
    const revenue = r.chance(0.06) ? null : round2(r.lognormal(heavy ? 60_000_000 : 2_000_000, 1.1));
    // The heavy borrowers form a few related-party groups; about 4% of small businesses share a
    // group with two neighbours of the pool.
    const n = Number(id.slice(1));
    const triple = Math.floor(n / 3);
    const group = heavy
      ? `RPG-H${pad(Math.ceil(n / 5), 2)}`
      : hashString(`${seed}|g|${triple}`) % 25 === 0
        ? `RPG-${pad(triple, 7)}`
        : null;
    return {
      id,
      type,
      region,
      group,
      industry: r.pick(ENTERPRISE_INDUSTRIES, ENTERPRISE_INDUSTRY_CUM),
      age: null,
      income: revenue,
      monthlyDebt: revenue === null ? null : round2((revenue / 12) * r.next() * 0.4),
      otherLenders: Math.floor(r.lognormal(1.5, 0.8)),
      creditScore: r.chance(0.05) ? null : Math.round(Math.min(950, Math.max(350, 700 + 70 * r.normal()))),
      isStudent: null,
      heavy,
    };
  }
  let industry: string = r.pick(OCCUPATIONS, OCCUPATION_CUM);
  let age: number;
  if (industry === 'student') age = r.int(18, 24);
  else if (industry === 'retired') age = r.int(58, 75);
  else age = r.chance(0.1) ? r.int(18, 22) : Math.round(Math.min(65, Math.max(20, 35 + 9 * r.normal())));
  // A handful of minors slip through onboarding: the MINOR_BORROWER breach.
  if (r.chance(0.0008)) age = r.int(16, 17);
  if (r.chance(0.03)) industry = r.pick(OCCUPATIONS, OCCUPATION_CUM);
  const income = r.chance(0.08)
    ? null
    : round2(r.lognormal(industry === 'student' ? 12_000 : industry === 'unemployed' ? 20_000 : 85_000, 0.6));
  const dti = r.chance(0.12) ? 0.5 + r.next() * 0.6 : r.next() * 0.45;
  const thin = r.chance(0.06);
  return {
    id,
    type,
    region,
    industry,
    age: r.chance(0.03) ? null : age,
    income,
    monthlyDebt: income === null || r.chance(0.05) ? null : round2((income / 12) * dti),
    otherLenders: r.chance(0.09) ? r.int(3, 9) : r.int(0, 2),
    creditScore: thin ? null : Math.round(Math.min(950, Math.max(350, 660 + 75 * r.normal()))),
    isStudent: r.chance(0.02) ? null : industry === 'student',
    heavy: false,
    group: null,
  };
}

/** Days-past-due draw with a realistic tail (a few loans 361+). */
function drawDpd(r: Rng): number {
  const u = r.next();
  if (u < 0.925) return 0;
  if (u < 0.955) return r.int(1, 30);
  if (u < 0.967) return r.int(31, 60);
  if (u < 0.975) return r.int(61, 90);
  if (u < 0.985) return r.int(91, 180);
  if (u < 0.993) return r.int(181, 360);
  return r.int(361, 720);
}

/** Makes one loan for a borrower on `date`, using `r` for every draw. */
function makeLoan(r: Rng, id: string, b: Borrower, date: string, seed: string, fresh: boolean): Loan {
  let product: Product;
  if (b.type === 'individual') product = r.chance(0.58) ? 'consumer_credit' : 'credit_loan';
  else product = r.chance(0.65) ? 'order_financing' : 'credit_loan';
  let principal: number;
  let term: number;
  let rate: number;
  switch (product) {
    case 'consumer_credit':
      principal = r.lognormal(3_500, 0.9);
      term = [3, 6, 6, 12, 12, 12][r.int(0, 5)]!;
      rate = 0.1 + r.next() * 0.14;
      break;
    case 'credit_loan':
      principal = b.type === 'individual' ? r.lognormal(25_000, 0.9) : r.lognormal(180_000, 1.0);
      term = [6, 12, 12, 24, 36][r.int(0, 4)]!;
      rate = 0.07 + r.next() * 0.15;
      break;
    default:
      principal = r.lognormal(60_000, 1.1);
      term = [1, 2, 3, 3, 6][r.int(0, 4)]!;
      rate = 0.05 + r.next() * 0.12;
  }
  if (b.heavy) principal = r.lognormal(2_000_000, 0.6);
  // Underwriting keeps an individual's loan within a fifth of a known income; a few slip past it
  // (the INDIVIDUAL_BALANCE_CAP breaches), as do borrowers who stack several loans.
  if (b.type === 'individual' && b.income !== null && !b.heavy && r.chance(0.99)) {
    principal = Math.min(principal, b.income / 5);
  }
  // Now and then a large personal loan (renovation, a car) passes the consumption balance caps.
  if (b.type === 'individual' && product === 'credit_loan' && r.chance(0.004)) {
    principal = r.lognormal(230_000, 0.25);
  }
  principal = round2(Math.min(Math.max(principal, 100), 20_000_000));
  // Pricing tail: a few loans above the 24% watch line, fewer above the 36% legal cap.
  const p = r.next();
  if (p < 0.003) rate = 0.37 + r.next() * 0.12;
  else if (p < 0.04) rate = 0.24 + r.next() * 0.12;
  rate = Math.round(rate * 10_000) / 10_000;

  const dpd = fresh ? 0 : drawDpd(r);
  const termDays = term * 30;
  let age = fresh ? 0 : r.int(0, termDays);
  if (dpd > 0) age = Math.max(age, dpd + 30 + r.int(0, 60));
  const origination = shiftDays(date, -age);
  // From the micro-loan cost guideline on, the lender prices new loans within 24% (a few still
  // slip) and more than half within four times the one-year LPR.
  if (origination >= COST_GUIDELINE_DATE) {
    if (rate > 0.24 && r.chance(0.8)) rate = Math.round((0.2 + r.next() * 0.04) * 10_000) / 10_000;
    if (rate > 0.12 && rate <= 0.24 && r.chance(0.55))
      rate = Math.round((0.06 + r.next() * 0.06) * 10_000) / 10_000;
  }
  const maturity = addMonthsIso(origination, term);
  const elapsed = Math.min(1, age / termDays);
  let outstanding: number;
  if (product === 'order_financing') outstanding = principal;
  else if (product === 'consumer_credit') outstanding = principal * (1 - elapsed * r.next());
  else outstanding = principal * (1 - elapsed * (dpd > 0 ? 0.5 : 1));
  if (dpd > 0) outstanding = Math.max(outstanding, principal * 0.3);
  if (dpd > 90) outstanding *= 1 + Math.min(0.3, dpd / 3000); // capitalised interest
  // Co-lent with a bank partner (own share 0.30-0.75, a few below the 30% floor), facilitated by
  // a platform (the lender funds it all), or neither.
  const co = r.next();
  const coLent = co < 0.22;
  const ownShare = coLent ? (r.chance(0.01) ? 0.2 : 0.3 + Math.round(r.next() * 45) / 100) : 1;
  const partnerId = coLent
    ? r.pick(CO_LENDING_PARTNERS, CO_LENDING_CUM)
    : co < 0.3
      ? r.pick(FACILITATION_PARTNERS, FACILITATION_CUM)
      : null;
  // The purpose as the lender records it on seven loans in ten (the rest follow from the product):
  // an individual's credit loan is for business one time in seven (sole traders).
  let purpose: LoanPurpose =
    product === 'consumer_credit'
      ? 'consumption'
      : product === 'order_financing'
        ? 'business'
        : 'consumption';
  if (product === 'credit_loan' && (b.type === 'enterprise' || r.chance(0.15))) purpose = 'business';
  const loanPurpose = r.chance(0.7) ? purpose : null;
  // The lender's own class, reported on nine loans in ten: the floor by days past due, now and then
  // one class milder than it (the CLASSIFICATION_BELOW_FLOOR watch).
  const floor = classByDpd(dpd);
  const reported = r.chance(0.9) ? (dpd > 0 && r.chance(0.03) ? MILDER[floor] : floor) : null;
  const merchantId =
    product === 'order_financing' ? `M${pad(hashString(`${seed}|m|${b.id}`) % 1_000_000, 6)}` : null;
  return {
    snapshotDate: date,
    loanId: id,
    borrowerId: b.id,
    borrowerType: b.type,
    product,
    principal,
    outstandingPrincipal: round2(outstanding),
    annualRate: rate,
    termMonths: term,
    originationDate: origination,
    maturityDate: maturity,
    daysPastDue: dpd,
    currency: 'CNY',
    region: b.region,
    industry: b.industry,
    merchantId,
    borrowerAge: b.age,
    annualIncome: b.income,
    monthlyDebtPayments: b.monthlyDebt,
    otherLendersCount: b.otherLenders,
    creditScore: b.creditScore,
    isStudent: b.isStudent,
    ownFundingShare: ownShare,
    loanPurpose,
    partnerId,
    relatedPartyGroup: b.group,
    reportedClassification: reported,
  };
}

/** ISO date shifted by whole days. */
export const shiftDays = shiftIsoDays;

/** Picks the borrower of a new loan: Zipf-weighted heavy enterprises, else one of a pool. */
function chooseBorrower(r: Rng, poolSize: number, seed: string, cache: Map<string, Borrower>): Borrower {
  let id: string;
  let type: BorrowerType;
  let heavy = false;
  if (r.chance(0.004)) {
    // Zipf(1) over the heavy borrowers: rank k with weight 1/k.
    const u = r.next() * HARMONIC;
    let k = 1;
    for (let acc = 1; acc < u && k < HEAVY_BORROWERS; ) acc += 1 / ++k;
    id = `H${pad(k, 3)}`;
    type = 'enterprise';
    heavy = true;
  } else {
    const n = Math.floor(r.next() * poolSize);
    type = hashString(`${seed}|t|${n}`) % 100 < 72 ? 'individual' : 'enterprise';
    id = `${type === 'individual' ? 'P' : 'E'}${pad(n, 8)}`;
  }
  if (heavy) {
    const cached = cache.get(id);
    if (cached !== undefined) return cached;
    const b = borrowerFor(id, type, heavy, seed);
    cache.set(id, b);
    return b;
  }
  return borrowerFor(id, type, heavy, seed);
}

/** Kinds of bad rows, each exercising one quarantine reason. */
const BAD_KINDS = [
  'duplicate',
  'negative_principal',
  'outstanding_over_cap',
  'maturity_before_origination',
  'not_a_date',
  'unknown_product',
  'missing_borrower',
  'origination_after_snapshot',
  'snapshot_mismatch',
  'nan_rate',
  'own_share_above_one',
] as const;

/** Breaks a loan in one named way (as an exporter bug would). */
function breakLoan(loan: Loan, kind: (typeof BAD_KINDS)[number], previous: Loan | null): Loan {
  const bad: Loan = { ...loan };
  switch (kind) {
    case 'duplicate':
      if (previous !== null) return { ...previous };
      bad.principal = -bad.principal;
      break;
    case 'negative_principal':
      bad.principal = -bad.principal;
      break;
    case 'outstanding_over_cap':
      bad.outstandingPrincipal = round2(bad.principal * 3);
      break;
    case 'maturity_before_origination':
      bad.maturityDate = shiftDays(bad.originationDate, -30);
      break;
    case 'not_a_date':
      bad.originationDate = `${bad.originationDate.slice(0, 4)}-02-30`;
      break;
    case 'unknown_product':
      bad.product = 'mortgage' as Product;
      break;
    case 'missing_borrower':
      bad.borrowerId = '';
      break;
    case 'origination_after_snapshot':
      bad.originationDate = shiftDays(bad.snapshotDate, 3);
      bad.maturityDate = addMonthsIso(bad.originationDate, bad.termMonths);
      break;
    case 'snapshot_mismatch':
      bad.snapshotDate = shiftDays(bad.snapshotDate, -1);
      bad.originationDate = shiftDays(bad.snapshotDate, -10);
      break;
    case 'nan_rate':
      bad.annualRate = Number.NaN;
      break;
    case 'own_share_above_one':
      bad.ownFundingShare = 1.7;
      break;
  }
  return bad;
}

/** Spreads `badRows` defects over `total` rows at seeded positions; returns row index -> kind index. */
function badPositions(total: number, badRows: number, r: Rng): Map<number, number> {
  const out = new Map<number, number>();
  const n = Math.min(badRows, Math.max(0, total - 1));
  for (let k = 0; out.size < n && k < n * 20; k++) {
    const at = 1 + Math.floor(r.next() * (total - 1));
    if (!out.has(at)) out.set(at, out.size % BAD_KINDS.length);
  }
  return out;
}

/**
 * A fresh book of `loans` loans as of `date` (plus `badRows` invalid rows in place of valid
 * ones). Deterministic for a seed; streams, so its memory does not grow with `loans`.
 */
export function* generateBook(options: GenerateBookOptions): Generator<Loan> {
  const seed = String(options.seed ?? 1);
  const r = new Rng(`${seed}|book|${options.date}`);
  const bad = badPositions(options.loans, options.badRows ?? 0, new Rng(`${seed}|bad|${options.date}`));
  const cache = new Map<string, Borrower>();
  const poolSize = Math.max(1, Math.round(options.loans * 0.78));
  let previous: Loan | null = null;
  for (let i = 0; i < options.loans; i++) {
    const b = chooseBorrower(r, poolSize, seed, cache);
    const loan = makeLoan(r, `L${pad(i + 1, 9)}`, b, options.date, seed, false);
    const kind = bad.get(i);
    yield kind === undefined ? loan : breakLoan(loan, BAD_KINDS[kind]!, previous);
    previous = loan;
  }
}

/**
 * Moves one loan forward one day: it may repay, close (dropped: returns null), roll into
 * delinquency, age in it, or cure. Seeded by (seed, date, loan id), so it does not depend on
 * the order of the previous tape.
 */
export function rollLoan(loan: Loan, date: string, seed: string | number): Loan | null {
  const r = new Rng(`${seed}|roll|${date}|${loan.loanId}`);
  const days = Math.max(1, daysBetween(loan.snapshotDate, date));
  let dpd = loan.daysPastDue;
  let outstanding = loan.outstandingPrincipal;
  const matured = loan.maturityDate < date;
  if (dpd === 0) {
    if (matured && r.chance(0.97)) return null; // paid at maturity
    if (r.chance(0.0006 * days)) return null; // early payoff
    if (r.chance((matured ? 0.2 : 0.0012) * days))
      dpd = days; // rolls into delinquency
    else if (loan.product !== 'order_financing') {
      const termDays = loan.termMonths * 30;
      const step = (loan.principal / termDays) * days;
      outstanding =
        loan.product === 'consumer_credit' ? outstanding - step * r.next() * 2 : outstanding - step;
      if (outstanding <= 0.5) return null; // repaid in full
    }
  } else if (r.chance(dpd <= 30 ? 0.05 * days : dpd <= 90 ? 0.015 * days : 0.002 * days)) {
    dpd = 0; // cured: arrears paid
    outstanding *= 0.97;
  } else {
    dpd += days;
    if (dpd > 900 && r.chance(0.05)) return null; // written off and sold
  }
  // The lender updates its own class with the arrears (a class reported milder than its floor stays so).
  const reported = loan.reportedClassification;
  const milder = reported !== null && reported !== classByDpd(loan.daysPastDue);
  return {
    ...loan,
    snapshotDate: date,
    daysPastDue: dpd,
    outstandingPrincipal: round2(Math.max(0, outstanding)),
    reportedClassification: reported === null ? null : milder ? MILDER[classByDpd(dpd)] : classByDpd(dpd),
  };
}

/**
 * Rolls yesterday's book forward to `date`: every loan through rollLoan, then new loans (about
 * `newLoanRate` per previous loan per day, some to existing heavy borrowers). Streams.
 */
export function* rollForward(previousLoans: Iterable<Loan>, options: RollForwardOptions): Generator<Loan> {
  const seed = String(options.seed ?? 1);
  let count = 0;
  let prevDate: string | null = null;
  for (const loan of previousLoans) {
    count++;
    prevDate ??= loan.snapshotDate;
    const next = rollLoan(loan, options.date, seed);
    if (next !== null) yield next;
  }
  yield* newLoans(count, prevDate ?? options.date, options);
}

/** The new loans of a roll-forward day, given how many loans the previous tape held. */
export function* newLoans(
  previousCount: number,
  previousDate: string,
  options: RollForwardOptions,
): Generator<Loan> {
  const seed = String(options.seed ?? 1);
  const days = Math.max(1, daysBetween(previousDate, options.date));
  const n = Math.round(previousCount * (options.newLoanRate ?? 0.004) * days * 1.15);
  const r = new Rng(`${seed}|new|${options.date}`);
  const cache = new Map<string, Borrower>();
  const poolSize = Math.max(1, Math.round(previousCount * 0.78));
  const stamp = options.date.replaceAll('-', '');
  const bad = badPositions(n, options.badRows ?? 0, new Rng(`${seed}|bad|${options.date}`));
  let previous: Loan | null = null;
  for (let i = 0; i < n; i++) {
    const b = chooseBorrower(r, poolSize, seed, cache);
    const loan = makeLoan(r, `N${stamp}${pad(i + 1, 6)}`, b, options.date, seed, true);
    const kind = bad.get(i);
    yield kind === undefined ? loan : breakLoan(loan, BAD_KINDS[kind]!, previous);
    previous = loan;
  }
}
