import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RISK_CATEGORIES } from '../../../../shared/domain/audit-result.ts';
import {
  APPETITE_METRICS,
  type AppetiteFigures,
  appetiteMetric,
  appetiteMetricNames,
} from '../../../../shared/domain/policy/appetite-metrics.ts';
import { defaultPolicyPaths, parseRiskAppetite } from '../../../../shared/domain/policy/policy.ts';

// A book of 200.00 outstanding (20,000 fen) whose parts are round numbers of fen, so each share is
// a fraction a reader checks by eye.
function figures(over: Partial<AppetiteFigures> = {}): AppetiteFigures {
  return {
    portfolio: { nplRatio: 0.0125, expectedLoss: 3, totalOutstanding: 200 },
    concentration: {
      borrowerHhi: 0.0042,
      largestBorrowerShare: 0.08,
      top10BorrowerShare: 0.31,
      industryHhi: 0.27,
      regionHhi: 0.61,
    },
    dataQuality: { rowsRead: 1_000, quarantineRate: 0.004, duplicateLoanIds: 2, rowCountChange: -0.125 },
    psi: { creditScore: 0.03, product: 0.11, dpdBucket: 0.27 },
    breaches: { rules: 2, loans: 7, borrowers: 5 },
    totalFen: 20_000,
    fen: {
      stage2: 1_500,
      stage3: 600,
      watch: 5_000,
      anyFlag: 4_400,
      pastMaturity: 100,
      maturing30: 3_000,
      longDated: 8_000,
      partnerFunded: 2_500,
    },
    flagFen: (code) => (code === 'YOUNG_BORROWER' ? 1_000 : code === 'THIN_FILE' ? 0 : undefined),
    ...over,
  };
}

const metricValue = (name: string, f: AppetiteFigures): number | null | undefined =>
  appetiteMetric(name)?.value(f);

describe('Function: appetiteMetric', () => {
  it("reads every fixed metric's value from the audit's figures", () => {
    // Prepare
    const f = figures();

    // Act
    const values = Object.fromEntries(APPETITE_METRICS.map((m) => [m.name, m.value(f)]));

    // Assess: shares are parts of 20,000 fen; expected loss 3 of 200 is 1.5%; |-12.5%| is 12.5%.
    expect(values).toEqual({
      nplRatio: 0.0125,
      expectedLossRate: 0.015,
      stage2Share: 0.075,
      stage3Share: 0.03,
      breachRules: 2,
      breachLoans: 7,
      breachBorrowers: 5,
      watchOutstandingShare: 0.25,
      borrowerHhi: 0.0042,
      largestBorrowerShare: 0.08,
      top10BorrowerShare: 0.31,
      industryHhi: 0.27,
      regionHhi: 0.61,
      anyFlagShare: 0.22,
      quarantineRate: 0.004,
      duplicateLoanIds: 2,
      psiCreditScore: 0.03,
      psiProduct: 0.11,
      psiDpdBucket: 0.27,
      rowCountChangeAbs: 0.125,
      pastMaturityShare: 0.005,
      maturing30Share: 0.15,
      longDatedShare: 0.4,
      partnerFundedShare: 0.125,
    });
  });

  it('reads a flag family metric as that flag’s share of outstanding, null for a flag not enabled', () => {
    // Act
    const young = appetiteMetric('flagShare:YOUNG_BORROWER');

    // Assess: 1,000 of 20,000 fen.
    expect(young).toMatchObject({
      name: 'flagShare:YOUNG_BORROWER',
      category: 'vulnerability',
      label: 'outstanding flagged YOUNG_BORROWER',
      unit: 'share',
    });
    expect(young?.value(figures())).toBe(0.05);
    expect(metricValue('flagShare:THIN_FILE', figures())).toBe(0);
    expect(metricValue('flagShare:NOT_ENABLED', figures())).toBeNull();
  });

  it('leaves a metric that cannot be computed null: an empty book, no rows read, no previous tape', () => {
    // Prepare
    const empty = figures({
      portfolio: { nplRatio: null, expectedLoss: 0, totalOutstanding: 0 },
      totalFen: 0,
      fen: {
        stage2: 0,
        stage3: 0,
        watch: 0,
        anyFlag: 0,
        pastMaturity: 0,
        maturing30: 0,
        longDated: 0,
        partnerFunded: 0,
      },
      dataQuality: { rowsRead: 0, quarantineRate: 0, duplicateLoanIds: 0, rowCountChange: null },
      psi: null,
    });

    // Act
    const nulls = APPETITE_METRICS.filter((m) => m.value(empty) === null).map((m) => m.name);

    // Assess: the counts stay numbers (no breach is zero breaches) and the concentration figures
    // stay as given; every share of outstanding and each figure the run lacks is null.
    expect(nulls).toEqual([
      'nplRatio',
      'expectedLossRate',
      'stage2Share',
      'stage3Share',
      'watchOutstandingShare',
      'anyFlagShare',
      'quarantineRate',
      'psiCreditScore',
      'psiProduct',
      'psiDpdBucket',
      'rowCountChangeAbs',
      'pastMaturityShare',
      'maturing30Share',
      'longDatedShare',
      'partnerFundedShare',
    ]);
    expect(metricValue('flagShare:YOUNG_BORROWER', empty)).toBeNull();
    expect(metricValue('breachLoans', empty)).toBe(7);
  });

  it('knows no other name: a misspelt metric, a flag code not in capitals, a bare prefix', () => {
    expect(appetiteMetric('nplRate')).toBeUndefined();
    expect(appetiteMetric('flagShare:young_borrower')).toBeUndefined();
    expect(appetiteMetric('flagShare:')).toBeUndefined();
    expect(appetiteMetric('NPLRATIO')).toBeUndefined();
  });

  it('gives each metric one name, a label and the unit its findings are shown in', () => {
    const names = APPETITE_METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(APPETITE_METRICS.every((m) => m.label.length > 0)).toBe(true);
    const byUnit = (unit: string) => APPETITE_METRICS.filter((m) => m.unit === unit).map((m) => m.name);
    expect(byUnit('count')).toEqual(['breachRules', 'breachLoans', 'breachBorrowers', 'duplicateLoanIds']);
    expect(byUnit('index')).toEqual([
      'borrowerHhi',
      'industryHhi',
      'regionHhi',
      'psiCreditScore',
      'psiProduct',
      'psiDpdBucket',
    ]);
    expect(byUnit('share')).toHaveLength(14);
  });
});

describe('Function: appetiteMetricNames', () => {
  it('lists each category’s metrics as policies/risk-appetite.yaml documents them', () => {
    // Prepare: the file's header comment names the metrics of each category.
    const header = readFileSync(defaultPolicyPaths().appetite, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');

    // Act
    const listed = Object.fromEntries(RISK_CATEGORIES.map((c) => [c, appetiteMetricNames(c)]));

    // Assess
    expect(listed).toEqual({
      credit: ['nplRatio', 'expectedLossRate', 'stage2Share', 'stage3Share'],
      regulatory: ['breachRules', 'breachLoans', 'breachBorrowers', 'watchOutstandingShare'],
      concentration: [
        'borrowerHhi',
        'largestBorrowerShare',
        'top10BorrowerShare',
        'industryHhi',
        'regionHhi',
      ],
      vulnerability: ['anyFlagShare', 'flagShare:<FLAG_CODE>'],
      technical: [
        'quarantineRate',
        'duplicateLoanIds',
        'psiCreditScore',
        'psiProduct',
        'psiDpdBucket',
        'rowCountChangeAbs',
      ],
      liquidity: ['pastMaturityShare', 'maturing30Share', 'longDatedShare', 'partnerFundedShare'],
    });
    for (const name of Object.values(listed).flat()) expect(header).toContain(name);
  });

  it("rejects a threshold on another category's metric, naming the category's own", () => {
    const text = readFileSync(defaultPolicyPaths().appetite, 'utf8').replace(
      'metric: quarantineRate',
      'metric: nplRatio',
    );
    expect(() => parseRiskAppetite(text, 'risk-appetite.yaml')).toThrow(
      /categories\.technical\.0\.metric: unknown metric nplRatio for technical: use quarantineRate, duplicateLoanIds, psiCreditScore, psiProduct, psiDpdBucket, rowCountChangeAbs/,
    );
  });
});
