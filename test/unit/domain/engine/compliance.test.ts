import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../../../../shared/domain/audit-result.ts';
import { createAccumulator, mergePartialList } from '../../../../shared/domain/engine/accumulator.ts';
import { aggregateRuleHits, finalizeAudit } from '../../../../shared/domain/engine/finalize.ts';
import { borrowerKey } from '../../../../shared/domain/engine/hash.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import type { Policy } from '../../../../shared/domain/policy/policy.ts';
import { defaultPolicy, intakeOf, makeLoan, policyFor } from './helpers.ts';

// Small books with every figure worked out by hand, one per licence. Loans default to a 10% rate
// made on 2026-02-01 (under 4 x LPR, after the cost guideline), borrowers aged 30, no income.
const DATE = '2026-11-25';

function loan(id: string, borrower: string, over: Partial<Loan> = {}): Loan {
  return makeLoan({
    loanId: id,
    borrowerId: borrower,
    principal: over.outstandingPrincipal ?? 1000,
    outstandingPrincipal: 1000,
    annualRate: 0.1,
    originationDate: '2026-02-01',
    borrowerAge: over.borrowerType === 'enterprise' ? null : 30,
    ...over,
  });
}

/** The audit of `loans` scored in `shards` shards (every second loan to the next shard), merged. */
function audit(loans: readonly Loan[], policy: Policy, shards = 3): AuditResult {
  const accs = Array.from({ length: shards }, () => createAccumulator(policy, null));
  loans.forEach((l, i) => {
    accs[i % shards]!.add(l);
  });
  const merged = mergePartialList(accs.map((a) => JSON.parse(JSON.stringify(a.toPartial()))));
  return finalizeAudit(merged, intakeOf(loans), {
    snapshotDate: policy.resolution!.snapshotDate,
    previousSnapshotDate: null,
    policy,
    borrowerRefKey: 'k',
  });
}

type Figures = [loans: number, borrowers: number, outstanding: number];

/** The in-force rules with their [loans, borrowers, outstanding], and the codes of the others by status. */
function summary(result: AuditResult) {
  const inForce: Record<string, Figures> = {};
  const off: Record<string, string[]> = { not_in_force: [], not_applicable: [] };
  for (const [code, r] of Object.entries(result.compliance.rules)) {
    if (r.status === 'in_force') inForce[code] = [r.loans, r.borrowers, r.outstanding];
    else {
      off[r.status]!.push(code);
      expect([r.loans, r.borrowers, r.outstanding]).toEqual([0, 0, 0]);
      expect(r.reason).toMatch(/^[a-z].+[^.]$/);
    }
  }
  return { inForce, off };
}

describe('Compliance: an online micro-loan company (net assets 1,000,000: 10% = 100,000, 15% = 150,000)', () => {
  const policy = policyFor({ licence: 'online_micro_loan_company', netAssets: 1_000_000 }, DATE);
  const loans = [
    // A: consumption 150,000 + 60,000 = 210,000 > 200,000, and > 10% of net assets.
    loan('a1', 'A', { product: 'consumer_credit', outstandingPrincipal: 150_000 }),
    loan('a2', 'A', { outstandingPrincipal: 60_000 }),
    // B: business 9,000,000 + 1,000,000.01 = 10,000,000.01 > 10,000,000, and > 10% of net assets.
    loan('b1', 'B', {
      borrowerType: 'enterprise',
      product: 'order_financing',
      outstandingPrincipal: 9_000_000,
    }),
    loan('b2', 'B', { borrowerType: 'enterprise', outstandingPrincipal: 1_000_000.01 }),
    // Group G1: C (80,000 for business + 5,000 of consumer credit named in no group) and D
    // (80,000): 165,000 > 150,000, every loan of both; G2 (E, 50,000) is under it.
    loan('c1', 'C', { loanPurpose: 'business', outstandingPrincipal: 80_000, relatedPartyGroup: 'G1' }),
    loan('c2', 'C', { product: 'consumer_credit', outstandingPrincipal: 5000 }),
    loan('d1', 'D', { borrowerType: 'enterprise', outstandingPrincipal: 80_000, relatedPartyGroup: 'G1' }),
    loan('e1', 'E', { borrowerType: 'enterprise', outstandingPrincipal: 50_000, relatedPartyGroup: 'G2' }),
    // Pricing: above 36% made before the guideline (also a legacy 24% watch); above 24% new (also
    // above 4 x LPR); 13% new (above 4 x 3.00% only).
    loan('f1', 'F', { annualRate: 0.37, originationDate: '2025-06-01' }),
    loan('g1', 'G', { annualRate: 0.25, originationDate: '2026-03-01' }),
    loan('h1', 'H', { annualRate: 0.13, originationDate: '2026-03-01' }),
    // I: 10,001 > 30,000 / 3 (affordability watch).
    loan('i1', 'I', { outstandingPrincipal: 10_001, annualIncome: 30_000 }),
    loan('j1', 'J', { borrowerAge: 17 }),
    loan('k1', 'K', { borrowerAge: null }),
    // L: a student's consumer credit; M: a student's business loan (not consumption).
    loan('l1', 'L', { product: 'consumer_credit', isStudent: true }),
    loan('m1', 'M', { isStudent: true, loanPurpose: 'business' }),
    loan('n1', 'N', { ownFundingShare: 0.25, partnerId: 'PB-1' }),
    // Reported classes against the floor: 100 days special mention (milder than substandard), 100
    // days substandard (at the floor), 400 days doubtful (milder than loss).
    loan('o1', 'O', { daysPastDue: 100, reportedClassification: 'special_mention' }),
    loan('p1', 'P', { daysPastDue: 100, reportedClassification: 'substandard' }),
    loan('r1', 'R', { daysPastDue: 400, reportedClassification: 'doubtful' }),
  ];
  const result = audit(loans, policy);

  it('computes every default rule by hand', () => {
    const { inForce, off } = summary(result);
    expect(inForce).toEqual({
      COST_ABOVE_36: [1, 1, 1000],
      COST_ABOVE_24_NEW: [1, 1, 1000],
      COST_ABOVE_24_LEGACY: [1, 1, 1000],
      COST_ABOVE_4LPR: [2, 2, 2000],
      CONSUMER_BALANCE_CAP: [2, 1, 210_000],
      BUSINESS_BALANCE_CAP: [2, 1, 10_000_000.01],
      BORROWER_NET_ASSETS_10: [4, 2, 10_210_000.01],
      GROUP_NET_ASSETS_15: [3, 2, 165_000],
      INCOME_THIRD_AFFORDABILITY: [1, 1, 10_001],
      MINOR_BORROWER: [1, 1, 1000],
      AGE_UNKNOWN: [1, 1, 1000],
      STUDENT_CONSUMER_LOAN: [1, 1, 1000],
      CO_LENDING_OWN_SHARE_MIN: [1, 1, 1000],
      CLASSIFICATION_BELOW_FLOOR: [2, 2, 2000],
    });
    expect(new Set(off.not_applicable)).toEqual(
      new Set([
        'BANK_CONSUMER_LINE_CAP',
        'CO_LENDING_OWN_SHARE_MAX',
        'CO_LENDING_PARTNER_CAP',
        'CO_LENDING_TOTAL_CAP',
        'COST_ABOVE_24_FACILITATED',
        'OUT_OF_LICENSED_REGION',
        'STUDENT_LOAN_REVIEW',
      ]),
    );
    expect(result.compliance.rules.CLASSIFICATION_BELOW_FLOOR?.severity).toBe('watch');
  });

  it('counts distinct loans in breach and breached rules', () => {
    // a1 a2 (two caps each), b1 b2 (two caps each), c1 c2 d1 (group), f1, g1, j1, l1, n1.
    expect(result.compliance.loansInBreach).toBe(12);
    expect(result.compliance.rulesBreached).toBe(9);
    const metric = result.findings.find((f) => f.code === 'REGULATORY_BREACH_LOANS');
    expect(metric).toMatchObject({ value: 12, message: 'loans in breach 12 is above the red threshold 0' });
  });

  it('is the same however the book is sharded', () => {
    for (const shards of [1, 2, 5, loans.length]) {
      expect(JSON.stringify(audit(loans, policy, shards).compliance)).toBe(JSON.stringify(result.compliance));
    }
  });

  it("attaches the borrower and group hits to the borrowers' loans by purpose", () => {
    const hits = aggregateRuleHits(
      mergePartialList(
        [loans].map((l) => {
          const acc = createAccumulator(policy, null);
          for (const x of l) acc.add(x);
          return acc.toPartial();
        }),
      ),
      policy,
    );
    expect(hits.borrowers.get(borrowerKey('A'))).toEqual({
      all: ['BORROWER_NET_ASSETS_10'],
      consumption: ['CONSUMER_BALANCE_CAP'],
      business: [],
    });
    expect(hits.borrowers.get(borrowerKey('B'))).toEqual({
      all: ['BORROWER_NET_ASSETS_10'],
      consumption: [],
      business: ['BUSINESS_BALANCE_CAP'],
    });
    expect(hits.borrowers.get(borrowerKey('C'))?.all).toEqual(['GROUP_NET_ASSETS_15']);
    expect(hits.borrowers.get(borrowerKey('I'))?.all).toEqual(['INCOME_THIRD_AFFORDABILITY']);
    expect(hits.borrowers.has(borrowerKey('E'))).toBe(false);
    expect(hits.partners.size).toBe(0);
  });
});

describe('Compliance: a bank (net Tier 1 capital 400,000: 25% = 100,000 per partner)', () => {
  const policy = policyFor({ licence: 'bank', tier1Capital: 400_000 }, DATE);
  const book = (extra: Loan[]) => [
    // X: consumption 150,000 (co-lent with PB-1) + 60,000 = 210,000 > 200,000.
    loan('x1', 'X', {
      product: 'consumer_credit',
      outstandingPrincipal: 150_000,
      partnerId: 'PB-1',
      ownFundingShare: 0.5,
    }),
    loan('x2', 'X', { outstandingPrincipal: 60_000 }),
    // Y: co-lent with PB-1 at an own share of 80% (> 70%).
    loan('y1', 'Y', {
      borrowerType: 'enterprise',
      outstandingPrincipal: 90_000,
      partnerId: 'PB-1',
      ownFundingShare: 0.8,
    }),
    // Z: co-lent with PB-2 (50,000: under its cap).
    loan('z1', 'Z', { outstandingPrincipal: 50_000, partnerId: 'PB-2', ownFundingShare: 0.6 }),
    // W: facilitated by FP-1 (own share 1, not co-lent) at 30%, from 2025-10-01 and the day before.
    loan('w1', 'W', {
      partnerId: 'FP-1',
      annualRate: 0.3,
      originationDate: '2025-11-01',
      outstandingPrincipal: 2000,
    }),
    loan('w2', 'W', {
      partnerId: 'FP-1',
      annualRate: 0.3,
      originationDate: '2025-09-30',
      outstandingPrincipal: 2000,
    }),
    loan('v1', 'V', { annualRate: 0.37 }),
    loan('s1', 'S', { product: 'consumer_credit', isStudent: true }),
    loan('o1', 'O', { daysPastDue: 100, reportedClassification: 'normal' }),
    ...extra,
  ];

  it('computes every bank rule by hand when co-lent loans are most of the book', () => {
    // Co-lent: x1 + y1 + z1 = 290,000 of 357,000 (81% > 50%); PB-1: 240,000 > 100,000.
    const result = audit(book([]), policy);
    const { inForce, off } = summary(result);
    expect(inForce).toEqual({
      COST_ABOVE_36: [1, 1, 1000],
      COST_ABOVE_24_FACILITATED: [1, 1, 2000],
      BANK_CONSUMER_LINE_CAP: [2, 1, 210_000],
      INCOME_THIRD_AFFORDABILITY: [0, 0, 0],
      MINOR_BORROWER: [0, 0, 0],
      AGE_UNKNOWN: [0, 0, 0],
      STUDENT_LOAN_REVIEW: [1, 1, 1000],
      CO_LENDING_OWN_SHARE_MAX: [1, 1, 90_000],
      CO_LENDING_PARTNER_CAP: [2, 2, 240_000],
      CO_LENDING_TOTAL_CAP: [3, 3, 290_000],
      CLASSIFICATION_BELOW_FLOOR: [1, 1, 1000],
    });
    expect(new Set(off.not_applicable)).toEqual(
      new Set([
        'BORROWER_NET_ASSETS_10',
        'BUSINESS_BALANCE_CAP',
        'CONSUMER_BALANCE_CAP',
        'COST_ABOVE_24_LEGACY',
        'COST_ABOVE_24_NEW',
        'COST_ABOVE_4LPR',
        'CO_LENDING_OWN_SHARE_MIN',
        'GROUP_NET_ASSETS_15',
        'OUT_OF_LICENSED_REGION',
        'STUDENT_CONSUMER_LOAN',
      ]),
    );
    // A bank's class below the floor is a breach.
    expect(result.compliance.rules.CLASSIFICATION_BELOW_FLOOR?.severity).toBe('breach');
    // v1, w1, x1, x2, y1, z1, o1.
    expect(result.compliance.loansInBreach).toBe(7);
    expect(result.compliance.rulesBreached).toBe(7);
  });

  it('counts a co-lent loan breached only through its partner once', () => {
    // A large business loan keeps co-lending under half the book (no total cap), and Q's small
    // co-lent loan with PB-1 is in breach only because PB-1 is over its cap.
    const result = audit(
      book([
        loan('u1', 'U', { borrowerType: 'enterprise', outstandingPrincipal: 400_000 }),
        loan('q1', 'Q', { outstandingPrincipal: 20_000, partnerId: 'PB-1', ownFundingShare: 0.5 }),
      ]),
      policy,
    );
    const rules = summary(result).inForce;
    expect(rules.CO_LENDING_TOTAL_CAP).toEqual([0, 0, 0]);
    expect(rules.CO_LENDING_PARTNER_CAP).toEqual([3, 3, 260_000]);
    // v1, w1, x1, x2, y1, o1 and q1: z1 is co-lent with PB-2, under its cap.
    expect(result.compliance.loansInBreach).toBe(7);
    const hits = aggregateRuleHits(
      (() => {
        const acc = createAccumulator(policy, null);
        for (const l of book([])) acc.add(l);
        return acc.toPartial();
      })(),
      policy,
    );
    expect([...hits.partners]).toEqual([['PB-1', ['CO_LENDING_PARTNER_CAP']]]);
    expect(hits.coLent).toEqual(['CO_LENDING_TOTAL_CAP']);
  });
});

describe('Compliance: a consumer finance company', () => {
  const policy = policyFor({ licence: 'consumer_finance_company' }, DATE);
  const result = audit(
    [
      loan('a', 'A', { annualRate: 0.37 }),
      loan('b', 'B', { product: 'consumer_credit', isStudent: true }),
      loan('c', 'C', { ownFundingShare: 0.2, partnerId: 'PB-1' }),
      loan('d', 'D', { borrowerAge: 16 }),
      loan('e', 'E', { daysPastDue: 30, reportedClassification: 'normal' }),
      // 4 x LPR and the 24% new-loan line bind micro-loan companies, not this lender.
      loan('f', 'F', { annualRate: 0.3, originationDate: '2026-06-01' }),
    ],
    policy,
  );

  it('applies the rules of every licence and the student review, nothing else', () => {
    const { inForce } = summary(result);
    expect(inForce).toEqual({
      COST_ABOVE_36: [1, 1, 1000],
      INCOME_THIRD_AFFORDABILITY: [0, 0, 0],
      MINOR_BORROWER: [1, 1, 1000],
      AGE_UNKNOWN: [0, 0, 0],
      STUDENT_LOAN_REVIEW: [1, 1, 1000],
      CO_LENDING_OWN_SHARE_MIN: [1, 1, 1000],
      CLASSIFICATION_BELOW_FLOOR: [1, 1, 1000],
    });
    expect(result.compliance.rules.CLASSIFICATION_BELOW_FLOOR?.severity).toBe('watch');
    expect(result.compliance.rules.COST_ABOVE_24_NEW?.reason).toBe(
      "binds online micro-loan companies and micro-loan companies only, and the pack's lender is a consumer finance company",
    );
    expect(result.compliance.loansInBreach).toBe(3);
  });
});

describe('Compliance: a micro-loan company licensed in Zhejiang (net assets 500,000)', () => {
  const policy = policyFor(
    { licence: 'micro_loan_company', netAssets: 500_000, licensedRegions: ['Zhejiang'] },
    DATE,
  );
  const result = audit(
    [
      loan('a', 'A', { region: 'Zhejiang' }),
      loan('b', 'B', { region: 'Jiangsu' }),
      loan('c', 'C', { region: null }),
      // 60,000 > 10% of 500,000; the online balance caps do not bind this licence.
      loan('d', 'D', { product: 'consumer_credit', outstandingPrincipal: 60_000, region: 'Zhejiang' }),
      loan('e', 'E', { isStudent: true, region: 'Zhejiang' }),
    ],
    policy,
  );

  it('watches loans outside the licensed regions, and applies the net-asset limits', () => {
    const { inForce, off } = summary(result);
    expect(inForce.OUT_OF_LICENSED_REGION).toEqual([1, 1, 1000]);
    expect(inForce.BORROWER_NET_ASSETS_10).toEqual([1, 1, 60_000]);
    expect(inForce.GROUP_NET_ASSETS_15).toEqual([0, 0, 0]);
    expect(inForce.STUDENT_CONSUMER_LOAN).toEqual([1, 1, 1000]);
    expect(off.not_applicable).toContain('CONSUMER_BALANCE_CAP');
    expect(result.compliance.loansInBreach).toBe(2);
  });

  it('says why without licensed regions', () => {
    const none = audit(
      [loan('a', 'A', { region: 'Jiangsu' })],
      policyFor({ licence: 'micro_loan_company' }, DATE),
    );
    expect(none.compliance.rules.OUT_OF_LICENSED_REGION).toMatchObject({
      status: 'not_applicable',
      reason:
        "needs the lender's licensed regions, which the rule pack leaves empty (lender.licensedRegions)",
    });
  });
});

describe('Compliance: a tape dated before the rules', () => {
  it('lists every rule, none in force, and says so', () => {
    const policy = defaultPolicy('2017-06-30');
    const result = audit(
      [loan('a', 'A', { snapshotDate: '2017-06-30', annualRate: 0.5, originationDate: '2017-01-01' })],
      policy,
    );
    const { inForce, off } = summary(result);
    expect(inForce).toEqual({});
    expect(off.not_in_force).toHaveLength(21);
    expect(result.compliance.rules.COST_ABOVE_36?.reason).toBe(
      "in force from 2017-12-01, after the tape's date 2017-06-30",
    );
    expect(result.compliance.loansInBreach).toBe(0);
    expect(result.compliance.rulesBreached).toBe(0);
    const note = result.findings.find((f) => f.code === 'POLICY_RULES_NOT_IN_FORCE');
    expect(note).toMatchObject({ severity: 'info', value: 21 });
    expect(note?.message).toMatch(/^21 of the pack's 21 rules were not yet in force on 2017-06-30/);
  });
});

describe('Compliance: a tape in another currency', () => {
  it("leaves out the amount rules with their reason and speaks of the tape's currency", () => {
    const policy = policyFor({ licence: 'online_micro_loan_company', netAssets: 1_000_000 }, DATE, 'USD');
    const result = audit(
      [
        loan('a', 'A', { currency: 'USD', product: 'consumer_credit', outstandingPrincipal: 300_000 }),
        loan('b', 'B', { currency: 'USD', annualRate: 0.4 }),
      ],
      policy,
    );
    const reason = 'its amount thresholds are in CNY and the tape is in USD';
    for (const code of [
      'CONSUMER_BALANCE_CAP',
      'BUSINESS_BALANCE_CAP',
      'BORROWER_NET_ASSETS_10',
      'GROUP_NET_ASSETS_15',
    ]) {
      expect(result.compliance.rules[code]).toMatchObject({ status: 'not_applicable', loans: 0, reason });
    }
    // Rates are not amounts: still checked.
    expect(result.compliance.rules.COST_ABOVE_36).toMatchObject({ status: 'in_force', loans: 1 });
    expect(result.portfolio.currency).toBe('USD');
    expect(result.findings.find((f) => f.code === 'COST_ABOVE_36')?.message).toMatch(
      /\(outstanding 1,000 USD\)/,
    );
    expect(result.findings.find((f) => f.code === 'POLICY_CURRENCY_DIFFERS')).toMatchObject({
      severity: 'info',
      message:
        "the tape is in USD and the rule pack's amount thresholds are in CNY: CONSUMER_BALANCE_CAP, BUSINESS_BALANCE_CAP, BORROWER_NET_ASSETS_10, GROUP_NET_ASSETS_15 not checked",
    });
    expect(JSON.stringify(result.findings)).not.toMatch(/yuan/);
  });
});

describe('Compliance: dated parameters and schedules', () => {
  it('flags a parameter not checked for more than 60 days (POLICY_PARAMETER_STALE)', () => {
    // LPR_1Y was checked on 2026-12-01: 60 days later is still fresh, 61 is stale.
    const fresh = audit([loan('a', 'A', { snapshotDate: '2027-01-30' })], defaultPolicy('2027-01-30'));
    expect(fresh.findings.find((f) => f.code === 'POLICY_PARAMETER_STALE')).toBeUndefined();
    const stale = audit([loan('a', 'A', { snapshotDate: '2027-01-31' })], defaultPolicy('2027-01-31'));
    expect(stale.findings.find((f) => f.code === 'POLICY_PARAMETER_STALE')).toMatchObject({
      category: 'regulatory',
      severity: 'low',
      value: 61,
      threshold: 60,
    });
    expect(stale.findings.find((f) => f.code === 'POLICY_PARAMETER_STALE')?.message).toMatch(
      /^parameter LPR_1Y \(one-year loan prime rate\) was last checked against its source on 2026-12-01, 61 days before/,
    );
    // A bank reads no LPR: no finding.
    const bank = audit(
      [loan('a', 'A', { snapshotDate: '2027-03-01' })],
      policyFor({ licence: 'bank' }, '2027-03-01'),
    );
    expect(bank.findings.find((f) => f.code === 'POLICY_PARAMETER_STALE')).toBeUndefined();
  });

  it('makes the 4 x LPR path a watch until 2027-12-31 and a breach from 2028-01-01', () => {
    const day = (date: string) =>
      audit(
        [loan('a', 'A', { snapshotDate: date, annualRate: 0.2, originationDate: '2026-06-01' })],
        defaultPolicy(date),
      );
    const before = day('2027-12-31');
    const after = day('2028-01-01');
    expect(before.compliance.rules.COST_ABOVE_4LPR).toMatchObject({ severity: 'watch', loans: 1 });
    expect(before.findings.find((f) => f.code === 'COST_ABOVE_4LPR')?.severity).toBe('low');
    expect(before.compliance.loansInBreach).toBe(0);
    expect(after.compliance.rules.COST_ABOVE_4LPR).toMatchObject({ severity: 'breach', loans: 1 });
    expect(after.findings.find((f) => f.code === 'COST_ABOVE_4LPR')?.severity).toBe('critical');
    expect(after.compliance.loansInBreach).toBe(1);
  });
});
