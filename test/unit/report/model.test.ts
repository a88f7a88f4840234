import { describe, expect, it } from 'vitest';
import {
  buildReportModel,
  buildSubject,
  countBreaches,
  selectTrend,
  sortFindings,
} from '../../../shared/domain/report/model.ts';
import { renderReportText, renderTextTable } from '../../../shared/domain/report/text.ts';
import type { RunTrendPoint } from '../../../shared/domain/report/types.ts';
import { fixtureReportInput, loadReportFixtures } from '../../fixtures/report/load.ts';

describe('Function: buildSubject', () => {
  it('carries the verdict, the date, NPL with its change and the breach count', () => {
    // Prepare: NPL 339.25m / 18,640m = 1.82%; previous 1.77%; APR_ABOVE_36, INDIVIDUAL_BALANCE_CAP, STUDENT_BORROWER
    const { audit, previous } = loadReportFixtures();

    // Act
    const subject = buildSubject(audit, previous);

    // Assess
    expect(subject).toBe('[RED] Risk audit 2026-11-25 · NPL 1.82% (+0.05 pp) · 3 breaches');
  });

  it('leaves the change out on a first run', () => {
    const { audit } = loadReportFixtures();
    expect(buildSubject(audit, null)).toBe('[RED] Risk audit 2026-11-25 · NPL 1.82% · 3 breaches');
  });

  it('says "1 breach" and GREEN/AMBER from the overall rating', () => {
    const { audit } = loadReportFixtures();
    const one = structuredClone(audit);
    one.ratings.overall = 'amber';
    for (const code of ['INDIVIDUAL_BALANCE_CAP', 'STUDENT_BORROWER']) {
      const rule = one.compliance.rules[code];
      if (rule) rule.loans = 0;
    }
    expect(buildSubject(one, null)).toBe('[AMBER] Risk audit 2026-11-25 · NPL 1.82% · 1 breach');
    one.ratings.overall = 'green';
    expect(buildSubject(one, null).startsWith('[GREEN] ')).toBe(true);
  });

  it('marks a failed run and a book without outstanding', () => {
    const { audit } = loadReportFixtures();
    expect(buildSubject({ ...audit, status: 'failed' }, null)).toBe(
      '[FAILED] Risk audit 2026-11-25 · run failed',
    );
    const empty = structuredClone(audit);
    empty.portfolio.nplRatio = null;
    expect(buildSubject(empty, audit)).toBe('[RED] Risk audit 2026-11-25 · NPL n/a · 3 breaches');
  });
});

describe('Function: countBreaches', () => {
  it('counts breach rules that concern at least one loan, not watch rules', () => {
    const { audit, previous } = loadReportFixtures();
    expect(countBreaches(audit)).toBe(3);
    expect(countBreaches(previous)).toBe(2);
  });
});

describe('Function: sortFindings', () => {
  it('orders by severity and keeps the audit order within a severity', () => {
    const { audit } = loadReportFixtures();
    expect(sortFindings(audit.findings).map((f) => f.code)).toEqual([
      'APR_ABOVE_36',
      'INDIVIDUAL_BALANCE_CAP',
      'STUDENT_BORROWER',
      'NPL_RATIO',
      'INDUSTRY_HHI',
      'MULTI_LENDING_SHARE',
      'ROLL_31_60_TO_61_90',
      'APR_ABOVE_24',
      'QUARANTINE_RATE',
    ]);
  });
});

describe('Function: selectTrend', () => {
  it('adds today to the 29 stored runs, in date order', () => {
    const { audit, trend } = loadReportFixtures();
    const points = selectTrend(audit, [...trend].reverse());
    expect(points).toHaveLength(30);
    expect(points[0]?.snapshotDate).toBe('2026-10-27');
    expect(points[29]).toEqual({
      snapshotDate: '2026-11-25',
      status: 'partial',
      nplRatio: 339_250_000 / 18_640_000_000,
      totalOutstanding: 18_640_000_000,
      expectedLoss: 402_310_000,
      overall: 'red',
      breaches: 3,
    });
  });

  it('keeps the last 30 runs and drops runs after the snapshot date', () => {
    const { audit } = loadReportFixtures();
    // 31 October runs + today = 32 points: the first two fall off
    const many: RunTrendPoint[] = Array.from({ length: 31 }, (_, i) => ({
      snapshotDate: `2026-10-${String(i + 1).padStart(2, '0')}`,
      status: 'ok',
      nplRatio: 0.01,
      totalOutstanding: 1,
      expectedLoss: 1,
      overall: 'green',
      breaches: 0,
    }));
    const future: RunTrendPoint = { ...many[0]!, snapshotDate: '2026-12-01' };
    const points = selectTrend(audit, [...many, future]);
    expect(points).toHaveLength(30);
    expect(points.map((p) => p.snapshotDate)).not.toContain('2026-12-01');
    expect(points[0]?.snapshotDate).toBe('2026-10-03');
  });
});

describe('Function: buildReportModel', () => {
  it('computes the headline figures and their day-over-day changes', () => {
    const model = buildReportModel(fixtureReportInput());
    // 30+ DPD: 729.25m / 18,640m = 3.91% vs 720.25m / 18,590m = 3.87%; EL 402.31 / 395.8 - 1 = +1.6%;
    // outstanding 18,640 / 18,590 - 1 = +0.3%; loans 1,000,000 / 996,800 - 1 = +0.3%
    expect(model.headline).toEqual([
      { label: 'NPL ratio', value: '1.82%', change: '+0.05 pp', tone: 'bad' },
      { label: '30+ days past due', value: '3.91%', change: '+0.04 pp', tone: 'bad' },
      { label: 'Expected loss', value: '¥402.31m', change: '+1.6%', tone: 'bad' },
      { label: 'Outstanding', value: '¥18.64bn', change: '+0.3%', tone: 'neutral' },
      { label: 'Compliance breaches', value: '3', change: '+1', tone: 'bad' },
      { label: 'Loans', value: '1,000,000', change: '+0.3%', tone: 'neutral' },
    ]);
  });

  it('shows no change at all without a previous audit', () => {
    const model = buildReportModel(fixtureReportInput({ previous: null }));
    expect(model.headline.every((f) => f.change === null && f.tone === 'neutral')).toBe(true);
  });

  it('gives each category its rating and a one-line reason', () => {
    const model = buildReportModel(fixtureReportInput());
    const byCategory = Object.fromEntries(model.ratings.map((r) => [r.category, r]));
    expect(model.ratings.map((r) => r.category)).toEqual([
      'overall',
      'credit',
      'regulatory',
      'concentration',
      'vulnerability',
      'technical',
      'liquidity',
    ]);
    expect(byCategory.overall?.reason).toBe(
      'The worst category sets it (red: Regulatory; amber: Credit, Concentration, Vulnerability)',
    );
    expect(byCategory.regulatory).toEqual({
      category: 'regulatory',
      label: 'Regulatory',
      rating: 'red',
      reason: '1,240 loans are priced above 36% APR (+3 more)',
    });
    // No liquidity finding: (95m + 610m + 2,150m) / 18,640m = 15.32%
    expect(byCategory.liquidity?.reason).toBe('15.32% of outstanding overdue or maturing within 30 days');
  });

  it('names the rule and its source for every finding', () => {
    const model = buildReportModel(fixtureReportInput());
    const apr = model.findings[0];
    expect(apr).toEqual({
      severity: 'critical',
      category: 'regulatory',
      code: 'APR_ABOVE_36',
      message: '1,240 loans are priced above 36% APR',
      value: '1,240',
      threshold: '36.00%',
      source:
        "Supreme People's Court, Provisions on private lending cases (2020 amendment), effective 2020-08-20",
    });
    const npl = model.findings.find((f) => f.code === 'NPL_RATIO');
    expect(npl).toMatchObject({
      value: '1.82%',
      threshold: '1.50%',
      source: 'Risk appetite statement 2026, section 2.1',
    });
  });

  it('puts the most urgent finding first in what to do', () => {
    const model = buildReportModel(fixtureReportInput());
    expect(model.actions).toEqual([
      '1,240 loans are priced above 36% APR: stop new lending under the breached rule and remediate the loans concerned.',
      'NPL ratio 1.82% is above the 1.50% appetite: review collections on the loans 31+ days past due and the roll into 91+.',
      'Industry HHI 0.158 is above 0.150: check the limits of the largest exposures and segments.',
    ]);
  });

  it('says nothing needs action when there is no finding', () => {
    const input = fixtureReportInput();
    const audit = { ...input.audit, status: 'ok' as const, findings: [] };
    const model = buildReportModel({ ...input, audit });
    expect(model.actions).toEqual(['Nothing needs action today; the detail is below for the record.']);
  });

  it('summarises the roll-rate matrix as cured, same, worse and closed', () => {
    const model = buildReportModel(fixtureReportInput());
    const credit = model.sections.find((s) => s.id === 'credit');
    const roll = credit?.tables.find((t) => t.caption.startsWith('Roll rates'));
    // From 31-60: cured 0.118 + 0.052, same 0.301, worse 0.514, closed 0.015
    expect(roll?.rows[2]).toEqual(['31–60 days', '17.0%', '30.1%', '51.4%', '1.5%']);
    expect(credit?.charts.map((c) => c.id)).toEqual(['dpd', 'roll-rates']);
  });

  it('explains the missing roll rates on a first run', () => {
    const input = fixtureReportInput();
    const audit = structuredClone(input.audit);
    audit.drift = { psi: null, rollRates: null, newLoans: null };
    const model = buildReportModel({ ...input, audit });
    const credit = model.sections.find((s) => s.id === 'credit');
    expect(credit?.lines).toContain('Roll rates need the previous tape: none was available for this run.');
    expect(credit?.charts.map((c) => c.id)).toEqual(['dpd']);
  });

  it('lists the top five industries and sums the rest', () => {
    const model = buildReportModel(fixtureReportInput());
    const table = model.sections
      .find((s) => s.id === 'concentration')
      ?.tables.find((t) => t.caption === 'Top industries');
    expect(table?.rows[0]).toEqual(['E-commerce retail', '312,000', '¥5.82bn', '31.2%']);
    // 11 industries: 6 others hold 1 - (.312 + .141 + .118 + .097 + .071) = 26.1%
    expect(table?.rows[5]).toEqual(['6 others', '261,000', '¥4.87bn', '26.1%']);
  });

  it('gives every chart an alt text that states its figures', () => {
    const model = buildReportModel(fixtureReportInput());
    const charts = model.sections.flatMap((s) => s.charts);
    expect(charts.map((c) => c.id)).toEqual(['trend', 'dpd', 'roll-rates', 'industries', 'maturity']);
    expect(charts.find((c) => c.id === 'trend')?.alt).toBe(
      'Line chart of the NPL ratio over the last 30 runs, from 1.52% on 2026-10-27 to 1.82% on 2026-11-25; low 1.52%, high 1.82%.',
    );
  });
});

describe('Function: buildReportModel link note', () => {
  it('shows when the presigned link expires, in UTC', () => {
    const model = buildReportModel(fixtureReportInput({ reportUrlExpiresAt: '2026-12-03T06:00:00.000Z' }));
    expect(model.reportUrlNote).toBe(
      'The full report is archived in S3; the link works until 2026-12-03 06:00 UTC.',
    );
  });

  it('has no link and no note without a URL', () => {
    const model = buildReportModel(fixtureReportInput({ reportUrl: null }));
    expect(model.reportUrl).toBeNull();
    expect(model.reportUrlNote).toBeNull();
  });
});

describe('Function: renderReportText', () => {
  it('states the same facts as the HTML: verdict, actions, figures, findings, link', () => {
    const model = buildReportModel(fixtureReportInput());
    const text = renderReportText(model);
    expect(text.split('\n')[0]).toBe(model.subject);
    expect(text).toContain('VERDICT: RED (2026-11-25)');
    expect(text).toContain('- NPL ratio: 1.82% (+0.05 pp vs previous run)');
    expect(text).toContain('1. [CRITICAL] regulatory / APR_ABOVE_36: 1,240 loans are priced above 36% APR');
    expect(text).toContain(
      'Full report: https://risk-audit-bucket.s3.amazonaws.com/runs/2026-11-25/report.html',
    );
    for (const f of model.findings) expect(text).toContain(f.code);
    for (const s of model.sections) expect(text).toContain(s.title.toUpperCase());
  });
});

describe('Function: renderTextTable', () => {
  it('pads text left and figures right', () => {
    const lines = renderTextTable({
      caption: 'T',
      columns: [
        { label: 'Name', numeric: false },
        { label: 'N', numeric: true },
      ],
      rows: [
        ['a', '1'],
        ['bbbbb', '100'],
      ],
    });
    expect(lines).toEqual(['T:', 'Name     N', '-----  ---', 'a        1', 'bbbbb  100']);
  });
});
