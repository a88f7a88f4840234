import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';
import type { AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';

// A second, deliberately plain implementation of audit-result.md: it reads the CSV text itself,
// keeps everything in Maps and sums floats naively, so it shares no code with the engine.

type Row = Record<string, string>;

function readCsv(text: string): Row[] {
  const lines = text.trim().split('\n');
  const header = lines[0]!.split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row: Row = {};
    header.forEach((h, i) => {
      row[h] = cells[i] ?? '';
    });
    return row;
  });
}

const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));

function dpdBucket(d: number): string {
  if (d === 0) return '0';
  if (d <= 30) return '1-30';
  if (d <= 60) return '31-60';
  if (d <= 90) return '61-90';
  if (d <= 180) return '91-180';
  if (d <= 360) return '181-360';
  return '361+';
}

function classOf(product: string, d: number): string {
  if (d === 0) return 'normal';
  if (d <= 90) return 'special_mention';
  if (product === 'consumer_credit') return d <= 120 ? 'substandard' : d <= 180 ? 'doubtful' : 'loss';
  return d <= 270 ? 'substandard' : d <= 360 ? 'doubtful' : 'loss';
}

function scoreBand(s: number | null): string {
  if (s === null) return 'missing';
  if (s < 550) return '<550';
  if (s < 600) return '550-599';
  if (s < 650) return '600-649';
  if (s < 700) return '650-699';
  if (s < 750) return '700-749';
  return '750+';
}

function shares(rows: Row[], key: (r: Row) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  for (const [k, v] of m) m.set(k, v / rows.length);
  return m;
}

function psi(today: Map<string, number>, before: Map<string, number>): number {
  let total = 0;
  for (const k of new Set([...today.keys(), ...before.keys()])) {
    const a = Math.max(today.get(k) ?? 0, 0.0001);
    const e = Math.max(before.get(k) ?? 0, 0.0001);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

// `score` runs the whole workflow (report included): more than the unit default on a busy machine.
describe('End to end: the engine against an independent computation', { timeout: 60_000 }, () => {
  let dir: string;
  let audit: AuditResult;
  let today: Row[];
  let before: Row[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-e2e-'));
    const day1: Loan[] = [...generateBook({ loans: 4000, date: '2026-11-24', seed: 11 })];
    await writeTape(join(dir, 'day1.csv'), day1);
    await writeTape(
      join(dir, 'day2.csv'),
      rollForward(day1, { date: '2026-11-25', seed: 11, newLoanRate: 0.01 }),
    );
    const doc = await scoreLocal({
      snapshot: join(dir, 'day2.csv'),
      previous: join(dir, 'day1.csv'),
      out: join(dir, 'out'),
    });
    expect(doc.status).not.toBe('failed');
    audit = doc as AuditResult;
    today = readCsv(await readFile(join(dir, 'day2.csv'), 'utf8'));
    before = readCsv(await readFile(join(dir, 'day1.csv'), 'utf8'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('agrees on the portfolio figures', () => {
    const total = today.reduce((s, r) => s + Number(r.outstanding_principal), 0);
    expect(audit.portfolio.loanCount).toBe(today.length);
    expect(audit.portfolio.borrowerCount).toBe(new Set(today.map((r) => r.borrower_id)).size);
    expect(audit.portfolio.totalOutstanding).toBeCloseTo(total, 2);
    const war =
      today.reduce((s, r) => s + Number(r.annual_rate) * Number(r.outstanding_principal), 0) / total;
    expect(audit.portfolio.weightedAverageRate).toBeCloseTo(war, 10);
    for (const [bucket, v] of Object.entries(audit.portfolio.dpdBuckets)) {
      const rows = today.filter((r) => dpdBucket(Number(r.days_past_due)) === bucket);
      expect(v.count, bucket).toBe(rows.length);
      expect(v.outstanding, bucket).toBeCloseTo(
        rows.reduce((s, r) => s + Number(r.outstanding_principal), 0),
        2,
      );
    }
    for (const [cls, v] of Object.entries(audit.portfolio.classification)) {
      expect(v.count, cls).toBe(
        today.filter((r) => classOf(r.product!, Number(r.days_past_due)) === cls).length,
      );
    }
    const npl = today
      .filter((r) =>
        ['substandard', 'doubtful', 'loss'].includes(classOf(r.product!, Number(r.days_past_due))),
      )
      .reduce((s, r) => s + Number(r.outstanding_principal), 0);
    expect(audit.portfolio.nplRatio).toBeCloseTo(npl / total, 10);
    const stage3 = today.filter((r) => Number(r.days_past_due) > 90).length;
    expect(audit.portfolio.ifrs9Stages['3'].count).toBe(stage3);
  });

  it('agrees on borrower concentration', () => {
    const exposure = new Map<string, number>();
    for (const r of today)
      exposure.set(r.borrower_id!, (exposure.get(r.borrower_id!) ?? 0) + Number(r.outstanding_principal));
    const total = [...exposure.values()].reduce((a, b) => a + b, 0);
    const sorted = [...exposure.values()].sort((a, b) => b - a);
    const hhi = sorted.reduce((s, e) => s + (e / total) ** 2, 0);
    expect(audit.concentration.borrowerHhi).toBeCloseTo(hhi, 10);
    expect(audit.concentration.largestBorrowerShare).toBeCloseTo(sorted[0]! / total, 10);
    expect(audit.concentration.top10BorrowerShare).toBeCloseTo(
      sorted.slice(0, 10).reduce((a, b) => a + b, 0) / total,
      10,
    );
    expect(audit.concentration.topBorrowers).toHaveLength(10);
    for (const top of audit.concentration.topBorrowers) {
      expect(today.some((r) => r.borrower_id === top.borrowerRef)).toBe(false);
    }
  });

  it('agrees on the compliance rules and vulnerability flags', () => {
    const outstanding = (rows: Row[]): number =>
      rows.reduce((s, r) => s + Number(r.outstanding_principal), 0);
    const apr36 = today.filter((r) => Number(r.annual_rate) > 0.36);
    expect(audit.compliance.rules.APR_ABOVE_36!.loans).toBe(apr36.length);
    expect(audit.compliance.rules.APR_ABOVE_36!.outstanding).toBeCloseTo(outstanding(apr36), 2);
    const apr24 = today.filter((r) => Number(r.annual_rate) > 0.24 && Number(r.annual_rate) <= 0.36);
    expect(audit.compliance.rules.APR_ABOVE_24!.loans).toBe(apr24.length);
    const minors = today.filter((r) => num(r.borrower_age) !== null && num(r.borrower_age)! < 18);
    expect(audit.compliance.rules.MINOR_BORROWER!.loans).toBe(minors.length);
    expect(audit.compliance.rules.MINOR_BORROWER!.borrowers).toBe(
      new Set(minors.map((r) => r.borrower_id)).size,
    );
    const students = today.filter((r) => r.is_student === 'true' && r.borrower_type === 'individual');
    expect(audit.compliance.rules.STUDENT_BORROWER!.loans).toBe(students.length);
    const coLending = today.filter((r) => (num(r.own_funding_share) ?? 1) < 0.3);
    expect(audit.compliance.rules.CO_LENDING_OWN_SHARE!.loans).toBe(coLending.length);

    const exposure = new Map<string, number>();
    const income = new Map<string, number | null>();
    for (const r of today) {
      exposure.set(r.borrower_id!, (exposure.get(r.borrower_id!) ?? 0) + Number(r.outstanding_principal));
      income.set(r.borrower_id!, num(r.annual_income));
    }
    const overIndividual = (r: Row): boolean => {
      if (r.borrower_type !== 'individual') return false;
      const e = exposure.get(r.borrower_id!)!;
      const inc = income.get(r.borrower_id!);
      return e > 300_000 || (inc !== null && inc !== undefined && e > inc / 3);
    };
    const capRows = today.filter(overIndividual);
    expect(audit.compliance.rules.INDIVIDUAL_BALANCE_CAP!.loans).toBe(capRows.length);
    expect(audit.compliance.rules.INDIVIDUAL_BALANCE_CAP!.borrowers).toBe(
      new Set(capRows.map((r) => r.borrower_id)).size,
    );
    const entRows = today.filter(
      (r) => r.borrower_type === 'enterprise' && exposure.get(r.borrower_id!)! > 1_000_000,
    );
    expect(audit.compliance.rules.ENTERPRISE_BALANCE_CAP!.loans).toBe(entRows.length);

    const young = today.filter((r) => {
      const age = num(r.borrower_age);
      return age !== null && age >= 18 && age <= 22;
    });
    expect(audit.vulnerability.flags.YOUNG_BORROWER!.loans).toBe(young.length);
    const multi = today.filter((r) => (num(r.other_lenders_count) ?? -1) >= 3);
    expect(audit.vulnerability.flags.MULTI_LENDING!.loans).toBe(multi.length);
    const thin = today.filter((r) => num(r.credit_score) === null || num(r.credit_score)! < 550);
    expect(audit.vulnerability.flags.THIN_FILE!.loans).toBe(thin.length);
    const dti = today.filter((r) => {
      const debt = num(r.monthly_debt_payments);
      const inc = num(r.annual_income);
      return debt !== null && inc !== null && inc > 0 && debt / (inc / 12) > 0.5;
    });
    expect(audit.vulnerability.flags.HIGH_DTI!.loans).toBe(dti.length);
  });

  it('agrees on drift: PSI, roll rates and new loans', () => {
    const p = audit.drift.psi!;
    expect(p.product).toBeCloseTo(
      psi(
        shares(today, (r) => r.product!),
        shares(before, (r) => r.product!),
      ),
      10,
    );
    expect(p.dpdBucket).toBeCloseTo(
      psi(
        shares(today, (r) => dpdBucket(Number(r.days_past_due))),
        shares(before, (r) => dpdBucket(Number(r.days_past_due))),
      ),
      10,
    );
    expect(p.creditScore).toBeCloseTo(
      psi(
        shares(today, (r) => scoreBand(num(r.credit_score))),
        shares(before, (r) => scoreBand(num(r.credit_score))),
      ),
      10,
    );
    const now = new Map(today.map((r) => [r.loan_id!, dpdBucket(Number(r.days_past_due))]));
    const counts = new Map<string, Map<string, number>>();
    for (const r of before) {
      const from = dpdBucket(Number(r.days_past_due));
      const to = now.get(r.loan_id!) ?? 'closed';
      const row = counts.get(from) ?? new Map<string, number>();
      row.set(to, (row.get(to) ?? 0) + 1);
      counts.set(from, row);
    }
    const rates = audit.drift.rollRates!;
    expect(Object.keys(rates).sort()).toEqual([...counts.keys()].sort());
    for (const [from, row] of counts) {
      const n = [...row.values()].reduce((a, b) => a + b, 0);
      for (const [to, c] of row) expect(rates[from]![to], `${from}->${to}`).toBeCloseTo(c / n, 12);
      expect(Object.values(rates[from]!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    const previousIds = new Set(before.map((r) => r.loan_id));
    expect(audit.drift.newLoans).toBe(today.filter((r) => !previousIds.has(r.loan_id)).length);
    expect(audit.dataQuality.rowCountChange).toBeCloseTo(today.length / before.length - 1, 12);
  });
});
