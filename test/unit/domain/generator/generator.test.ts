import { describe, expect, it } from 'vitest';
import { generateBook, newLoans, rollForward, rollLoan } from '../../../../shared/domain/generator/book.ts';
import { hashString, Rng } from '../../../../shared/domain/generator/prng.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import { TAPE_COLUMNS } from '../../../../shared/domain/loan.ts';
import { identityPlan } from '../../../../shared/domain/tape/column-plan.ts';
import { CsvScanner } from '../../../../shared/domain/tape/csv-scanner.ts';
import { RowValidator } from '../../../../shared/domain/tape/row-validator.ts';
import { loanToCsvLine } from '../../../../shared/domain/tape/tape-row.ts';
import { collectSink } from '../tape/helpers.ts';

/** Validates loans through the real CSV text path, as a tape would be read. */
function validate(loans: Iterable<Loan>, date: string) {
  const sink = collectSink();
  const v = new RowValidator(sink, { snapshotDate: date });
  v.setPart('gen.csv', identityPlan([...TAPE_COLUMNS]));
  let line = 1;
  const s = new CsvScanner((f, l, t, a, b, m) => v.acceptFields(f, l, t, a, b, TAPE_COLUMNS.length, m));
  for (const loan of loans) {
    line++;
    s.push(`${loanToCsvLine(loan)}\n`);
  }
  s.end();
  return { sink, stats: v.stats(), lines: line };
}

describe('Class: Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Rng('x');
    const b = new Rng('x');
    const c = new Rng('y');
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(hashString('abc')).toBe(hashString('abc'));
  });

  it('draws normals with mean ~0 and sd ~1', () => {
    const r = new Rng(5);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('Function: generateBook', () => {
  const book = [...generateBook({ loans: 20000, date: '2026-11-25', seed: 42 })];

  it('is deterministic for a seed', () => {
    expect([...generateBook({ loans: 20000, date: '2026-11-25', seed: 42 })]).toEqual(book);
    const other = [...generateBook({ loans: 20000, date: '2026-11-25', seed: 43 })];
    expect(other.filter((l, i) => l.principal === book[i]!.principal).length).toBeLessThan(100);
  });

  it('produces only valid rows unless asked for bad ones', () => {
    const { stats } = validate(book, '2026-11-25');
    expect(stats.rowsValid).toBe(20000);
    expect(new Set(book.map((l) => l.loanId)).size).toBe(20000);
  });

  it('looks like a digital lender: both borrower types, three products, mostly small lognormal amounts', () => {
    const share = (f: (l: Loan) => boolean) => book.filter(f).length / book.length;
    expect(share((l) => l.borrowerType === 'individual')).toBeGreaterThan(0.6);
    expect(share((l) => l.borrowerType === 'enterprise')).toBeGreaterThan(0.2);
    for (const p of ['order_financing', 'credit_loan', 'consumer_credit'])
      expect(share((l) => l.product === p)).toBeGreaterThan(0.1);
    expect(share((l) => l.principal < 1_000_000)).toBeGreaterThan(0.98);
    expect(new Set(book.map((l) => l.region)).size).toBeGreaterThan(20);
    expect(new Set(book.map((l) => l.borrowerId)).size).toBeLessThan(book.length);
  });

  it('has a delinquency tail, heavy borrowers, vulnerable borrowers and a handful of compliance breaches', () => {
    const count = (f: (l: Loan) => boolean) => book.filter(f).length;
    expect(count((l) => l.daysPastDue > 360)).toBeGreaterThan(20);
    expect(count((l) => l.daysPastDue > 0)).toBeGreaterThan(600);
    expect(count((l) => l.annualRate > 0.36)).toBeGreaterThan(10);
    expect(count((l) => l.annualRate > 0.36)).toBeLessThan(200);
    expect(count((l) => l.borrowerAge !== null && l.borrowerAge < 18)).toBeGreaterThan(0);
    expect(count((l) => l.isStudent === true)).toBeGreaterThan(50);
    expect(count((l) => l.ownFundingShare < 0.3)).toBeGreaterThan(0);
    expect(count((l) => (l.otherLendersCount ?? 0) >= 3)).toBeGreaterThan(500);
    expect(count((l) => l.creditScore === null)).toBeGreaterThan(200);
    const exposure = new Map<string, number>();
    for (const l of book)
      exposure.set(l.borrowerId, (exposure.get(l.borrowerId) ?? 0) + l.outstandingPrincipal);
    const total = [...exposure.values()].reduce((s, x) => s + x, 0);
    const top = Math.max(...exposure.values());
    expect(top / total).toBeGreaterThan(0.005);
  });

  it('carries the new columns in realistic shares: purposes, partners, groups and reported classes', () => {
    const share = (f: (l: Loan) => boolean) => book.filter(f).length / book.length;
    // The purpose is recorded on about seven loans in ten, agreeing with the product when it must.
    expect(share((l) => l.loanPurpose !== null)).toBeGreaterThan(0.65);
    expect(share((l) => l.loanPurpose !== null)).toBeLessThan(0.75);
    expect(
      book.every(
        (l) => l.loanPurpose === null || l.product !== 'consumer_credit' || l.loanPurpose === 'consumption',
      ),
    ).toBe(true);
    expect(share((l) => l.loanPurpose === 'business' && l.borrowerType === 'individual')).toBeGreaterThan(
      0.005,
    );
    // About a fifth co-lent with a bank partner, some facilitated by a platform, the rest neither.
    const coLent = share((l) => l.partnerId !== null && l.ownFundingShare < 1);
    expect(coLent).toBeGreaterThan(0.18);
    expect(coLent).toBeLessThan(0.26);
    expect(share((l) => l.partnerId?.startsWith('FP-') === true && l.ownFundingShare === 1)).toBeGreaterThan(
      0.05,
    );
    expect(book.every((l) => l.ownFundingShare === 1 || l.partnerId?.startsWith('PB-'))).toBe(true);
    expect(book.filter((l) => l.ownFundingShare > 0.7 && l.ownFundingShare < 1).length).toBeGreaterThan(50);
    // Related-party groups: the heavy borrowers and a few small businesses, each borrower in one.
    const groups = new Map<string, Set<string | null>>();
    for (const l of book)
      groups.set(l.borrowerId, (groups.get(l.borrowerId) ?? new Set()).add(l.relatedPartyGroup));
    expect([...groups.values()].every((g) => g.size === 1)).toBe(true);
    expect(book.filter((l) => l.relatedPartyGroup?.startsWith('RPG-H') === true).length).toBeGreaterThan(20);
    expect(new Set(book.map((l) => l.relatedPartyGroup).filter((g) => g !== null)).size).toBeGreaterThan(50);
    // The lender's own class on nine loans in ten, now and then one class milder than its floor.
    expect(share((l) => l.reportedClassification !== null)).toBeGreaterThan(0.85);
    const milder = book.filter((l) => l.daysPastDue > 0 && l.reportedClassification === 'normal');
    expect(milder.length).toBeGreaterThan(0);
    expect(milder.length).toBeLessThan(book.filter((l) => l.daysPastDue > 0).length * 0.1);
    // From the cost guideline on, most new loans are priced within 24% and many within 4 x LPR.
    const recent = book.filter((l) => l.originationDate >= '2025-12-24');
    expect(recent.filter((l) => l.annualRate > 0.24).length / recent.length).toBeLessThan(0.02);
    expect(recent.filter((l) => l.annualRate <= 0.12).length / recent.length).toBeGreaterThan(0.4);
  });

  it('mixes in bad rows that each hit a quarantine reason', () => {
    const bad = [...generateBook({ loans: 2000, date: '2026-11-25', seed: 9, badRows: 11 })];
    const { stats } = validate(bad, '2026-11-25');
    expect(stats.rowsQuarantined).toBe(11);
    expect(Object.keys(stats.quarantineByCode).sort()).toEqual([
      'DUPLICATE_LOAN_ID',
      'INVALID_DATE',
      'MATURITY_BEFORE_ORIGINATION',
      'MISSING_REQUIRED',
      'NEGATIVE',
      'NOT_FINITE',
      'ORIGINATION_AFTER_SNAPSHOT',
      'OUTSTANDING_EXCEEDS_PRINCIPAL',
      'OUT_OF_RANGE',
      'SNAPSHOT_DATE_MISMATCH',
      'VALUE_NOT_ALLOWED',
    ]);
  });
});

describe('Function: rollForward', () => {
  const day1 = [...generateBook({ loans: 20000, date: '2026-11-24', seed: 7 })];
  const day2 = [...rollForward(day1, { date: '2026-11-25', seed: 7 })];

  it('is deterministic and independent of the previous tape order', () => {
    const again = [...rollForward([...day1].reverse(), { date: '2026-11-25', seed: 7 })];
    const byId = (ls: Loan[]) => new Map(ls.map((l) => [l.loanId, l]));
    expect(byId(again)).toEqual(byId(day2));
  });

  it('keeps the tape valid and dated the new day', () => {
    const { stats } = validate(day2, '2026-11-25');
    expect(stats.rowsQuarantined).toBe(0);
  });

  it('closes some loans, adds new ones, repays, and moves loans into and out of delinquency', () => {
    const prev = new Map(day1.map((l) => [l.loanId, l]));
    const kept = day2.filter((l) => prev.has(l.loanId));
    const fresh = day2.filter((l) => !prev.has(l.loanId));
    expect(kept.length).toBeLessThan(day1.length);
    expect(fresh.length).toBeGreaterThan(50);
    expect(fresh.every((l) => l.originationDate === '2026-11-25' && l.daysPastDue === 0)).toBe(true);
    const rolledIn = kept.filter((l) => l.daysPastDue > 0 && prev.get(l.loanId)!.daysPastDue === 0);
    const cured = kept.filter((l) => l.daysPastDue === 0 && prev.get(l.loanId)!.daysPastDue > 0);
    const aged = kept.filter((l) => l.daysPastDue === prev.get(l.loanId)!.daysPastDue + 1);
    const repaid = kept.filter((l) => l.outstandingPrincipal < prev.get(l.loanId)!.outstandingPrincipal);
    expect(rolledIn.length).toBeGreaterThan(0);
    expect(cured.length).toBeGreaterThan(0);
    expect(aged.length).toBeGreaterThan(100);
    expect(repaid.length).toBeGreaterThan(1000);
  });

  it('closes a matured current loan almost always and never resurrects it', () => {
    const matured: Loan = { ...day1[0]!, maturityDate: '2026-11-01', daysPastDue: 0 };
    const closed = Array.from({ length: 200 }, (_, i) =>
      rollLoan({ ...matured, loanId: `X${i}` }, '2026-11-25', 1),
    ).filter((l) => l === null);
    expect(closed.length).toBeGreaterThan(180);
  });

  it('sizes new loans from the previous count', () => {
    expect([...newLoans(100000, '2026-11-24', { date: '2026-11-25', seed: 1 })]).toHaveLength(460);
  });
});
