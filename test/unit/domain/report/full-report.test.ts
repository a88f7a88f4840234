import { describe, expect, it } from 'vitest';
import { TAPE_COLUMNS } from '../../../../shared/domain/loan.ts';
import { buildFullReportModel } from '../../../../shared/domain/report/full-report.ts';
import type { BreachRow, QuarantineSample, ReportSection } from '../../../../shared/domain/report/types.ts';
import { fixtureReportInput } from '../../../fixtures/report/load.ts';

function sectionOf(sections: readonly ReportSection[], id: string): ReportSection {
  const s = sections.find((x) => x.id === id);
  if (!s) throw new Error(`no section ${id}`);
  return s;
}

const BREACHES: BreachRow[] = [
  {
    ruleCode: 'CONSUMER_BALANCE_CAP',
    loanRef: 'L0…0912',
    borrowerRef: 'b_aa',
    grade: 'D',
    outstanding: 410_000,
  },
  {
    ruleCode: 'CONSUMER_BALANCE_CAP',
    loanRef: 'L0…1210',
    borrowerRef: 'b_aa',
    grade: 'C',
    outstanding: 95_000,
  },
  {
    ruleCode: 'STUDENT_CONSUMER_LOAN',
    loanRef: 'L0…0077',
    borrowerRef: 'b_bb',
    grade: 'B',
    outstanding: 12_000,
  },
];

const QUARANTINE: QuarantineSample = {
  rows: [
    {
      line: 71,
      part: 'loans.csv',
      codes: ['MISSING_REQUIRED'],
      detail: 'borrower_id: missing',
      raw: '2026-11-25,L0…0070,,enterprise',
    },
    {
      line: 161,
      part: 'loans.csv',
      codes: ['NEGATIVE', 'OUT_OF_RANGE'],
      detail: 'principal: negative; own_funding_share: above 1',
      raw: null,
    },
  ],
  total: 412,
  limit: 2,
  byColumn: {
    borrower_id: { rows: 1, codes: { MISSING_REQUIRED: 1 } },
    principal: { rows: 1, codes: { NEGATIVE: 1, OUT_OF_RANGE: 1 } },
    own_funding_share: { rows: 1, codes: { NEGATIVE: 1, OUT_OF_RANGE: 1 } },
  },
  fileName: 'quarantine.csv',
  location: 'runs/2026-11-25/quarantine.csv in the audit bucket',
};

describe('Function: buildFullReportModel', () => {
  it('opens with the summary the email has and holds every section', () => {
    const model = buildFullReportModel(fixtureReportInput());
    expect(model.verdict).toBe('RED');
    expect(model.summary).toBe(
      'Overall RED · NPL 1.82% (+0.05 pp) · 3 rules breached (1,318 loans) · 3 critical or high findings.',
    );
    expect(model.sections.map((s) => s.id)).toEqual([
      'findings',
      'trend',
      'credit',
      'compliance',
      'breaches',
      'concentration',
      'vulnerability',
      'watchlist',
      'data-quality',
      'quarantine',
      'liquidity',
    ]);
    // Every table is named, for the page's sort and filter hooks, and the names are distinct.
    const names = model.sections.flatMap((s) => s.tables.map((t) => t.name));
    expect(new Set(names).size).toBe(names.length);
  });

  it('lists every finding with its source, not only the five of the email', () => {
    const table = sectionOf(buildFullReportModel(fixtureReportInput()).sections, 'findings').tables[0]!;
    expect(table.rows).toHaveLength(9);
    expect(table.rows[8]?.slice(0, 3)).toEqual(['info', 'technical', 'QUARANTINE_RATE']);
  });

  it('lists the whole watchlist with sort keys for its figures', () => {
    const input = fixtureReportInput();
    const table = sectionOf(buildFullReportModel(input).sections, 'watchlist').tables[0]!;
    expect(table.name).toBe('watchlist');
    expect(table.rows).toHaveLength(input.watchlist!.length);
    expect(table.rows[0]?.slice(0, 8)).toEqual([
      '1',
      'L-****-83A1',
      'E',
      '512',
      '31.2%',
      '61-90',
      'Special mention',
      '¥286.0k',
    ]);
    // Outstanding sorts by its amount, not by the text '¥286.0k'
    expect(table.values?.[0]?.[7]).toBe(286_000);
    // A loan without a credit score has no sort key there (it sorts last either way)
    expect(table.values?.[7]?.[3]).toBeNull();
  });

  it('lists the loans behind each breached rule and says how many of how many', () => {
    const model = buildFullReportModel(fixtureReportInput({ breaches: BREACHES, breachesPerRule: 1_000 }));
    const section = sectionOf(model.sections, 'breaches');
    expect(section.tables[0]?.rows).toEqual([
      ['CONSUMER_BALANCE_CAP', 'L0…0912', 'b_aa', 'D', '¥410.0k'],
      ['CONSUMER_BALANCE_CAP', 'L0…1210', 'b_aa', 'C', '¥95.0k'],
      ['STUDENT_CONSUMER_LOAN', 'L0…0077', 'b_bb', 'B', '¥12.0k'],
    ]);
    expect(section.lines).toEqual([
      'COST_ABOVE_36: 1,240 loans, not listed (the breach index had none of them).',
      'CONSUMER_BALANCE_CAP: the 2 largest of 37 loans below (at most 1,000 a rule).',
      'STUDENT_CONSUMER_LOAN: the 1 largest of 54 loans below (at most 1,000 a rule).',
    ]);
  });

  it('shows every rule of the pack with its status, result, counts and source, breached first', () => {
    const section = sectionOf(buildFullReportModel(fixtureReportInput()).sections, 'compliance');
    const table = section.tables[0]!;
    // In force for the fixture's online micro-loan company: 14 of the pack's 21 rules. Breached
    // first (by outstanding), then on watch, then clear (by code).
    expect(table.rows.map((r) => [r[0], r[2]])).toEqual([
      ['CONSUMER_BALANCE_CAP', 'breached'],
      ['COST_ABOVE_36', 'breached'],
      ['STUDENT_CONSUMER_LOAN', 'breached'],
      ['COST_ABOVE_24_LEGACY', 'on watch'],
      ['AGE_UNKNOWN', 'clear'],
      ['BORROWER_NET_ASSETS_10', 'clear'],
      ['BUSINESS_BALANCE_CAP', 'clear'],
      ['CLASSIFICATION_BELOW_FLOOR', 'clear'],
      ['COST_ABOVE_24_NEW', 'clear'],
      ['COST_ABOVE_4LPR', 'clear'],
      ['CO_LENDING_OWN_SHARE_MIN', 'clear'],
      ['GROUP_NET_ASSETS_15', 'clear'],
      ['INCOME_THIRD_AFFORDABILITY', 'clear'],
      ['MINOR_BORROWER', 'clear'],
    ]);
    // The rule's own source from audit.json: title, number, binding kind; and its effective date.
    expect(table.rows[0]?.slice(3, 8)).toEqual([
      '37',
      '12',
      '¥21.60m',
      'Interim Measures for the Supervision and Administration of Micro-Loan Companies, Jin Gui [2024] No. 26 (normative document)',
      '2026-01-01',
    ]);
    expect(section.lines.slice(-2)).toEqual([
      '1,318 loans are in breach of 3 rules; 1 rule on watch.',
      '14 rules checked, 0 rules not yet in force, 7 rules not applicable to this lender.',
    ]);
    // Not applicable, each with its reason.
    expect(section.tables[1]?.rows.find((r) => r[0] === 'CO_LENDING_TOTAL_CAP')?.slice(1, 3)).toEqual([
      'not applicable',
      "binds banks only, and the pack's lender is an online micro-loan company",
    ]);
  });

  it("groups the rules by the entries' own status, with their reason and source", () => {
    const input = fixtureReportInput({ sources: {} });
    const audit = structuredClone(input.audit);
    Object.assign(audit.compliance.rules.MINOR_BORROWER!, {
      status: 'not_applicable',
      reason: 'The pack applies this rule to banks only.',
      source: { title: 'Measures X', number: 'No. 9', binding: 'regulation' },
    });
    // An entry of an earlier release, without a source of its own.
    delete (audit.compliance.rules.BUSINESS_BALANCE_CAP as { source?: unknown }).source;
    const tables = sectionOf(buildFullReportModel({ ...input, audit }).sections, 'compliance').tables;
    expect(tables.map((t) => t.caption)).toEqual([
      'In force: checked on this tape',
      'Not applicable to this lender',
    ]);
    expect(tables[0]!.rows.find((r) => r[0] === 'MINOR_BORROWER')).toBeUndefined();
    expect(tables[1]!.rows.find((r) => r[0] === 'MINOR_BORROWER')).toEqual([
      'MINOR_BORROWER',
      'not applicable',
      'The pack applies this rule to banks only.',
      'Measures X, No. 9 (regulation)',
      '2021-01-01',
    ]);
    // Without a source of its own or a finding, a rule says so rather than naming a wrong one.
    const clear = tables[0]!.rows.find((r) => r[0] === 'BUSINESS_BALANCE_CAP');
    expect(clear?.[6]).toBe('in the rule pack (not named in this audit)');
  });

  it('lists every industry, region and product, not only the top five', () => {
    const section = sectionOf(buildFullReportModel(fixtureReportInput()).sections, 'concentration');
    const industries = section.tables.find((t) => t.name === 'industries')!;
    expect(industries.rows).toHaveLength(11);
    expect(industries.rows[0]).toEqual(['E-commerce retail', '312,000', '¥5.82bn', '31.2%']);
    expect(section.tables.map((t) => t.name)).toEqual(['borrowers', 'industries', 'regions', 'products']);
  });

  it('profiles each column of the tape: kind, empty share, rows quarantined naming it and why', () => {
    const model = buildFullReportModel(fixtureReportInput({ quarantine: QUARANTINE }));
    const table = sectionOf(model.sections, 'data-quality').tables.find((t) => t.name === 'columns')!;
    expect(table.rows.map((r) => r[0])).toEqual([...TAPE_COLUMNS]);
    const row = (c: string) => table.rows.find((r) => r[0] === c);
    expect(row('borrower_id')).toEqual(['borrower_id', 'required', '0.0%', '1', 'MISSING_REQUIRED 1']);
    expect(row('merchant_id')).toEqual(['merchant_id', 'optional', '54.0%', '0', '—']);
    expect(row('own_funding_share')?.slice(3)).toEqual(['1', 'NEGATIVE 1, OUT_OF_RANGE 1']);
  });

  it('shows the first quarantined rows, their raw text masked or withheld, and where the rest is', () => {
    const section = sectionOf(
      buildFullReportModel(fixtureReportInput({ quarantine: QUARANTINE })).sections,
      'quarantine',
    );
    expect(section.tables[0]?.rows).toEqual([
      ['71', 'loans.csv', 'MISSING_REQUIRED', 'borrower_id: missing', '2026-11-25,L0…0070,,enterprise'],
      [
        '161',
        'loans.csv',
        'NEGATIVE, OUT_OF_RANGE',
        'principal: negative; own_funding_share: above 1',
        '(withheld)',
      ],
    ]);
    expect(section.lines[0]).toBe('The first 2 of 412 quarantined rows (at most 2 are shown here).');
    expect(section.lines[1]).toContain(
      'the raw text of 1 row is withheld because its ids could not be located',
    );
    expect(section.lines[1]).toContain(
      'The complete list with the raw rows is quarantine.csv (runs/2026-11-25/quarantine.csv in the audit bucket).',
    );
  });

  it('keeps the roll-rate summary: cured, same, worse and closed', () => {
    const credit = sectionOf(buildFullReportModel(fixtureReportInput()).sections, 'credit');
    const roll = credit.tables.find((t) => t.name === 'roll-rates');
    // From 31-60: cured 0.118 + 0.052, same 0.301, worse 0.514, closed 0.015
    expect(roll?.rows[2]).toEqual(['31–60 days', '17.0%', '30.1%', '51.4%', '1.5%']);
    expect(credit.charts.map((c) => c.id)).toEqual(['dpd', 'roll-rates']);
  });

  it('explains the missing roll rates on a first run', () => {
    const input = fixtureReportInput();
    const audit = structuredClone(input.audit);
    audit.drift = { psi: null, rollRates: null, newLoans: null };
    const credit = sectionOf(buildFullReportModel({ ...input, audit }).sections, 'credit');
    expect(credit.lines).toContain('Roll rates need the previous tape: none was available for this run.');
    expect(credit.charts.map((c) => c.id)).toEqual(['dpd']);
  });
});
