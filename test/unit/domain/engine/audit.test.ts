import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../../../../shared/domain/audit-result.ts';
import { createAccumulator, mergePartials } from '../../../../shared/domain/engine/accumulator.ts';
import { aggregateRuleHits, finalizeAudit, tapeDigest } from '../../../../shared/domain/engine/finalize.ts';
import { borrowerKey, borrowerRef } from '../../../../shared/domain/engine/hash.ts';
import {
  buildPreviousTape,
  decodePreviousIndex,
  encodePreviousIndex,
  readPreviousIndexHeader,
} from '../../../../shared/domain/engine/previous-tape.ts';
import { assessLoan } from '../../../../shared/domain/engine/scorecard.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import { policyInForce } from '../../../../shared/domain/policy/resolve.ts';
import { defaultPolicy, intakeOf, makeLoan } from './helpers.ts';

/** The figures of each rule entry, without its description and source. */
function ruleFigures(result: AuditResult) {
  return Object.fromEntries(
    Object.entries(result.compliance.rules).map(([code, r]) => [
      code,
      {
        status: r.status,
        severity: r.severity,
        loans: r.loans,
        borrowers: r.borrowers,
        outstanding: r.outstanding,
      },
    ]),
  );
}

const policy = defaultPolicy();
const KEY = 'test-borrower-ref-key';
const ctx = { snapshotDate: '2026-11-25', previousSnapshotDate: '2026-11-24', policy, borrowerRefKey: KEY };

// Today's tape: four loans of three borrowers (hand-computed figures below).
const L1 = makeLoan({
  loanId: 'L1',
  borrowerId: 'B1',
  principal: 10_000,
  outstandingPrincipal: 8000,
  annualRate: 0.18,
  maturityDate: '2026-12-01', // 6 days: 0-7
  region: 'Zhejiang',
  industry: 'retail',
  borrowerAge: 30,
  annualIncome: 120_000,
  monthlyDebtPayments: 2000,
  otherLendersCount: 1,
  creditScore: 720,
  isStudent: false,
});
const L2 = makeLoan({
  ...L1,
  loanId: 'L2',
  product: 'consumer_credit',
  principal: 5000,
  outstandingPrincipal: 5000,
  annualRate: 0.3,
  daysPastDue: 150, // card scale: doubtful; loan scale would say substandard
  originationDate: '2026-05-01',
  maturityDate: '2027-05-01', // 157 days: 91-365
});
const L3 = makeLoan({
  loanId: 'L3',
  borrowerId: 'B2',
  borrowerType: 'enterprise',
  product: 'order_financing',
  principal: 400_000,
  outstandingPrincipal: 300_000,
  annualRate: 0.4,
  originationDate: '2025-11-01',
  maturityDate: '2026-11-20', // -5 days: overdue
  region: 'Jiangsu',
  ownFundingShare: 0.2,
});
const L4 = makeLoan({
  loanId: 'L4',
  borrowerId: 'B3',
  principal: 2000,
  outstandingPrincipal: 1000.5,
  annualRate: 0.1,
  daysPastDue: 45,
  originationDate: '2026-10-01',
  maturityDate: '2027-12-31', // 401 days: 366+
  industry: 'student',
  borrowerAge: 19,
  isStudent: true,
  annualIncome: 3000, // cap: 3000 / 3 = 1000 < 1000.5
  monthlyDebtPayments: 600,
  otherLendersCount: 4,
  creditScore: 540,
});
const TODAY = [L1, L2, L3, L4];

// Yesterday: L1 current, L2 91-180, L4 1-30 (now 31-60), L5 1-30 (closed today); L3 is new.
const day = '2026-11-24';
const PREVIOUS = [
  { ...L1, snapshotDate: day },
  { ...L2, snapshotDate: day, daysPastDue: 120 },
  makeLoan({ snapshotDate: day, loanId: 'L5', borrowerId: 'B9', daysPastDue: 10, creditScore: 600 }),
  { ...L4, snapshotDate: day, daysPastDue: 20 },
];

function audit(loans: readonly Loan[], previous: readonly Loan[] | null, extra = {}) {
  const acc = createAccumulator(policy, previous === null ? null : buildPreviousTape(previous));
  for (const l of loans) acc.add(l);
  return finalizeAudit(acc.toPartial(), intakeOf(loans, extra), ctx);
}

describe('Function: finalizeAudit', () => {
  const T = 314_000.5;
  const result = audit(TODAY, PREVIOUS, {
    rowsRead: 5,
    rowsQuarantined: 1,
    quarantineByCode: { MISSING_REQUIRED: 1 },
  });

  it('computes the portfolio section', () => {
    const p = result.portfolio;
    expect(p.loanCount).toBe(4);
    expect(p.borrowerCount).toBe(3);
    expect(p.totalPrincipal).toBe(417_000);
    expect(p.totalOutstanding).toBe(T);
    expect(p.weightedAverageRate).toBeCloseTo(
      (0.18 * 8000 + 0.3 * 5000 + 0.4 * 300_000 + 0.1 * 1000.5) / T,
      14,
    );
    expect(p.dpdBuckets).toEqual({
      '0': { count: 2, outstanding: 308_000 },
      '1-30': { count: 0, outstanding: 0 },
      '31-60': { count: 1, outstanding: 1000.5 },
      '61-90': { count: 0, outstanding: 0 },
      '91-180': { count: 1, outstanding: 5000 },
      '181-360': { count: 0, outstanding: 0 },
      '361+': { count: 0, outstanding: 0 },
    });
    expect(p.classification).toEqual({
      normal: { count: 2, outstanding: 308_000 },
      special_mention: { count: 1, outstanding: 1000.5 },
      substandard: { count: 0, outstanding: 0 },
      doubtful: { count: 1, outstanding: 5000 },
      loss: { count: 0, outstanding: 0 },
    });
    expect(p.nplRatio).toBe(5000 / T);
    expect(p.ifrs9Stages).toEqual({
      '1': { count: 2, outstanding: 308_000 },
      '2': { count: 1, outstanding: 1000.5 },
      '3': { count: 1, outstanding: 5000 },
    });
    const el = TODAY.map((l) => assessLoan(l, policy).el).reduce((s, x) => s + x, 0);
    expect(p.expectedLoss).toBeCloseTo(el, 9);
    expect(p.maturityLadder).toEqual({
      overdue: 300_000,
      '0-7': 8000,
      '8-30': 0,
      '31-90': 0,
      '91-365': 5000,
      '366+': 1000.5,
    });
  });

  it('computes the concentration section with keyed-hash borrower references', () => {
    const c = result.concentration;
    expect(c.borrowerHhi).toBeCloseTo((13_000 ** 2 + 300_000 ** 2 + 1000.5 ** 2) / T ** 2, 15);
    expect(c.top10BorrowerShare).toBe(1);
    expect(c.largestBorrowerShare).toBe(300_000 / T);
    expect(c.topBorrowers).toEqual([
      { borrowerRef: borrowerRef('B2', KEY), exposure: 300_000, share: 300_000 / T, loanCount: 1 },
      { borrowerRef: borrowerRef('B1', KEY), exposure: 13_000, share: 13_000 / T, loanCount: 2 },
      { borrowerRef: borrowerRef('B3', KEY), exposure: 1000.5, share: 1000.5 / T, loanCount: 1 },
    ]);
    expect(JSON.stringify(c)).not.toMatch(/"B[123]"/);
    expect(c.byIndustry).toEqual({
      retail: { count: 2, outstanding: 13_000, share: 13_000 / T },
      student: { count: 1, outstanding: 1000.5, share: 1000.5 / T },
      unknown: { count: 1, outstanding: 300_000, share: 300_000 / T },
    });
    expect(c.byRegion).toEqual({
      Jiangsu: { count: 1, outstanding: 300_000, share: 300_000 / T },
      Zhejiang: { count: 2, outstanding: 13_000, share: 13_000 / T },
      unknown: { count: 1, outstanding: 1000.5, share: 1000.5 / T },
    });
    expect(c.byProduct).toEqual({
      order_financing: { count: 1, outstanding: 300_000, share: 300_000 / T },
      credit_loan: { count: 2, outstanding: 9000.5, share: 9000.5 / T },
      consumer_credit: { count: 1, outstanding: 5000, share: 5000 / T },
    });
    expect(c.industryHhi).toBeCloseTo((13_000 ** 2 + 1000.5 ** 2 + 300_000 ** 2) / T ** 2, 15);
    expect(c.regionHhi).toBeCloseTo((13_000 ** 2 + 1000.5 ** 2 + 300_000 ** 2) / T ** 2, 15);
  });

  it('computes one compliance entry per rule of the pack', () => {
    // The default lender: an online micro-loan company with no net assets given. L1 (18%, made
    // 2026-01-01) and L2 (30%, made 2026-05-01) are above 4 x LPR (12%); L2 is a new loan above
    // 24%; L3 (40%, made 2025-11-01, own share 20%) is above 36%, a legacy loan above 24% and
    // under the 30% own share; L4 is a student's consumption loan, 1,000.5 > 3,000 / 3.
    const inForce = (severity: string, loans = 0, borrowers = 0, outstanding = 0) => ({
      status: 'in_force',
      severity,
      loans,
      borrowers,
      outstanding,
    });
    const off = (severity: string) => ({
      status: 'not_applicable',
      severity,
      loans: 0,
      borrowers: 0,
      outstanding: 0,
    });
    expect(ruleFigures(result)).toEqual({
      COST_ABOVE_36: inForce('breach', 1, 1, 300_000),
      COST_ABOVE_24_NEW: inForce('breach', 1, 1, 5000),
      COST_ABOVE_24_LEGACY: inForce('watch', 1, 1, 300_000),
      COST_ABOVE_4LPR: inForce('watch', 2, 1, 13_000),
      COST_ABOVE_24_FACILITATED: off('breach'),
      CONSUMER_BALANCE_CAP: inForce('breach'),
      BUSINESS_BALANCE_CAP: inForce('breach'),
      BORROWER_NET_ASSETS_10: off('breach'),
      GROUP_NET_ASSETS_15: off('breach'),
      BANK_CONSUMER_LINE_CAP: off('breach'),
      INCOME_THIRD_AFFORDABILITY: inForce('watch', 1, 1, 1000.5),
      MINOR_BORROWER: inForce('breach'),
      AGE_UNKNOWN: inForce('watch'),
      STUDENT_CONSUMER_LOAN: inForce('breach', 1, 1, 1000.5),
      STUDENT_LOAN_REVIEW: off('watch'),
      CO_LENDING_OWN_SHARE_MIN: inForce('breach', 1, 1, 300_000),
      CO_LENDING_OWN_SHARE_MAX: off('breach'),
      CO_LENDING_PARTNER_CAP: off('breach'),
      CO_LENDING_TOTAL_CAP: off('breach'),
      CLASSIFICATION_BELOW_FLOOR: inForce('watch'),
      OUT_OF_LICENSED_REGION: off('watch'),
    });
    // L2, L3 and L4 are in breach (L3 of two rules); four breach rules have loans.
    expect(result.compliance.loansInBreach).toBe(3);
    expect(result.compliance.rulesBreached).toBe(4);
    expect(result.compliance.rules.BORROWER_NET_ASSETS_10?.reason).toBe(
      "needs the lender's net assets, which the rule pack leaves empty (lender.netAssets)",
    );
    expect(result.compliance.rules.CO_LENDING_OWN_SHARE_MAX?.reason).toBe(
      "binds banks only, and the pack's lender is an online micro-loan company",
    );
    expect(result.compliance.rules.COST_ABOVE_36?.reason).toBeNull();
    expect(result.compliance.pack).toEqual({
      name: 'default',
      version: '2026.12.0',
      licence: 'online_micro_loan_company',
      currency: 'CNY',
    });
    expect(result.portfolio.currency).toBe('CNY');
  });

  it('computes the vulnerability flags', () => {
    expect(result.vulnerability).toEqual({
      flags: {
        YOUNG_BORROWER: { loans: 1, outstanding: 1000.5 },
        HIGH_DTI: { loans: 1, outstanding: 1000.5 },
        MULTI_LENDING: { loans: 1, outstanding: 1000.5 },
        THIN_FILE: { loans: 2, outstanding: 301_000.5 },
      },
      anyFlag: { loans: 2, outstanding: 301_000.5 },
    });
  });

  it('computes drift: PSI with floors over the union of categories, roll rates with closed, new loans', () => {
    const f = 0.0001;
    const term = (a: number, e: number) =>
      (Math.max(a, f) - Math.max(e, f)) * Math.log(Math.max(a, f) / Math.max(e, f));
    // credit score bands today: 700-749 0.5, missing 0.25, <550 0.25; yesterday: 700-749 0.5, 600-649 0.25, <550 0.25.
    const creditScore = term(0.5, 0.5) + term(0.25, 0) + term(0.25, 0.25) + term(0, 0.25);
    // products today: credit 0.5, consumer 0.25, order 0.25 (absent yesterday); yesterday: credit 0.75, consumer 0.25.
    const product = term(0.25, 0) + term(0.5, 0.75) + term(0.25, 0.25);
    // dpd today: 0 0.5, 31-60 0.25, 91-180 0.25; yesterday: 0 0.25, 1-30 0.5, 91-180 0.25.
    const dpdBucket = term(0.5, 0.25) + term(0, 0.5) + term(0.25, 0) + term(0.25, 0.25);

    expect(result.drift.psi?.creditScore).toBeCloseTo(creditScore, 12);
    expect(result.drift.psi?.product).toBeCloseTo(product, 12);
    expect(result.drift.psi?.dpdBucket).toBeCloseTo(dpdBucket, 12);
    expect(result.drift.psi?.creditScore).toBeCloseTo(2 * 0.2499 * Math.log(2500), 12);
    expect(result.drift.rollRates).toEqual({
      '0': { '0': 1 },
      '1-30': { '31-60': 0.5, closed: 0.5 },
      '91-180': { '91-180': 1 },
    });
    expect(result.drift.newLoans).toBe(1);
    expect(result.previousSnapshotDate).toBe('2026-11-24');
  });

  it('computes data quality from the intake counts', () => {
    expect(result.dataQuality).toEqual({
      rowsRead: 5,
      rowsQuarantined: 1,
      quarantineRate: 0.2,
      duplicateLoanIds: 0,
      missingRate: {
        currency: 0,
        region: 0.25,
        industry: 0.25,
        merchant_id: 1,
        borrower_age: 0.25,
        annual_income: 0.25,
        monthly_debt_payments: 0.25,
        other_lenders_count: 0.25,
        credit_score: 0.25,
        is_student: 0.25,
        own_funding_share: 0,
        loan_purpose: 1,
        partner_id: 1,
        related_party_group: 1,
        reported_classification: 1,
      },
      rowCountChange: 0, // 4 valid today, 4 on the previous tape
    });
    expect(result.status).toBe('partial');
    expect(result.input).toMatchObject({
      rowsRead: 5,
      rowsValid: 4,
      rowsQuarantined: 1,
      sha256: 'a'.repeat(64),
    });
  });

  it('rates each category against the risk appetite and takes the worst as overall', () => {
    // credit: NPL 1.6% and stage 2 0.3% green, EL about 10,600 / 314,000 = 3.4% amber (3%-6%);
    // regulatory: breaches red; concentration:
    // largest borrower 95.5% red; vulnerability: 95.9% flagged red; technical: quarantine 20% red;
    // liquidity: 95.5% past maturity red.
    expect(result.ratings).toEqual({
      credit: 'amber',
      regulatory: 'red',
      concentration: 'red',
      vulnerability: 'red',
      technical: 'red',
      liquidity: 'red',
      overall: 'red',
    });
  });

  it('orders findings by severity and cites the rule, threshold and source', () => {
    const severities = result.findings.map((f) => f.severity);
    const rank = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
    expect([...severities].sort((a, b) => rank[a] - rank[b])).toEqual(severities);
    const critical = result.findings.filter((f) => f.severity === 'critical').map((f) => f.code);
    expect(critical).toEqual([
      'COST_ABOVE_24_NEW',
      'COST_ABOVE_36',
      'CO_LENDING_OWN_SHARE_MIN',
      'STUDENT_CONSUMER_LOAN',
    ]);
    const apr = result.findings.find((f) => f.code === 'COST_ABOVE_36');
    expect(apr).toMatchObject({ category: 'regulatory', value: 1, threshold: 'annualRate > 0.36' });
    expect(apr?.message).toBe(
      '1 loans of 1 borrowers (outstanding 300,000 CNY): all-in annualised cost above 36% (the legacy line of the cash-loan rectification)',
    );
    // Every rule finding cites the source's title, number (or "no public number"), binding kind and effective date.
    expect(apr?.source).toBe(
      'Notice on Regulating and Rectifying "Cash Loan" Business, Zheng Zhi Ban Han [2017] No. 141 (Offices of the Leading Groups for Internet Financial Risk and P2P Lending Risk Rectification; normative document); in force from 2017-12-01',
    );
    expect(result.findings.find((f) => f.code === 'COST_ABOVE_24_NEW')?.source).toMatch(
      /^Guidelines on the Management of Comprehensive Financing Costs of Micro-Loan Companies, no public number \(.*; supervisory guidance\); in force from 2025-12-24$/,
    );
    const watch = result.findings.find((f) => f.code === 'INCOME_THIRD_AFFORDABILITY');
    expect(watch).toMatchObject({
      severity: 'low',
      threshold: 'individual borrower exposure > annualIncome / 3',
    });
    expect(watch?.source).toMatch(/draft for comments.*; draft\); in force from 2026-01-01$/);
    const npl = result.findings.find((f) => f.code === 'LIQUIDITY_PAST_MATURITY_SHARE');
    expect(npl).toMatchObject({ severity: 'high', value: 300_000 / T, threshold: 0.03 });
    expect(result.findings.find((f) => f.code === 'ROWS_QUARANTINED')?.message).toMatch(/MISSING_REQUIRED 1/);
    expect(JSON.stringify(result.findings)).not.toMatch(/B[123]\b/);
  });
});

describe('Function: finalizeAudit (ratings)', () => {
  it('rates strictly beyond a threshold, in either direction, and takes the worst category as overall', () => {
    const T = 314_000.5;
    const edited = structuredClone(policy);
    const th = (metric: string, amber: number, red: number, direction: 'above' | 'below' = 'above') => ({
      metric,
      amber,
      red,
      direction,
    });
    edited.appetite.categories = {
      credit: [th('nplRatio', 0.01, 0.5)], // 5000 / T = 1.6%: amber
      regulatory: [],
      concentration: [th('largestBorrowerShare', 0.99, 0.999)], // 95.5%: green
      vulnerability: [],
      technical: [th('quarantineRate', 0.3, 0.1, 'below')], // 0.2 < 0.3: amber
      liquidity: [th('pastMaturityShare', 300_000 / T, 0.99)], // exactly at amber: green
    };
    const acc = createAccumulator(edited, buildPreviousTape(PREVIOUS));
    for (const l of TODAY) acc.add(l);
    const result = finalizeAudit(acc.toPartial(), intakeOf(TODAY, { rowsRead: 5, rowsQuarantined: 1 }), {
      ...ctx,
      policy: edited,
    });

    expect(result.ratings).toEqual({
      credit: 'amber',
      regulatory: 'green',
      concentration: 'green',
      vulnerability: 'green',
      technical: 'amber',
      liquidity: 'green',
      overall: 'amber',
    });
    expect(Object.keys(result.ratings)).toEqual([
      'credit',
      'regulatory',
      'concentration',
      'vulnerability',
      'technical',
      'liquidity',
      'overall',
    ]);
    const medium = result.findings.filter((f) => f.severity === 'medium');
    expect(medium).toEqual([
      {
        category: 'credit',
        severity: 'medium',
        code: 'CREDIT_NPL_RATIO',
        message: 'NPL ratio 1.59% is above the amber threshold 1.00%',
        value: 5000 / T,
        threshold: 0.01,
      },
      {
        category: 'technical',
        severity: 'medium',
        code: 'TECHNICAL_QUARANTINE_RATE',
        message: 'quarantine rate 20.00% is below the amber threshold 30.00%',
        value: 0.2,
        threshold: 0.3,
      },
    ]);
  });
});

describe('Function: finalizeAudit (edge cases)', () => {
  it('returns nulls, not divisions by zero, for a tape with no valid loans', () => {
    const result = audit([], PREVIOUS, {
      rowsRead: 2,
      rowsQuarantined: 2,
      quarantineByCode: { BAD_DATE: 2 },
    });

    expect(result.status).toBe('partial');
    expect(result.portfolio).toMatchObject({
      loanCount: 0,
      borrowerCount: 0,
      totalOutstanding: 0,
      weightedAverageRate: null,
      nplRatio: null,
      expectedLoss: 0,
    });
    expect(result.concentration).toMatchObject({
      borrowerHhi: null,
      top10BorrowerShare: null,
      largestBorrowerShare: null,
      topBorrowers: [],
      industryHhi: null,
      regionHhi: null,
    });
    expect(result.drift.psi).toBeNull();
    expect(result.drift.rollRates).toEqual({
      '0': { closed: 1 },
      '1-30': { closed: 1 },
      '91-180': { closed: 1 },
    });
    expect(result.drift.newLoans).toBe(0);
    expect(result.dataQuality.missingRate).toEqual({});
    expect(result.dataQuality.rowCountChange).toBe(-1);
    expect(result.findings.map((f) => f.code)).toContain('NO_VALID_LOANS');
    expect(JSON.stringify(result)).not.toMatch(/NaN|Infinity/);
  });

  it('leaves drift null without a previous tape and says so', () => {
    const result = audit(TODAY, null);

    expect(result.drift).toEqual({ psi: null, rollRates: null, newLoans: null });
    expect(result.previousSnapshotDate).toBe('2026-11-24');
    expect(result.dataQuality.rowCountChange).toBeNull();
    expect(result.status).toBe('ok');
    expect(result.findings.find((f) => f.code === 'DRIFT_NO_PREVIOUS_TAPE')?.severity).toBe('info');
  });

  it('uses the previous intake for rowCountChange when given', () => {
    const acc = createAccumulator(policy, buildPreviousTape(PREVIOUS));
    for (const l of TODAY) acc.add(l);
    const result = finalizeAudit(acc.toPartial(), intakeOf(TODAY), {
      ...ctx,
      previousIntake: intakeOf([...PREVIOUS, makeLoan({ loanId: 'X' })]),
    });
    expect(result.dataQuality.rowCountChange).toBeCloseTo(4 / 5 - 1, 15);
  });

  it('sums a borrower over shards before testing the balance caps', () => {
    // 110,000 + 110,000 = 220,000 > 200,000 of consumption loans: neither shard alone breaches.
    const a = makeLoan({ loanId: 'A', borrowerId: 'BIG', outstandingPrincipal: 110_000, principal: 110_000 });
    const b = makeLoan({ loanId: 'B', borrowerId: 'BIG', outstandingPrincipal: 110_000, principal: 110_000 });
    const c = makeLoan({ loanId: 'C', borrowerId: 'SMALL', outstandingPrincipal: 100, principal: 100 });
    const s1 = createAccumulator(policy, null);
    s1.add(a);
    s1.add(c);
    const s2 = createAccumulator(policy, null);
    s2.add(b);

    const alone = finalizeAudit(s1.toPartial(), intakeOf([a, c]), ctx);
    const merged = mergePartials(s1.toPartial(), s2.toPartial());
    const result = finalizeAudit(merged, intakeOf([a, b, c]), ctx);

    expect(alone.compliance.rules.CONSUMER_BALANCE_CAP?.loans).toBe(0);
    expect(ruleFigures(result).CONSUMER_BALANCE_CAP).toEqual({
      status: 'in_force',
      severity: 'breach',
      loans: 2,
      borrowers: 1,
      outstanding: 220_000,
    });
    expect(result.compliance.loansInBreach).toBe(2);
    expect(result.portfolio.borrowerCount).toBe(2);
    expect(result.concentration.topBorrowers[0]).toEqual({
      borrowerRef: borrowerRef('BIG', KEY),
      exposure: 220_000,
      share: 220_000 / 220_100,
      loanCount: 2,
    });
    expect(aggregateRuleHits(merged, policy).borrowers).toEqual(
      new Map([[borrowerKey('BIG'), { all: [], consumption: ['CONSUMER_BALANCE_CAP'], business: [] }]]),
    );
  });

  it('tests the income cap only when income is known, with the highest income reported', () => {
    const loans = [
      makeLoan({ loanId: 'A', borrowerId: 'P', outstandingPrincipal: 40_000, annualIncome: 90_000 }),
      makeLoan({ loanId: 'B', borrowerId: 'P', outstandingPrincipal: 1, annualIncome: 150_000 }),
      makeLoan({ loanId: 'C', borrowerId: 'Q', outstandingPrincipal: 40_000 }),
      makeLoan({ loanId: 'D', borrowerId: 'R', outstandingPrincipal: 40_000, annualIncome: 120_000 }),
      makeLoan({ loanId: 'E', borrowerId: 'R', outstandingPrincipal: 0.01 }),
    ];
    // P: 40,001 <= 150,000 / 3; Q: income unknown; R: 40,000.01 > 120,000 / 3.
    const result = audit(loans, null);
    expect(ruleFigures(result).INCOME_THIRD_AFFORDABILITY).toEqual({
      status: 'in_force',
      severity: 'watch',
      loans: 2,
      borrowers: 1,
      outstanding: 40_000.01,
    });
  });

  it('caps each purpose over the loans of that purpose only, whoever borrows', () => {
    const big = (over: Partial<Loan>) => makeLoan({ principal: 1e7, annualRate: 0.1, ...over });
    const loans = [
      // An enterprise's credit loan is for business: 10,000,000.01 is above the cap, 10,000,000 is not.
      big({ loanId: 'A', borrowerId: 'E1', borrowerType: 'enterprise', outstandingPrincipal: 10_000_000.01 }),
      big({ loanId: 'B', borrowerId: 'E2', borrowerType: 'enterprise', outstandingPrincipal: 10_000_000 }),
      // A sole trader: 6,000,000 for business (under its cap) and 5,000,000 of consumer credit (over its cap).
      big({
        loanId: 'C',
        borrowerId: 'P1',
        borrowerAge: 40,
        loanPurpose: 'business',
        outstandingPrincipal: 6e6,
      }),
      big({
        loanId: 'D',
        borrowerId: 'P1',
        borrowerAge: 40,
        product: 'consumer_credit',
        outstandingPrincipal: 5e6,
      }),
    ];
    const result = audit(loans, null);
    const rules = ruleFigures(result);
    expect(rules.BUSINESS_BALANCE_CAP).toEqual({
      status: 'in_force',
      severity: 'breach',
      loans: 1,
      borrowers: 1,
      outstanding: 10_000_000.01,
    });
    expect(rules.CONSUMER_BALANCE_CAP).toMatchObject({ loans: 1, borrowers: 1, outstanding: 5e6 });
    // A and D only: C is P1's business loan, which no rule hits.
    expect(result.compliance.loansInBreach).toBe(2);
  });

  it('lists disabled rules as not applicable and rejects merging partials of different policies', () => {
    const copy = structuredClone(policy);
    const rule = copy.rulePack.rules.find((r) => r.code === 'COST_ABOVE_4LPR');
    if (rule) rule.enabled = false;
    const edited = policyInForce(copy, '2026-11-25');
    const acc = createAccumulator(edited, null);
    acc.add(makeLoan({ annualRate: 0.3 }));
    const result = finalizeAudit(acc.toPartial(), intakeOf([makeLoan()]), { ...ctx, policy: edited });

    expect(result.compliance.rules.COST_ABOVE_4LPR).toMatchObject({
      status: 'not_applicable',
      loans: 0,
      reason: 'disabled in the rule pack (enabled: false)',
    });
    expect(result.compliance.rules.COST_ABOVE_24_NEW?.loans).toBe(1);
    expect(() => mergePartials(acc.toPartial(), createAccumulator(policy, null).toPartial())).toThrow(
      /different policies/,
    );
    expect(() => finalizeAudit(acc.toPartial(), intakeOf([]), ctx)).toThrow(/another policy/);
  });

  it('flags a mismatch between intake and engine counts as partial', () => {
    const acc = createAccumulator(policy, null);
    acc.add(makeLoan());
    const result = finalizeAudit(acc.toPartial(), intakeOf([]), ctx);
    expect(result.status).toBe('partial');
    expect(result.findings.find((f) => f.code === 'ENGINE_ROW_MISMATCH')).toMatchObject({
      severity: 'high',
      value: 1,
      threshold: 0,
    });
  });
});

describe('Function: createAccumulator', () => {
  it('accumulates the same state with or without building assessments', () => {
    const prev = buildPreviousTape(PREVIOUS);
    const a = createAccumulator(policy, prev);
    const b = createAccumulator(policy, prev);
    const assessments = TODAY.map((l) => a.add(l));
    for (const l of TODAY) b.accumulate(l);

    expect(b.toPartial()).toEqual(a.toPartial());
    expect(assessments).toEqual(TODAY.map((l) => assessLoan(l, policy)));
  });
});

describe('Function: finalizeAudit (maturity ladder)', () => {
  it('bands days to maturity at the edges of each band', () => {
    // Snapshot 2026-11-25; outstanding 2^k fen so each band's sum shows which loans it holds.
    const days = [-1, 0, 7, 8, 30, 31, 90, 91, 365, 366];
    const loans = days.map((d, k) =>
      makeLoan({
        loanId: `M${k}`,
        originationDate: '2026-01-01',
        maturityDate: new Date(Date.UTC(2026, 10, 25 + d)).toISOString().slice(0, 10),
        outstandingPrincipal: 2 ** k / 100,
        principal: 100_000,
      }),
    );
    const ladder = audit(loans, null).portfolio.maturityLadder;
    expect(ladder).toEqual({
      overdue: 1 / 100,
      '0-7': (2 + 4) / 100,
      '8-30': (8 + 16) / 100,
      '31-90': (32 + 64) / 100,
      '91-365': (128 + 256) / 100,
      '366+': 512 / 100,
    });
  });
});

describe('Function: finalizeAudit (hostile names)', () => {
  it('keeps a region named __proto__ as data', () => {
    const loans = [makeLoan({ loanId: 'A', region: '__proto__', industry: 'constructor' })];
    const s1 = createAccumulator(policy, null);
    for (const l of loans) s1.add(l);
    const merged = mergePartials(
      JSON.parse(JSON.stringify(s1.toPartial())),
      createAccumulator(policy, null).toPartial(),
    );
    const result = finalizeAudit(merged, intakeOf(loans), ctx);

    expect(Object.keys(result.concentration.byRegion)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.concentration.byRegion)).toBe(Object.prototype);
    const parsed = JSON.parse(JSON.stringify(result)) as typeof result;
    expect(Object.getOwnPropertyDescriptor(parsed.concentration.byRegion, '__proto__')?.value).toEqual({
      count: 1,
      outstanding: 1000,
      share: 1,
    });
    expect(Object.keys(result.concentration.byIndustry)).toEqual(['constructor']);
  });
});

describe('Function: mergePartials', () => {
  it('refuses partials of different dates or previous tapes, and damaged borrower data', () => {
    const part = (loans: Loan[], previous: Loan[] | null) => {
      const acc = createAccumulator(policy, previous === null ? null : buildPreviousTape(previous));
      for (const l of loans) acc.add(l);
      return acc.toPartial();
    };
    const today = part([L1], PREVIOUS);
    const otherDay = part([{ ...L2, snapshotDate: '2026-11-26' }], PREVIOUS);
    const noPrevious = part([L2], null);
    const damaged = { ...today, borrowers: { ...today.borrowers, amounts: 'AAAA' } };

    expect(() => mergePartials(today, otherDay)).toThrow(/different dates: 2026-11-25 vs 2026-11-26/);
    expect(() => mergePartials(today, noPrevious)).toThrow(/different previous tapes/);
    expect(() => mergePartials(damaged, part([L2], PREVIOUS))).toThrow(
      /borrowers\.amounts holds 3 bytes, expected 16/,
    );
  });
});

describe('Function: tapeDigest', () => {
  it('keeps a single part digest and hashes several in key order', () => {
    const a = { key: 'p/1.csv', sha256: '1'.repeat(64) };
    const b = { key: 'p/2.csv', sha256: '2'.repeat(64) };
    const expected = createHash('sha256').update(`${a.sha256}\n${b.sha256}`).digest('hex');

    expect(tapeDigest([a])).toBe(a.sha256);
    expect(tapeDigest([b, a])).toBe(expected);
    expect(tapeDigest([a, b])).toBe(expected);
  });
});

describe('Class: PreviousTape', () => {
  it('indexes buckets by loan id, keeps the first of a repeated id and survives serialisation', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      makeLoan({ snapshotDate: '2026-11-24', loanId: `P${i}`, daysPastDue: i % 400 }),
    );
    const tape = buildPreviousTape([
      ...many,
      makeLoan({ snapshotDate: '2026-11-24', loanId: 'P7', daysPastDue: 200 }),
    ]);
    const copy = decodePreviousIndex(encodePreviousIndex(tape)).tape;

    for (const t of [tape, copy]) {
      expect(t.validCount).toBe(5000);
      expect(t.lookup('P0')).toBe(0);
      expect(t.lookup('P7')).toBe(1);
      expect(t.lookup('P45')).toBe(2);
      expect(t.lookup('P395')).toBe(6);
      expect(t.lookup('nope')).toBe(-1);
      expect(t.snapshotDate).toBe('2026-11-24');
    }
    expect(copy.dpdCounts).toEqual(tape.dpdCounts);
    expect(tape.dpdCounts.reduce((s, x) => s + x, 0)).toBe(5000);
  });
});

describe('Function: encodePreviousIndex / decodePreviousIndex', () => {
  const tape = buildPreviousTape(
    Array.from({ length: 3000 }, (_, i) =>
      makeLoan({
        snapshotDate: '2026-11-24',
        loanId: `P${i}`,
        daysPastDue: i % 400,
        creditScore: 500 + (i % 300),
      }),
    ),
  );

  it('stores the table itself with the counts and extra fields, and reads it back unchanged', () => {
    const bytes = encodePreviousIndex(tape, { intake: { rowsValid: 3000 } });
    // Misaligned on purpose, as a buffer from a network read may be: the reader copies.
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    for (const b of [bytes, shifted]) {
      const { tape: back, extra } = decodePreviousIndex(b);
      expect(extra.intake).toEqual({ rowsValid: 3000 });
      expect(back.canonical()).toEqual(tape.canonical());
      expect(back.lookup('P399')).toBe(6);
      expect(back.lookup('P1')).toBe(1);
      expect(back.lookup('P3000')).toBe(-1);
    }
  });

  it('refuses bytes that are not an index, or are truncated, with a sentence', () => {
    const bytes = encodePreviousIndex(tape);
    expect(() => decodePreviousIndex(Buffer.from('{"index": {}}'))).toThrow(
      'it is not a valid drift index (not a risk-audit previous index)',
    );
    expect(() => decodePreviousIndex(bytes.subarray(0, bytes.byteLength - 8))).toThrow(
      'it is not a valid drift index (the table is truncated or not a power of two in size)',
    );
    expect(() => decodePreviousIndex(bytes.subarray(0, 8))).toThrow('shorter than its preamble');
  });

  it('reads the header alone from the first chunks of a stream, and leaves the rest unread', async () => {
    // Prepare: the index in 7-byte chunks, counting how many the reader takes.
    const bytes = encodePreviousIndex(tape, { intake: { rowsValid: 3000 } });
    let taken = 0;
    async function* chunks(of: Uint8Array) {
      for (let at = 0; at < of.byteLength; at += 7) {
        taken++;
        yield of.subarray(at, at + 7);
      }
    }
    const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);

    // Act
    const header = await readPreviousIndexHeader(chunks(bytes));

    // Assess: the same counts and extra fields as decoding the whole index, from the chunks that
    // hold the 12-byte preamble and the header only (the table is 32 KiB of 4,096 slots).
    expect(header).toEqual(decodePreviousIndex(bytes).extra);
    expect(header.validCount).toBe(3000);
    expect(taken).toBe(Math.ceil((12 + headerBytes) / 7));
    await expect(readPreviousIndexHeader(chunks(bytes.subarray(0, 20)))).rejects.toThrow(
      'it is not a valid drift index (truncated header)',
    );
    await expect(readPreviousIndexHeader(chunks(Buffer.from('{"index": {}}')))).rejects.toThrow(
      'it is not a valid drift index (not a risk-audit previous index)',
    );
  });
});

describe('Method: PreviousTape.canonical', () => {
  it('depends on the loans indexed, not on the size of the table they sit in', () => {
    const loans = Array.from({ length: 900 }, (_, i) =>
      makeLoan({ snapshotDate: '2026-11-24', loanId: `Q${i}`, daysPastDue: i % 200 }),
    );
    const small = buildPreviousTape(loans, 10);
    const big = buildPreviousTape(loans, 1_000_000);
    expect(big.canonical()).toEqual(small.canonical());
    expect(small.canonical().entries).toHaveLength(900);
    const other = buildPreviousTape([
      ...loans.slice(1),
      makeLoan({ snapshotDate: '2026-11-24', loanId: 'Q0', daysPastDue: 400 }),
    ]);
    expect(other.canonical()).not.toEqual(small.canonical());
  });
});
