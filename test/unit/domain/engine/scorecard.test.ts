import { describe, expect, it } from 'vitest';
import {
  assessLoan,
  createLoanAssessor,
  riskStateChanged,
} from '../../../../shared/domain/engine/scorecard.ts';
import { defaultPolicy, makeLoan } from './helpers.ts';

const policy = defaultPolicy();
// PD calibration of the default model: score 600 = odds 30:1, 50 points double the odds.
const pdOf = (score: number): number => 1 / (1 + 30 * 2 ** ((score - 600) / 50));

describe('Function: assessLoan', () => {
  it('scores a performing loan factor by factor', () => {
    // Prepare: 720 score (+20), DTI 2000/(120000/12) = 0.2 (+10), 1 other lender (0), age 30 (0),
    // 328 days seasoned (-5), credit loan (0), 18% APR (0): 650 + 20 + 10 - 5 = 675.
    const loan = makeLoan({
      outstandingPrincipal: 8000,
      creditScore: 720,
      annualIncome: 120_000,
      monthlyDebtPayments: 2000,
      otherLendersCount: 1,
      borrowerAge: 30,
      isStudent: false,
    });

    // Act
    const a = assessLoan(loan, policy);

    // Assess
    expect(a.score).toBe(675);
    expect(a.grade).toBe('B');
    expect(a.pd).toBe(pdOf(675));
    expect(a.lgd).toBe(0.75);
    expect(a.el).toBe(pdOf(675) * 0.75 * 8000);
    expect(a.reasons).toEqual(['SEASONING_UNDER_12M']);
    // Made 2026-01-01, after the cost guideline, at 18% > 4 x 3.00% (the LPR in force then) = 12%.
    expect(a.ruleCodes).toEqual(['COST_ABOVE_4LPR']);
    expect(a.flags).toEqual([]);
    expect(a).toMatchObject({ dpdBucket: '0', classification: 'normal', stage: '1', outstanding: 8000 });
  });

  it('names the three factors that added most risk, worst first', () => {
    // dpd 45 (-220), score 540 (-60), DTI 600/(3000/12) = 2.4 (-50), 4 lenders (-30), age 19 (-25),
    // 55 days seasoned (-15), 10% APR (+10): 650 - 390 = 260.
    const loan = makeLoan({
      daysPastDue: 45,
      creditScore: 540,
      annualIncome: 3000,
      monthlyDebtPayments: 600,
      otherLendersCount: 4,
      borrowerAge: 19,
      originationDate: '2026-10-01',
      annualRate: 0.1,
      isStudent: true,
    });

    const a = assessLoan(loan, policy);

    expect(a.score).toBe(260);
    expect(a.grade).toBe('E');
    expect(a.pd).toBe(pdOf(260));
    expect(a.reasons).toEqual(['DPD_31_60', 'CREDIT_SCORE_BELOW_550', 'DTI_ABOVE_70']);
    // A student's credit loan to an individual is for consumption: a micro-loan company may not make it.
    expect(a.ruleCodes).toEqual(['STUDENT_CONSUMER_LOAN']);
    expect(a.flags).toEqual(['YOUNG_BORROWER', 'HIGH_DTI', 'MULTI_LENDING', 'THIN_FILE']);
    expect(a).toMatchObject({ dpdBucket: '31-60', classification: 'special_mention', stage: '2' });
  });

  it('scores unknown optional fields with their documented points and breaks ties in factor order', () => {
    // Every optional field empty: score missing (-30), DTI unknown (-10), lenders unknown (-5), age
    // unknown (0); 389 days seasoned (+5), order financing (+10), 40% APR (-40): 650 - 70 = 580.
    const loan = makeLoan({
      borrowerType: 'enterprise',
      product: 'order_financing',
      originationDate: '2025-11-01',
      annualRate: 0.4,
      ownFundingShare: 0.2,
    });

    const a = assessLoan(loan, policy);

    expect(a.score).toBe(580);
    expect(a.grade).toBe('C');
    expect(a.lgd).toBe(0.45);
    expect(a.reasons).toEqual(['APR_ABOVE_36', 'CREDIT_SCORE_MISSING', 'DTI_UNKNOWN']);
    // Made 2025-11-01, before the cost guideline: above 36%, above 24% (legacy), own share below 30%.
    expect(a.ruleCodes).toEqual(['COST_ABOVE_36', 'COST_ABOVE_24_LEGACY', 'CO_LENDING_OWN_SHARE_MIN']);
    expect(a.flags).toEqual(['THIN_FILE']);

    // Two factors of -30 each: credit score (factor 2) comes before multi-lending (factor 4).
    const tie = assessLoan(
      makeLoan({ otherLendersCount: 3, annualIncome: 100_000, monthlyDebtPayments: 0 }),
      policy,
    );
    expect(tie.reasons).toEqual(['CREDIT_SCORE_MISSING', 'MULTI_LENDING_3_4', 'SEASONING_UNDER_12M']);
  });

  it('treats a loan more than 90 days past due as defaulted (PD 1)', () => {
    const a = assessLoan(makeLoan({ daysPastDue: 91, outstandingPrincipal: 200 }), policy);

    expect(a.pd).toBe(1);
    expect(a.el).toBe(0.75 * 200);
    expect(a.reasons[0]).toBe('DPD_OVER_90');
    expect(a.stage).toBe('3');
  });

  it('classifies consumer credit on the card scale and other products on the loan scale', () => {
    const cases: [number, string, string][] = [
      [0, 'normal', 'normal'],
      [1, 'special_mention', 'special_mention'],
      [90, 'special_mention', 'special_mention'],
      [91, 'substandard', 'substandard'],
      [120, 'substandard', 'substandard'],
      [121, 'doubtful', 'substandard'],
      [180, 'doubtful', 'substandard'],
      [181, 'loss', 'substandard'],
      [270, 'loss', 'substandard'],
      [271, 'loss', 'doubtful'],
      [360, 'loss', 'doubtful'],
      [361, 'loss', 'loss'],
    ];
    for (const [d, card, loanScale] of cases) {
      expect(
        assessLoan(makeLoan({ product: 'consumer_credit', daysPastDue: d }), policy).classification,
      ).toBe(card);
      expect(assessLoan(makeLoan({ product: 'credit_loan', daysPastDue: d }), policy).classification).toBe(
        loanScale,
      );
      expect(
        assessLoan(makeLoan({ product: 'order_financing', daysPastDue: d }), policy).classification,
      ).toBe(loanScale);
    }
  });

  it('puts days past due into the dpd buckets and IFRS 9 stages at their boundaries', () => {
    const cases: [number, string, string][] = [
      [0, '0', '1'],
      [1, '1-30', '1'],
      [30, '1-30', '1'],
      [31, '31-60', '2'],
      [60, '31-60', '2'],
      [61, '61-90', '2'],
      [90, '61-90', '2'],
      [91, '91-180', '3'],
      [180, '91-180', '3'],
      [181, '181-360', '3'],
      [360, '181-360', '3'],
      [361, '361+', '3'],
    ];
    for (const [d, bucket, stage] of cases) {
      const a = assessLoan(makeLoan({ daysPastDue: d }), policy);
      expect([a.dpdBucket, a.stage]).toEqual([bucket, stage]);
    }
  });

  it('applies rate rules at their exact thresholds, new loans from the cost guideline on', () => {
    const codes = (annualRate: number, originationDate: string) =>
      assessLoan(makeLoan({ annualRate, originationDate, borrowerAge: 30 }), policy).ruleCodes;
    // Made on the guideline's date or later: 24% is a breach, 4 x LPR (3.00% then: 12%) a watch.
    expect(codes(0.12, '2026-01-01')).toEqual([]);
    expect(codes(0.1201, '2026-01-01')).toEqual(['COST_ABOVE_4LPR']);
    expect(codes(0.24, '2025-12-24')).toEqual(['COST_ABOVE_4LPR']);
    expect(codes(0.2401, '2025-12-24')).toEqual(['COST_ABOVE_24_NEW', 'COST_ABOVE_4LPR']);
    expect(codes(0.36, '2026-01-01')).toEqual(['COST_ABOVE_24_NEW', 'COST_ABOVE_4LPR']);
    expect(codes(0.3601, '2026-01-01')).toEqual(['COST_ABOVE_36', 'COST_ABOVE_24_NEW', 'COST_ABOVE_4LPR']);
    // Made the day before: above 24% is a legacy watch, and the 4 x LPR path does not apply.
    expect(codes(0.24, '2025-12-23')).toEqual([]);
    expect(codes(0.2401, '2025-12-23')).toEqual(['COST_ABOVE_24_LEGACY']);
    expect(codes(0.3601, '2025-12-23')).toEqual(['COST_ABOVE_36', 'COST_ABOVE_24_LEGACY']);
  });

  it('flags minors and young borrowers by age band, and never an unknown age', () => {
    const of = (borrowerAge: number | null, borrowerType: 'individual' | 'enterprise' = 'individual') => {
      const a = assessLoan(
        makeLoan({ borrowerAge, borrowerType, creditScore: 700, annualRate: 0.1 }),
        policy,
      );
      return [a.ruleCodes, a.flags];
    };
    expect(of(17)).toEqual([['MINOR_BORROWER'], []]);
    expect(of(18)).toEqual([[], ['YOUNG_BORROWER']]);
    expect(of(22)).toEqual([[], ['YOUNG_BORROWER']]);
    expect(of(23)).toEqual([[], []]);
    // An individual's unknown age is a watch (MINOR_BORROWER cannot be checked); an enterprise has none.
    expect(of(null)).toEqual([['AGE_UNKNOWN'], []]);
    expect(of(null, 'enterprise')).toEqual([[], []]);
  });

  it('gives the same assessment for the same loan, always', () => {
    const assess = createLoanAssessor(policy);
    const loan = makeLoan({ creditScore: 610, daysPastDue: 12 });
    expect(assess(loan)).toEqual(assess({ ...loan }));
    expect(assess(loan)).toEqual(assessLoan(loan, policy));
  });
});

describe('Function: riskStateChanged', () => {
  it('reports a change of grade, bucket or hits and ignores a change of outstanding alone', () => {
    const before = assessLoan(makeLoan({ outstandingPrincipal: 500 }), policy);
    const sameState = assessLoan(makeLoan({ outstandingPrincipal: 400 }), policy);
    const late = assessLoan(makeLoan({ outstandingPrincipal: 500, daysPastDue: 5 }), policy);
    const repriced = assessLoan(makeLoan({ outstandingPrincipal: 500, annualRate: 0.3 }), policy);

    expect(riskStateChanged(before, sameState)).toBe(false);
    expect(riskStateChanged(before, late)).toBe(true);
    expect(riskStateChanged(before, repriced)).toBe(true);
  });
});
