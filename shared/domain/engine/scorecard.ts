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
import type { Loan, Product } from '../loan.ts';
import { type CompiledPolicy, compilePolicy, debtToIncome } from '../policy/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { classificationIndex, dpdBucketIndex, stageIndex } from './buckets.ts';
import { isoDayNumber } from './dates.ts';

/** Risk grades from safest to riskiest. */
export const GRADES = ['A', 'B', 'C', 'D', 'E'] as const;
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
  /** Outstanding principal in yuan, accounted to the fen. */
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

/** True when the parts of an assessment that a risk officer watches differ between two days. */
export function riskStateChanged(before: LoanAssessment, after: LoanAssessment): boolean {
  return (
    before.grade !== after.grade ||
    before.dpdBucket !== after.dpdBucket ||
    before.classification !== after.classification ||
    before.stage !== after.stage ||
    before.ruleCodes.join(',') !== after.ruleCodes.join(',') ||
    before.flags.join(',') !== after.flags.join(',')
  );
}

const EMPTY: readonly string[] = Object.freeze([]);

/** Indices and bit masks of the last assessment, read by the accumulator without re-deriving them. */
export interface AssessmentScratch {
  fen: number;
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
};

function bandPoints(f: ScoreFactor, v: number | null, out: { reason: string | null }): number {
  if (v === null) {
    out.reason = f.missing.reason;
    return f.missing.points;
  }
  const bands = f.bands;
  for (let i = 0; i < bands.length; i++) {
    const b = bands[i]!;
    if (v <= b.upTo) {
      out.reason = b.reason;
      return b.points;
    }
  }
  out.reason = null;
  return 0;
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
  const rules = compiled.loanRules;
  const flags = compiled.flags;
  const factors = SCORECARD;
  const nFactors = factors.length;
  const points = new Float64Array(nFactors);
  const reasons: (string | null)[] = new Array<string | null>(nFactors).fill(null);
  const out = { reason: null as string | null };
  const scratch: AssessmentScratch = {
    fen: 0,
    dpdIdx: 0,
    clsIdx: 0,
    stageIdx: 0,
    gradeIdx: 0,
    ruleMask: 0,
    flagMask: 0,
  };
  let lastSnapshot = '';
  let lastSnapshotDay = 0;

  const assess = (loan: Loan): LoanAssessment => {
    if (loan.snapshotDate !== lastSnapshot) {
      lastSnapshot = loan.snapshotDate;
      lastSnapshotDay = isoDayNumber(lastSnapshot);
    }
    const d = loan.daysPastDue;
    const product = loan.product;
    const seasoning = lastSnapshotDay - isoDayNumber(loan.originationDate);
    const productCode = product === 'order_financing' ? 0 : product === 'credit_loan' ? 1 : 2;
    let score = baseScore;
    for (let i = 0; i < nFactors; i++) {
      let v: number | null;
      switch (i) {
        case 0:
          v = d;
          break;
        case 1:
          v = loan.creditScore;
          break;
        case 2:
          v = debtToIncome(loan);
          break;
        case 3:
          v = loan.otherLendersCount;
          break;
        case 4:
          v = loan.borrowerAge;
          break;
        case 5:
          v = seasoning;
          break;
        case 6:
          v = productCode;
          break;
        default:
          v = loan.annualRate;
      }
      const p = bandPoints(factors[i]!, v, out);
      points[i] = p;
      reasons[i] = out.reason;
      score += p;
    }
    // Top three reasons: most negative points first, ties in factor order.
    let r0 = -1;
    let r1 = -1;
    let r2 = -1;
    for (let i = 0; i < nFactors; i++) {
      const p = points[i]!;
      if (p >= 0 || reasons[i] === null) continue;
      if (r0 < 0 || p < points[r0]!) {
        r2 = r1;
        r1 = r0;
        r0 = i;
      } else if (r1 < 0 || p < points[r1]!) {
        r2 = r1;
        r1 = i;
      } else if (r2 < 0 || p < points[r2]!) {
        r2 = i;
      }
    }
    const reasonCodes: readonly string[] =
      r0 < 0
        ? EMPTY
        : r1 < 0
          ? [reasons[r0]!]
          : r2 < 0
            ? [reasons[r0]!, reasons[r1]!]
            : [reasons[r0]!, reasons[r1]!, reasons[r2]!];

    const gradeIdx = score >= g.A ? 0 : score >= g.B ? 1 : score >= g.C ? 2 : score >= g.D ? 3 : 4;
    const pd = d > 90 ? 1 : 1 / (1 + anchorOdds * 2 ** ((score - anchorScore) / pointsToDoubleOdds));
    const lgd = lgdByProduct[product];
    const fen = Math.round(loan.outstandingPrincipal * 100);
    const outstanding = fen / 100;

    let ruleMask = 0;
    let ruleCodes: string[] | null = null;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.test(loan)) {
        ruleMask |= 1 << i;
        if (ruleCodes === null) ruleCodes = [rule.code];
        else ruleCodes.push(rule.code);
      }
    }
    let flagMask = 0;
    let flagCodes: string[] | null = null;
    for (let i = 0; i < flags.length; i++) {
      const flag = flags[i]!;
      if (flag.test(loan)) {
        flagMask |= 1 << i;
        if (flagCodes === null) flagCodes = [flag.code];
        else flagCodes.push(flag.code);
      }
    }
    const dpdIdx = dpdBucketIndex(d);
    const clsIdx = classificationIndex(product, d);
    const stIdx = stageIndex(d);
    scratch.fen = fen;
    scratch.dpdIdx = dpdIdx;
    scratch.clsIdx = clsIdx;
    scratch.stageIdx = stIdx;
    scratch.gradeIdx = gradeIdx;
    scratch.ruleMask = ruleMask >>> 0;
    scratch.flagMask = flagMask;
    return {
      loanId: loan.loanId,
      borrowerId: loan.borrowerId,
      product,
      outstanding,
      score,
      grade: GRADES[gradeIdx]!,
      pd,
      lgd,
      el: pd * lgd * outstanding,
      dpdBucket: DPD_BUCKETS[dpdIdx]!,
      classification: CLASSIFICATIONS[clsIdx]!,
      stage: IFRS9_STAGES[stIdx]!,
      ruleCodes: ruleCodes ?? EMPTY,
      flags: flagCodes ?? EMPTY,
      reasons: reasonCodes,
    };
  };
  return Object.assign(assess, { scratch, compiled });
}

/** Assesses one loan (compiles the policy each call: use `createLoanAssessor` in loops). */
export function assessLoan(loan: Loan, policy: Policy): LoanAssessment {
  return createLoanAssessor(policy)(loan);
}
