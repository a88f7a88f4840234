/**
 * The per-loan risk assessment: a transparent points scorecard, its PD calibration, LGD, expected
 * loss, regulatory buckets and the compliance/vulnerability hits of one loan. Pure and
 * deterministic: the same loan and policy always give the same assessment.
 *
 * Score = baseScore + the points of eight factors (table `SCORECARD`); negative points add risk,
 * and the factors with the most negative points are the loan's reason codes (at most three, ties in
 * table order). PD = 1 / (1 + odds) with odds = anchorOdds x 2^((score - anchorScore) / pointsToDoubleOdds)
 * (the usual "points to double the odds" scaling; defaults: score 600 = odds 30:1 = PD 3.2%, every
 * 50 points doubles the odds); a loan more than 90 days past due is in default, PD 1.
 */
import {
  CLASSIFICATIONS,
  type Classification,
  DPD_BUCKETS,
  type DpdBucket,
  IFRS9_STAGES,
  type Ifrs9Stage,
} from '../audit-result.ts';
import { debtToIncome, type Loan, type Product } from '../loan.ts';
import { type CompiledPolicy, compilePolicy } from '../policy/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { amountParts, splitAmount } from './amounts.ts';
import { classificationIndex, dpdBucketIndex, stageIndex } from './buckets.ts';
import { isoDayNumber } from './dates.ts';

/** Risk grades from safest to riskiest. */
export const GRADES = ['A', 'B', 'C', 'D', 'E'] as const;
/** A risk grade, A (safest) to E. */
export type Grade = (typeof GRADES)[number];

/** One band of a factor: values up to `upTo` (inclusive) score `points`; a risky band names a reason. */
export interface ScoreBand {
  upTo: number;
  points: number;
  reason: string | null;
}

/** One scorecard factor: points when the value is unknown, then bands in increasing order. */
export interface ScoreFactor {
  name: string;
  missing: { points: number; reason: string | null };
  bands: readonly ScoreBand[];
}

const band = (upTo: number, points: number, reason: string | null = null): ScoreBand => ({
  upTo,
  points,
  reason,
});

/**
 * The scorecard, in evaluation (and reason tie-break) order. Seasoning is days from origination to
 * the snapshot; DTI is monthly debt service over monthly income.
 */
export const SCORECARD: readonly ScoreFactor[] = [
  {
    name: 'daysPastDue',
    missing: { points: 0, reason: null },
    bands: [
      band(0, 0),
      band(30, -150, 'DPD_1_30'),
      band(60, -220, 'DPD_31_60'),
      band(90, -300, 'DPD_61_90'),
      band(Infinity, -400, 'DPD_OVER_90'),
    ],
  },
  {
    name: 'creditScore',
    missing: { points: -30, reason: 'CREDIT_SCORE_MISSING' },
    bands: [
      band(549, -60, 'CREDIT_SCORE_BELOW_550'),
      band(599, -35, 'CREDIT_SCORE_550_599'),
      band(649, -15, 'CREDIT_SCORE_600_649'),
      band(699, 0),
      band(749, 20),
      band(Infinity, 40),
    ],
  },
  {
    name: 'debtToIncome',
    missing: { points: -10, reason: 'DTI_UNKNOWN' },
    bands: [band(0.3, 10), band(0.5, 0), band(0.7, -30, 'DTI_ABOVE_50'), band(Infinity, -50, 'DTI_ABOVE_70')],
  },
  {
    name: 'otherLendersCount',
    missing: { points: -5, reason: 'OTHER_LENDERS_UNKNOWN' },
    bands: [
      band(0, 10),
      band(2, 0),
      band(4, -30, 'MULTI_LENDING_3_4'),
      band(Infinity, -50, 'MULTI_LENDING_5_PLUS'),
    ],
  },
  {
    name: 'borrowerAge',
    missing: { points: 0, reason: null },
    bands: [
      band(17, -40, 'AGE_UNDER_18'),
      band(22, -25, 'AGE_18_22'),
      band(25, -10, 'AGE_23_25'),
      band(60, 0),
      band(Infinity, -10, 'AGE_OVER_60'),
    ],
  },
  {
    name: 'seasoningDays',
    missing: { points: 0, reason: null },
    bands: [band(89, -15, 'NEW_LOAN_UNDER_3M'), band(364, -5, 'SEASONING_UNDER_12M'), band(Infinity, 5)],
  },
  {
    name: 'product',
    missing: { points: 0, reason: null },
    // 0 order_financing (backed by order receipts), 1 credit_loan, 2 consumer_credit.
    bands: [band(0, 10), band(1, 0), band(2, -5, 'PRODUCT_CONSUMER_CREDIT')],
  },
  {
    name: 'annualRate',
    missing: { points: 0, reason: null },
    bands: [band(0.12, 10), band(0.24, 0), band(0.36, -20, 'APR_24_36'), band(Infinity, -40, 'APR_ABOVE_36')],
  },
];

/**
 * The compact per-loan result: one line of the score file and the state compared day to day for
 * "risk state changed" detection (see `riskStateChanged`). `ruleCodes` holds loan-level rule hits
 * only; borrower-level caps are resolved once every loan is seen (see `borrowerRuleHits`).
 */
export interface LoanAssessment {
  loanId: string;
  borrowerId: string;
  product: Product;
  /** Outstanding principal as the tape gives it. */
  outstanding: number;
  score: number;
  grade: Grade;
  pd: number;
  lgd: number;
  /** Expected loss = pd x lgd x outstanding. */
  el: number;
  dpdBucket: DpdBucket;
  classification: Classification;
  stage: Ifrs9Stage;
  ruleCodes: readonly string[];
  flags: readonly string[];
  /** Reason codes of the factors that added most risk, worst first (at most three). */
  reasons: readonly string[];
}

/** The parts of a loan's assessment that a risk officer watches from one day to the next. */
export type RiskState = Pick<
  LoanAssessment,
  'grade' | 'dpdBucket' | 'classification' | 'stage' | 'ruleCodes' | 'flags'
>;

/** True when the parts of an assessment that a risk officer watches differ between two days. */
export function riskStateChanged(before: RiskState, after: RiskState): boolean {
  return (
    before.grade !== after.grade ||
    before.dpdBucket !== after.dpdBucket ||
    before.classification !== after.classification ||
    before.stage !== after.stage ||
    !sameList(before.ruleCodes, after.ruleCodes) ||
    !sameList(before.flags, after.flags)
  );
}

// Lists read from one score file are shared between loans: the same list is the common case.
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY: readonly string[] = Object.freeze([]);

// Hit lists and reason lists repeat across loans: each distinct one is built once and shared
// (frozen), so the per-row loop allocates no arrays.
function codesByMask(codes: readonly string[]): (mask: number) => readonly string[] {
  const cache = new Map<number, readonly string[]>();
  return (mask) => {
    let list = cache.get(mask);
    if (list === undefined) {
      list = Object.freeze(codes.filter((_, i) => (mask & (2 ** i)) !== 0));
      cache.set(mask, list);
    }
    return list;
  };
}

/** The last scored loan's figures, indices and bit masks, read by the accumulator without allocating. */
export interface AssessmentScratch {
  score: number;
  pd: number;
  lgd: number;
  el: number;
  reasons: readonly string[];
  /** Outstanding principal split as engine/amounts.ts does: whole fen, and millionths beyond them. */
  fen: number;
  sub: number;
  dpdIdx: number;
  clsIdx: number;
  stageIdx: number;
  gradeIdx: number;
  ruleMask: number;
  flagMask: number;
}

/** A compiled assessor: call it once per loan. */
export type LoanAssessor = ((loan: Loan) => LoanAssessment) & {
  scratch: AssessmentScratch;
  compiled: CompiledPolicy;
  /** Scores a loan into `scratch` only (no allocation). */
  score: (loan: Loan) => void;
  /** The assessment object of the loan last passed to `score`. */
  build: (loan: Loan) => LoanAssessment;
};

// The scorecard as flat typed arrays: band upper bounds (the last is Infinity, so a search always
// stops), points, and reason codes; index nBands is the "unknown" entry.
interface FlatFactor {
  upTo: Float64Array;
  points: Float64Array;
  reasons: (string | null)[];
  missing: number;
}

function flatten(f: ScoreFactor): FlatFactor {
  const n = f.bands.length;
  const upTo = new Float64Array(n);
  const points = new Float64Array(n + 1);
  const reasons: (string | null)[] = [];
  f.bands.forEach((b, i) => {
    upTo[i] = i === n - 1 ? Infinity : b.upTo;
    points[i] = b.points;
    reasons.push(b.reason);
  });
  points[n] = f.missing.points;
  reasons.push(f.missing.reason);
  return { upTo, points, reasons, missing: n };
}

function bandOf(f: FlatFactor, v: number | null): number {
  if (v === null) return f.missing;
  const upTo = f.upTo;
  let j = 0;
  while (v > upTo[j]!) j++;
  return j;
}

/** Compiles a policy into a per-loan assessor (rules, flags, model parameters). */
export function createLoanAssessor(
  policy: Policy,
  compiled: CompiledPolicy = compilePolicy(policy),
): LoanAssessor {
  const model = policy.appetite.model;
  const { baseScore, anchorScore, anchorOdds, pointsToDoubleOdds } = model.scorecard;
  const g = model.grades;
  const lgdByProduct = model.lgd;
  const ruleMaskOf = compiled.ruleMask;
  const flagMaskOf = compiled.flagMask;
  const ruleCodes = codesByMask(compiled.loanRules.map((r) => r.code));
  const flagCodes = codesByMask(compiled.flags.map((f) => f.code));
  const factors = SCORECARD.map(flatten);
  const nFactors = factors.length;
  const bands = new Int32Array(nFactors);
  const reasonCache = new Map<number, readonly string[]>();
  const pdOf = (score: number): number =>
    1 / (1 + anchorOdds * 2 ** ((score - anchorScore) / pointsToDoubleOdds));
  // Points and the base score are whole numbers in the default model, so PD is a table lookup.
  let minScore = baseScore;
  let maxScore = baseScore;
  let whole = Number.isInteger(baseScore);
  for (const f of factors) {
    minScore += Math.min(...f.points);
    maxScore += Math.max(...f.points);
    whole &&= f.points.every((p) => Number.isInteger(p));
  }
  let pdTable: Float64Array | null = null;
  if (whole && maxScore - minScore < 100_000) {
    pdTable = new Float64Array(maxScore - minScore + 1);
    for (let i = 0; i < pdTable.length; i++) pdTable[i] = pdOf(minScore + i);
  }
  const scratch: AssessmentScratch = {
    score: 0,
    pd: 0,
    lgd: 0,
    el: 0,
    reasons: EMPTY,
    fen: 0,
    sub: 0,
    dpdIdx: 0,
    clsIdx: 0,
    stageIdx: 0,
    gradeIdx: 0,
    ruleMask: 0,
    flagMask: 0,
  };
  let lastSnapshot = '';
  let lastSnapshotDay = 0;

  const score = (loan: Loan): void => {
    if (loan.snapshotDate !== lastSnapshot) {
      lastSnapshot = loan.snapshotDate;
      lastSnapshotDay = isoDayNumber(lastSnapshot);
    }
    const d = loan.daysPastDue;
    const product = loan.product;
    const originationDay = isoDayNumber(loan.originationDate);
    const seasoning = lastSnapshotDay - originationDay;
    const productCode = product === 'order_financing' ? 0 : product === 'credit_loan' ? 1 : 2;
    bands[0] = bandOf(factors[0]!, d);
    bands[1] = bandOf(factors[1]!, loan.creditScore);
    bands[2] = bandOf(factors[2]!, debtToIncome(loan));
    bands[3] = bandOf(factors[3]!, loan.otherLendersCount);
    bands[4] = bandOf(factors[4]!, loan.borrowerAge);
    bands[5] = bandOf(factors[5]!, seasoning);
    bands[6] = bandOf(factors[6]!, productCode);
    bands[7] = bandOf(factors[7]!, loan.annualRate);
    let points = baseScore;
    for (let i = 0; i < nFactors; i++) points += factors[i]!.points[bands[i]!]!;
    // Top three reasons: most negative points first, ties in factor order.
    let r0 = -1;
    let r1 = -1;
    let r2 = -1;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    for (let i = 0; i < nFactors; i++) {
      const f = factors[i]!;
      const b = bands[i]!;
      const p = f.points[b]!;
      if (p >= 0 || f.reasons[b] === null) continue;
      if (r0 < 0 || p < p0) {
        r2 = r1;
        p2 = p1;
        r1 = r0;
        p1 = p0;
        r0 = i;
        p0 = p;
      } else if (r1 < 0 || p < p1) {
        r2 = r1;
        p2 = p1;
        r1 = i;
        p1 = p;
      } else if (r2 < 0 || p < p2) {
        r2 = i;
        p2 = p;
      }
    }
    let reasonCodes = EMPTY;
    if (r0 >= 0) {
      // Key: each reason as factor * 16 + band + 1 (0 = none), three 8-bit digits.
      const key =
        ((r0 * 16 + bands[r0]! + 1) << 16) |
        (r1 < 0 ? 0 : (r1 * 16 + bands[r1]! + 1) << 8) |
        (r2 < 0 ? 0 : r2 * 16 + bands[r2]! + 1);
      reasonCodes = reasonCache.get(key) ?? EMPTY;
      if (reasonCodes === EMPTY) {
        const picked = [r0, r1, r2].filter((i) => i >= 0).map((i) => factors[i]!.reasons[bands[i]!]!);
        reasonCodes = Object.freeze(picked);
        reasonCache.set(key, reasonCodes);
      }
    }

    const gradeIdx = points >= g.A ? 0 : points >= g.B ? 1 : points >= g.C ? 2 : points >= g.D ? 3 : 4;
    const k = points - minScore;
    const pd = d > 90 ? 1 : pdTable !== null && k >= 0 && k < pdTable.length ? pdTable[k]! : pdOf(points);
    const lgd = lgdByProduct[product];
    const outstanding = loan.outstandingPrincipal;
    splitAmount(outstanding);

    const ruleMask = ruleMaskOf(loan, originationDay);
    const flagMask = flagMaskOf(loan, originationDay);
    const dpdIdx = dpdBucketIndex(d);
    const clsIdx = classificationIndex(product, d);
    const stIdx = stageIndex(d);
    scratch.fen = amountParts.fen;
    scratch.sub = amountParts.sub;
    scratch.dpdIdx = dpdIdx;
    scratch.clsIdx = clsIdx;
    scratch.stageIdx = stIdx;
    scratch.gradeIdx = gradeIdx;
    scratch.ruleMask = ruleMask >>> 0;
    scratch.flagMask = flagMask;
    scratch.score = points;
    scratch.pd = pd;
    scratch.lgd = lgd;
    scratch.el = pd * lgd * outstanding;
    scratch.reasons = reasonCodes;
  };

  const build = (loan: Loan): LoanAssessment => ({
    loanId: loan.loanId,
    borrowerId: loan.borrowerId,
    product: loan.product,
    outstanding: loan.outstandingPrincipal,
    score: scratch.score,
    grade: GRADES[scratch.gradeIdx]!,
    pd: scratch.pd,
    lgd: scratch.lgd,
    el: scratch.el,
    dpdBucket: DPD_BUCKETS[scratch.dpdIdx]!,
    classification: CLASSIFICATIONS[scratch.clsIdx]!,
    stage: IFRS9_STAGES[scratch.stageIdx]!,
    ruleCodes: scratch.ruleMask === 0 ? EMPTY : ruleCodes(scratch.ruleMask),
    flags: scratch.flagMask === 0 ? EMPTY : flagCodes(scratch.flagMask),
    reasons: scratch.reasons,
  });

  const assess = (loan: Loan): LoanAssessment => {
    score(loan);
    return build(loan);
  };
  return Object.assign(assess, { scratch, compiled, score, build });
}

/** Assesses one loan (compiles the policy each call: use `createLoanAssessor` in loops). */
export function assessLoan(loan: Loan, policy: Policy): LoanAssessment {
  return createLoanAssessor(policy)(loan);
}
