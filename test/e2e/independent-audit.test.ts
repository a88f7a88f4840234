import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTape } from '../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../shared/cli/commands/score.ts';
import type { AuditResult } from '../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../shared/domain/generator/book.ts';
import type { Loan } from '../../shared/domain/loan.ts';
import { lenderProfile } from '../unit/domain/engine/helpers.ts';

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

// The law as audit-result.md states it, restated here from the contract (not read from the pack).
const COST_GUIDELINE = '2025-12-24';
const FACILITATION_FROM = '2025-10-01';
const LPR_1Y: [string, number][] = [
  ['2019-08-20', 0.0425],
  ['2019-09-20', 0.042],
  ['2019-11-20', 0.0415],
  ['2020-02-20', 0.0405],
  ['2020-04-20', 0.0385],
  ['2021-12-20', 0.038],
  ['2022-01-20', 0.037],
  ['2022-08-22', 0.0365],
  ['2023-06-20', 0.0355],
  ['2023-08-21', 0.0345],
  ['2024-07-22', 0.0335],
  ['2024-10-21', 0.031],
  ['2025-05-20', 0.03],
];
const CLASS_RANK = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'];

interface LenderCase {
  licence: 'online_micro_loan_company' | 'micro_loan_company' | 'consumer_finance_company' | 'bank';
  netAssets?: number;
  tier1Capital?: number;
  licensedRegions?: string[];
}

const LENDERS: [string, LenderCase][] = [
  ['an online micro-loan company', { licence: 'online_micro_loan_company', netAssets: 40_000_000 }],
  [
    'a micro-loan company',
    { licence: 'micro_loan_company', netAssets: 40_000_000, licensedRegions: ['Guangdong', 'Zhejiang'] },
  ],
  ['a consumer finance company', { licence: 'consumer_finance_company' }],
  ['a bank', { licence: 'bank', tier1Capital: 20_000_000 }],
];

type Expected = { status: string; severity: string; loans: number; borrowers: number; outstanding: number };

/** Every default rule computed row by row, with Maps and naive float sums. */
function independentCompliance(rows: Row[], lender: LenderCase) {
  const mlc = lender.licence === 'online_micro_loan_company' || lender.licence === 'micro_loan_company';
  const bank = lender.licence === 'bank';
  const out = (r: Row): number => Number(r.outstanding_principal);
  const rate = (r: Row): number => Number(r.annual_rate);
  const own = (r: Row): number => num(r.own_funding_share) ?? 1;
  const individual = (r: Row): boolean => r.borrower_type === 'individual';
  const purpose = (r: Row): string =>
    r.loan_purpose
      ? r.loan_purpose
      : r.product === 'consumer_credit'
        ? 'consumption'
        : r.product === 'order_financing'
          ? 'business'
          : individual(r)
            ? 'consumption'
            : 'business';
  const coLent = (r: Row): boolean => (r.partner_id ?? '') !== '' && own(r) < 1;
  const lprAt = (date: string): number | null => {
    let v: number | null = null;
    for (const [from, value] of LPR_1Y) if (from <= date) v = value;
    return v;
  };
  const sum = (list: Row[]): number => list.reduce((s, r) => s + out(r), 0);
  // Per-borrower and per-group exposures.
  const by = <K>(key: (r: Row) => K | null, filter: (r: Row) => boolean = () => true) => {
    const m = new Map<K, number>();
    for (const r of rows) {
      const k = key(r);
      if (k !== null && filter(r)) m.set(k, (m.get(k) ?? 0) + out(r));
    }
    return m;
  };
  const exposure = by((r) => r.borrower_id!);
  const consumption = by(
    (r) => r.borrower_id!,
    (r) => purpose(r) === 'consumption',
  );
  const business = by(
    (r) => r.borrower_id!,
    (r) => purpose(r) === 'business',
  );
  const income = new Map<string, number>();
  const isIndividual = new Set<string>();
  for (const r of rows) {
    const inc = num(r.annual_income);
    if (inc !== null) income.set(r.borrower_id!, Math.max(income.get(r.borrower_id!) ?? -1, inc));
    if (individual(r)) isIndividual.add(r.borrower_id!);
  }
  const members = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!r.related_party_group) continue;
    const set = members.get(r.related_party_group) ?? new Set<string>();
    set.add(r.borrower_id!);
    members.set(r.related_party_group, set);
  }
  const inHitGroup = new Set<string>();
  if (lender.netAssets !== undefined)
    for (const set of members.values()) {
      const e = [...set].reduce((s, b) => s + exposure.get(b)!, 0);
      if (e > 0.15 * lender.netAssets) for (const b of set) inHitGroup.add(b);
    }
  const partnerCoLent = by((r) => (coLent(r) ? r.partner_id! : null));
  const coLentTotal = [...partnerCoLent.values()].reduce((a, b) => a + b, 0);
  const total = sum(rows);
  const floorOf = (dpd: number): number => (dpd > 360 ? 4 : dpd > 270 ? 3 : dpd > 90 ? 2 : dpd > 0 ? 1 : -1);

  type Rule = { code: string; applies: boolean; severity: string; hit: (r: Row) => boolean };
  const rules: Rule[] = [
    { code: 'COST_ABOVE_36', applies: true, severity: 'breach', hit: (r) => rate(r) > 0.36 },
    {
      code: 'COST_ABOVE_24_NEW',
      applies: mlc,
      severity: 'breach',
      hit: (r) => r.origination_date! >= COST_GUIDELINE && rate(r) > 0.24,
    },
    {
      code: 'COST_ABOVE_24_LEGACY',
      applies: mlc,
      severity: 'watch',
      hit: (r) => r.origination_date! < COST_GUIDELINE && rate(r) > 0.24,
    },
    {
      code: 'COST_ABOVE_4LPR',
      applies: mlc,
      severity: 'watch',
      hit: (r) => {
        const lpr = lprAt(r.origination_date!);
        return (
          r.origination_date! >= COST_GUIDELINE &&
          lpr !== null &&
          Math.round(rate(r) * 1e6) > Math.round(lpr * 1e6) * 4
        );
      },
    },
    {
      code: 'COST_ABOVE_24_FACILITATED',
      applies: bank,
      severity: 'breach',
      hit: (r) => (r.partner_id ?? '') !== '' && r.origination_date! >= FACILITATION_FROM && rate(r) > 0.24,
    },
    {
      code: 'CONSUMER_BALANCE_CAP',
      applies: lender.licence === 'online_micro_loan_company',
      severity: 'breach',
      hit: (r) => purpose(r) === 'consumption' && consumption.get(r.borrower_id!)! > 200_000,
    },
    {
      code: 'BUSINESS_BALANCE_CAP',
      applies: lender.licence === 'online_micro_loan_company',
      severity: 'breach',
      hit: (r) => purpose(r) === 'business' && business.get(r.borrower_id!)! > 10_000_000,
    },
    {
      code: 'BORROWER_NET_ASSETS_10',
      applies: mlc && lender.netAssets !== undefined,
      severity: 'breach',
      hit: (r) => exposure.get(r.borrower_id!)! > 0.1 * lender.netAssets!,
    },
    {
      code: 'GROUP_NET_ASSETS_15',
      applies: mlc && lender.netAssets !== undefined,
      severity: 'breach',
      hit: (r) => inHitGroup.has(r.borrower_id!),
    },
    {
      code: 'BANK_CONSUMER_LINE_CAP',
      applies: bank,
      severity: 'breach',
      hit: (r) =>
        isIndividual.has(r.borrower_id!) &&
        purpose(r) === 'consumption' &&
        consumption.get(r.borrower_id!)! > 200_000,
    },
    {
      code: 'INCOME_THIRD_AFFORDABILITY',
      applies: true,
      severity: 'watch',
      hit: (r) =>
        isIndividual.has(r.borrower_id!) &&
        income.has(r.borrower_id!) &&
        exposure.get(r.borrower_id!)! > income.get(r.borrower_id!)! / 3,
    },
    {
      code: 'MINOR_BORROWER',
      applies: true,
      severity: 'breach',
      hit: (r) => (num(r.borrower_age) ?? 99) < 18,
    },
    {
      code: 'AGE_UNKNOWN',
      applies: true,
      severity: 'watch',
      hit: (r) => individual(r) && num(r.borrower_age) === null,
    },
    {
      code: 'STUDENT_CONSUMER_LOAN',
      applies: mlc,
      severity: 'breach',
      hit: (r) => r.is_student === 'true' && purpose(r) === 'consumption',
    },
    {
      code: 'STUDENT_LOAN_REVIEW',
      applies: bank || lender.licence === 'consumer_finance_company',
      severity: 'watch',
      hit: (r) => r.is_student === 'true' && purpose(r) === 'consumption',
    },
    { code: 'CO_LENDING_OWN_SHARE_MIN', applies: !bank, severity: 'breach', hit: (r) => own(r) < 0.3 },
    {
      code: 'CO_LENDING_OWN_SHARE_MAX',
      applies: bank,
      severity: 'breach',
      hit: (r) => coLent(r) && own(r) > 0.7,
    },
    {
      code: 'CO_LENDING_PARTNER_CAP',
      applies: bank && lender.tier1Capital !== undefined,
      severity: 'breach',
      hit: (r) => coLent(r) && partnerCoLent.get(r.partner_id!)! > 0.25 * lender.tier1Capital!,
    },
    {
      code: 'CO_LENDING_TOTAL_CAP',
      applies: bank,
      severity: 'breach',
      hit: (r) => coLent(r) && coLentTotal > 0.5 * total,
    },
    {
      code: 'CLASSIFICATION_BELOW_FLOOR',
      applies: true,
      severity: bank ? 'breach' : 'watch',
      hit: (r) =>
        (r.reported_classification ?? '') !== '' &&
        CLASS_RANK.indexOf(r.reported_classification!) < floorOf(Number(r.days_past_due)),
    },
    {
      code: 'OUT_OF_LICENSED_REGION',
      applies: lender.licence === 'micro_loan_company' && lender.licensedRegions !== undefined,
      severity: 'watch',
      hit: (r) => (r.region ?? '') !== '' && !lender.licensedRegions!.includes(r.region!),
    },
  ];
  const result: Record<string, Expected> = {};
  const breached = new Set<string>();
  let rulesBreached = 0;
  for (const rule of rules) {
    const hits = rule.applies ? rows.filter(rule.hit) : [];
    result[rule.code] = {
      status: rule.applies ? 'in_force' : 'not_applicable',
      severity: rule.severity,
      loans: hits.length,
      borrowers: new Set(hits.map((r) => r.borrower_id)).size,
      outstanding: sum(hits),
    };
    if (rule.severity === 'breach') {
      for (const r of hits) breached.add(r.loan_id!);
      if (hits.length > 0) rulesBreached++;
    }
  }
  return { rules: result, loansInBreach: breached.size, rulesBreached };
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

  it('agrees on the vulnerability flags', () => {
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

  it.each(LENDERS)(
    'agrees on every rule of the pack and the loans in breach for %s',
    async (_name, lender) => {
      const profile = join(dir, `${lender.licence}.yaml`);
      await writeFile(profile, lenderProfile(lender).text);
      const doc = await scoreLocal({
        snapshot: join(dir, 'day2.csv'),
        policy: profile,
        out: join(dir, lender.licence),
      });
      expect(doc.status).not.toBe('failed');
      const result = doc as AuditResult;
      const expected = independentCompliance(today, lender);
      const got = Object.fromEntries(
        Object.entries(result.compliance.rules).map(([code, r]) => [
          code,
          { status: r.status, severity: r.severity, loans: r.loans, borrowers: r.borrowers },
        ]),
      );
      expect(got).toEqual(
        Object.fromEntries(
          Object.entries(expected.rules).map(([code, r]) => [
            code,
            { status: r.status, severity: r.severity, loans: r.loans, borrowers: r.borrowers },
          ]),
        ),
      );
      for (const [code, r] of Object.entries(expected.rules))
        expect(result.compliance.rules[code]!.outstanding, code).toBeCloseTo(r.outstanding, 2);
      expect(result.compliance.loansInBreach).toBe(expected.loansInBreach);
      expect(result.compliance.rulesBreached).toBe(expected.rulesBreached);
      // The synthetic book exercises the rules of each licence: all but at most two in-force rules have loans.
      const inForce = Object.values(expected.rules).filter((r) => r.status === 'in_force');
      expect(inForce.filter((r) => r.loans === 0).map((r) => r.loans).length).toBeLessThanOrEqual(2);
    },
  );

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
