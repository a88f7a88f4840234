import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createAccumulator,
  mergePartialList,
  mergePartials,
  type PartialAudit,
  PartialMerger,
  splitBorrowerTable,
  withBorrowerTable,
} from '../../../../shared/domain/engine/accumulator.ts';
import { exactSumValue } from '../../../../shared/domain/engine/exact-sum.ts';
import { aggregateRuleHits, finalizeAudit } from '../../../../shared/domain/engine/finalize.ts';
import { borrowerKey } from '../../../../shared/domain/engine/hash.ts';
import { deserializePairs, type SerializedPairs } from '../../../../shared/domain/engine/pair-table.ts';
import { buildPreviousTape } from '../../../../shared/domain/engine/previous-tape.ts';
import { createLoanAssessor } from '../../../../shared/domain/engine/scorecard.ts';
import { isCoLent, type Loan, purposeOf } from '../../../../shared/domain/loan.ts';
import type { Policy } from '../../../../shared/domain/policy/policy.ts';
import { aggregateCodes } from '../../../../shared/use-cases/merge-scores.ts';
import { defaultPolicy, intakeOf, makeLoan, policyFor } from './helpers.ts';

const policy = defaultPolicy();
const ctx = {
  snapshotDate: '2026-11-25',
  previousSnapshotDate: '2026-11-24',
  policy,
  borrowerRefKey: 'prop-key',
};
// Lenders whose every aggregate rule is in force, with limits the generated amounts cross: an
// online micro-loan company (10% and 15% of 2,000,000 net assets) and a bank (25% of 1,000,000
// Tier 1 per partner).
const POLICIES: [string, Policy][] = [
  ['default', policy],
  ['online micro-loan company', policyFor({ licence: 'online_micro_loan_company', netAssets: 2_000_000 })],
  ['bank', policyFor({ licence: 'bank', tier1Capital: 1_000_000 })],
];
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

// Loans with amounts in fen (some with a third decimal, summed exactly as given), rates in basis points, few borrowers (so borrowers span shards) and
// every optional field sometimes empty.
const loanArb = fc.record({
  borrower: fc.integer({ min: 0, max: 12 }),
  borrowerType: fc.constantFrom('individual' as const, 'enterprise' as const),
  product: fc.constantFrom('order_financing' as const, 'credit_loan' as const, 'consumer_credit' as const),
  outstandingFen: fc.integer({ min: 0, max: 60_000_000 }),
  mills: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 9 })),
  rateBp: fc.integer({ min: 0, max: 5000 }),
  dpd: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 })),
  originationDay: fc.integer({ min: 1, max: 800 }),
  maturityDay: fc.integer({ min: -30, max: 900 }),
  region: nullable(fc.constantFrom('Zhejiang', 'Jiangsu', 'Hubei')),
  industry: nullable(fc.constantFrom('retail', 'food')),
  borrowerAge: nullable(fc.integer({ min: 16, max: 70 })),
  annualIncome: nullable(fc.integer({ min: 0, max: 1_000_000 })),
  monthlyDebtPayments: nullable(fc.integer({ min: 0, max: 50_000 })),
  otherLendersCount: nullable(fc.integer({ min: 0, max: 8 })),
  creditScore: nullable(fc.integer({ min: 350, max: 950 })),
  isStudent: nullable(fc.boolean()),
  ownFundingSharePct: fc.oneof(fc.constant(100), fc.integer({ min: 0, max: 100 })),
  loanPurpose: nullable(fc.constantFrom('consumption' as const, 'business' as const)),
  partnerId: nullable(fc.constantFrom('PB-1', 'PB-2', 'FP-1')),
  relatedPartyGroup: nullable(fc.constantFrom('G1', 'G2')),
  reportedClassification: nullable(
    fc.constantFrom('normal' as const, 'special_mention' as const, 'substandard' as const, 'loss' as const),
  ),
  onPreviousTape: fc.boolean(),
  previousDpd: fc.integer({ min: 0, max: 400 }),
});

type LoanRow = typeof loanArb extends fc.Arbitrary<infer T> ? T : never;

const dayString = (offset: number): string =>
  new Date(Date.UTC(2026, 10, 25) + offset * 86_400_000).toISOString().slice(0, 10);

function toLoans(rows: LoanRow[]): { today: Loan[]; previous: Loan[] } {
  const today: Loan[] = [];
  const previous: Loan[] = [];
  rows.forEach((r, i) => {
    const loan = makeLoan({
      loanId: `L${i}`,
      borrowerId: `B${r.borrower}`,
      borrowerType: r.borrowerType,
      product: r.product,
      principal: Math.max(r.outstandingFen * 10 + r.mills, 1000) / 1000,
      outstandingPrincipal: (r.outstandingFen * 10 + r.mills) / 1000,
      annualRate: r.rateBp / 10_000,
      daysPastDue: r.dpd,
      originationDate: dayString(-r.originationDay),
      maturityDate: dayString(r.maturityDay),
      region: r.region,
      industry: r.industry,
      borrowerAge: r.borrowerAge,
      annualIncome: r.annualIncome,
      monthlyDebtPayments: r.monthlyDebtPayments,
      otherLendersCount: r.otherLendersCount,
      creditScore: r.creditScore,
      isStudent: r.isStudent,
      ownFundingShare: r.ownFundingSharePct / 100,
      loanPurpose: r.loanPurpose,
      partnerId: r.partnerId,
      relatedPartyGroup: r.relatedPartyGroup,
      reportedClassification: r.reportedClassification,
    });
    today.push(loan);
    if (r.onPreviousTape) previous.push({ ...loan, snapshotDate: '2026-11-24', daysPastDue: r.previousDpd });
  });
  // A loan that closed today: on the previous tape only.
  previous.push(makeLoan({ snapshotDate: '2026-11-24', loanId: 'CLOSED', daysPastDue: 40 }));
  return { today, previous };
}

/** Merges partials in the order and tree shape given by `order` (indices into a shrinking list). */
function mergeInOrder(partials: PartialAudit[], order: number[]): PartialAudit {
  const pool = [...partials];
  let k = 0;
  while (pool.length > 1) {
    const i = (order[k++ % order.length] ?? 0) % pool.length;
    const a = pool.splice(i, 1)[0]!;
    const j = (order[k++ % order.length] ?? 0) % pool.length;
    const b = pool.splice(j, 1)[0]!;
    // Through JSON, as between Lambdas.
    pool.push(JSON.parse(JSON.stringify(mergePartials(a, b))) as PartialAudit);
  }
  return pool[0]!;
}

/** A permutation of 0..n-1 drawn from `order` (the order shards finish in). */
function finishOrder(n: number, order: readonly number[]): number[] {
  const left = Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; left.length > 0; k++) out.push(left.splice(order[k % order.length]! % left.length, 1)[0]!);
  return out;
}

describe.each(POLICIES)('Function: mergePartials (property), %s', (_name, policy) => {
  const ctx = {
    snapshotDate: '2026-11-25',
    previousSnapshotDate: '2026-11-24',
    policy,
    borrowerRefKey: 'prop-key',
  };

  it('gives the one-pass audit, bit for bit, for any split into shards and any merge order', () => {
    fc.assert(
      fc.property(
        fc.array(loanArb, { minLength: 0, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (rows, cuts, order, withPrevious) => {
          const { today, previous } = toLoans(rows);
          const prev = withPrevious ? buildPreviousTape(previous) : null;
          const intake = intakeOf(today);

          const one = createAccumulator(policy, prev);
          for (const l of today) one.add(l);
          const expected = finalizeAudit(one.toPartial(), intake, ctx);

          const bounds = [
            0,
            ...cuts.map((c) => Math.min(c, today.length)).sort((a, b) => a - b),
            today.length,
          ];
          const partials: PartialAudit[] = [];
          for (let s = 0; s + 1 < bounds.length; s++) {
            const acc = createAccumulator(policy, prev);
            for (const l of today.slice(bounds[s], bounds[s + 1])) acc.add(l);
            partials.push(acc.toPartial());
          }
          const actual = finalizeAudit(mergeInOrder(partials, order), intake, ctx);

          expect(actual).toEqual(expected);
          expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
          const all = partials.length === 0 ? one.toPartial() : mergePartialList(partials);
          expect(JSON.stringify(finalizeAudit(all, intake, ctx))).toBe(JSON.stringify(expected));
          // As on AWS: partials travel as JSON (each shard's table decoded from its base64 form),
          // and the merged partial packs its table only when it is written out.
          const json = (p: PartialAudit): PartialAudit => JSON.parse(JSON.stringify(p)) as PartialAudit;
          const viaJson =
            partials.length === 0 ? json(one.toPartial()) : mergePartialList(partials.map(json));
          expect(JSON.stringify(finalizeAudit(viaJson, intake, ctx))).toBe(JSON.stringify(expected));
          expect(JSON.stringify(finalizeAudit(json(all), intake, ctx))).toBe(JSON.stringify(expected));
          // As between worker threads: each table moved as its storage, then merged as the shards
          // finish (any order), the first table adopted as the merged one.
          const posted = (p: PartialAudit): PartialAudit => {
            const { partial, table } = structuredClone(splitBorrowerTable(p));
            expect(partial.borrowers.count).toBe(0);
            return withBorrowerTable(partial, table);
          };
          if (partials.length > 0) {
            const merger = new PartialMerger(1, true);
            for (const i of finishOrder(partials.length, order)) merger.add(posted(partials[i]!));
            const viaThreads = merger.result();
            expect(JSON.stringify(finalizeAudit(viaThreads, intake, ctx))).toBe(JSON.stringify(expected));
          }
          // A posted partial still writes out as JSON (its slots encoded on demand).
          if (partials.length > 0) {
            expect(JSON.stringify(finalizeAudit(json(posted(partials[0]!)), intakeOf([]), ctx))).toBe(
              JSON.stringify(finalizeAudit(json(partials[0]!), intakeOf([]), ctx)),
            );
          }
        },
      ),
      { numRuns: 100, seed: 20261125 },
    );
  });

  it('counts the loans in breach as the loan-id buckets see them: each loan with its aggregate codes', () => {
    const breachCodes = new Set(
      policy
        .resolution!.rules.filter((r) => r.status === 'in_force' && r.severity === 'breach')
        .map((r) => r.rule.code),
    );
    const assess = createLoanAssessor(policy);
    fc.assert(
      fc.property(fc.array(loanArb, { maxLength: 60 }), (rows) => {
        const { today } = toLoans(rows);
        const acc = createAccumulator(policy, null);
        for (const l of today) acc.add(l);
        const partial = acc.toPartial();
        const hits = aggregateRuleHits(partial, policy);
        const attach = aggregateCodes({
          borrowerHits: [...hits.borrowers],
          partnerHits: [...hits.partners],
          coLentHits: hits.coLent,
        });
        const inBreach = today.filter((l) => {
          const codes = [
            ...assess(l).ruleCodes,
            ...(attach({
              borrowerKey: borrowerKey(l.borrowerId),
              loanPurpose: purposeOf(l),
              partnerId: l.partnerId,
              coLent: isCoLent(l),
            }) ?? []),
          ];
          return codes.some((c) => breachCodes.has(c));
        }).length;
        expect(finalizeAudit(partial, intakeOf(today), ctx).compliance.loansInBreach).toBe(inBreach);
      }),
      { numRuns: 150, seed: 14 },
    );
  }, 60_000);

  it('is commutative and associative on the partials themselves, up to representation', () => {
    fc.assert(
      fc.property(fc.array(loanArb, { maxLength: 30 }), fc.nat(30), fc.nat(30), (rows, c1, c2) => {
        const { today } = toLoans(rows);
        const [x, y] = [Math.min(c1, c2, today.length), Math.min(Math.max(c1, c2), today.length)];
        const part = (loans: Loan[]) => {
          const acc = createAccumulator(policy, null);
          for (const l of loans) acc.add(l);
          return acc.toPartial();
        };
        const a = part(today.slice(0, x));
        const b = part(today.slice(x, y));
        const c = part(today.slice(y));
        // Exact sums may hold different (equivalent) partials lists; compare their values.
        const strip = (p: PartialAudit) => ({
          ...p,
          rateFen: exactSumValue(p.rateFen),
          expectedLoss: exactSumValue(p.expectedLoss),
          partnerFen: exactSumValue(p.partnerFen),
          borrowers: p.borrowers.count,
          groups: pairEntries(p.groups),
          partnerBorrowers: pairEntries(p.partnerBorrowers),
        });
        const intake = intakeOf(today);
        const left = mergePartials(mergePartials(a, b), c);
        const right = mergePartials(a, mergePartials(c, b));

        expect(strip(left)).toEqual(strip(right));
        expect(finalizeAudit(left, intake, ctx)).toEqual(finalizeAudit(right, intake, ctx));
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

/** A pair table's entries in a fixed order (its slots follow the order the pairs were added in). */
function pairEntries(s: SerializedPairs): string[] {
  const t = deserializePairs(s, 'pairs');
  const out: string[] = [];
  for (let i = 0; i < t.capacity; i++)
    if (t.used(i))
      out.push(
        [t.firstHi(i), t.firstLo(i), t.secondHi(i), t.secondLo(i), t.count0(i), t.count1(i)].join(':'),
      );
  return out.sort();
}

describe('Function: createAccumulator', () => {
  it('keeps exact exposures while its borrower table grows past its first size', () => {
    const loans = Array.from({ length: 5000 }, (_, i) =>
      makeLoan({ loanId: `L${i}`, borrowerId: `B${i % 2500}`, outstandingPrincipal: 0.01 * (i + 1) }),
    );
    const acc = createAccumulator(policy, null);
    for (const l of loans) acc.add(l);
    const result = finalizeAudit(acc.toPartial(), intakeOf(loans), ctx);

    // Fen 1..5000 sum to 12,502,500 fen; the largest borrower, B2499, holds 2500 + 5000 fen.
    expect(acc.borrowerCount).toBe(2500);
    expect(result.portfolio.totalOutstanding).toBe(125_025);
    expect(result.concentration.topBorrowers[0]).toMatchObject({ exposure: 75, loanCount: 2 });
    expect(result.concentration.topBorrowers[1]).toMatchObject({ exposure: 74.98, loanCount: 2 });
  });
});
