import { describe, expect, it } from 'vitest';
import { buildReportModel, EMAIL_FINDINGS } from '../../../../shared/domain/report/model.ts';
import { buildSubject, sortFindings } from '../../../../shared/domain/report/summary.ts';
import { renderReportText, renderTextTable } from '../../../../shared/domain/report/text.ts';
import { fixtureReportInput, loadReportFixtures } from '../../../fixtures/report/load.ts';

describe('Function: buildSubject', () => {
  it('carries the verdict, the date, NPL with its change and the rules breached', () => {
    // Prepare: NPL 339.25m / 18,640m = 1.82%; previous 1.77%; COST_ABOVE_36, CONSUMER_BALANCE_CAP, STUDENT_CONSUMER_LOAN
    const { audit, previous } = loadReportFixtures();

    // Act
    const subject = buildSubject(audit, previous);

    // Assess
    expect(subject).toBe('[RED] Risk audit 2026-11-25 · NPL 1.82% (+0.05 pp) · 3 rules breached');
  });

  it('leaves the change out on a first run', () => {
    const { audit } = loadReportFixtures();
    expect(buildSubject(audit, null)).toBe('[RED] Risk audit 2026-11-25 · NPL 1.82% · 3 rules breached');
  });

  it('says "1 rule" and GREEN/AMBER from the overall rating', () => {
    const { audit } = loadReportFixtures();
    const one = structuredClone(audit);
    one.ratings.overall = 'amber';
    for (const code of ['CONSUMER_BALANCE_CAP', 'STUDENT_CONSUMER_LOAN']) {
      const rule = one.compliance.rules[code];
      if (rule) rule.loans = 0;
    }
    Object.assign(one.compliance, { loansInBreach: 1_240, rulesBreached: 1 });
    expect(buildSubject(one, null)).toBe('[AMBER] Risk audit 2026-11-25 · NPL 1.82% · 1 rule breached');
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
    expect(buildSubject(empty, audit)).toBe('[RED] Risk audit 2026-11-25 · NPL n/a · 3 rules breached');
  });
});

describe('Function: sortFindings', () => {
  it('orders by severity and keeps the audit order within a severity', () => {
    const { audit } = loadReportFixtures();
    expect(sortFindings(audit.findings).map((f) => f.code)).toEqual([
      'COST_ABOVE_36',
      'CONSUMER_BALANCE_CAP',
      'STUDENT_CONSUMER_LOAN',
      'NPL_RATIO',
      'INDUSTRY_HHI',
      'MULTI_LENDING_SHARE',
      'ROLL_31_60_TO_61_90',
      'COST_ABOVE_24_LEGACY',
      'QUARANTINE_RATE',
    ]);
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
      // Loans in breach as audit.json gives them (distinct: 13 of the 1,240 + 37 + 54 are in two breach rules)
      // against 1,240 + 37 = 1,277; rules breached 3 against 2
      { label: 'Loans in breach', value: '1,318', change: '+41', tone: 'bad' },
      { label: 'Rules breached', value: '3', change: '+1', tone: 'bad' },
      { label: 'Loans', value: '1,000,000', change: '+0.3%', tone: 'neutral' },
    ]);
  });

  it('sums the day up in one line: rating, NPL, rules and loans in breach, serious findings', () => {
    const model = buildReportModel(fixtureReportInput());
    // critical or high: COST_ABOVE_36, CONSUMER_BALANCE_CAP, STUDENT_CONSUMER_LOAN
    expect(model.summary).toBe(
      'Overall RED · NPL 1.82% (+0.05 pp) · 3 rules breached (1,318 loans) · 3 critical or high findings.',
    );
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
      code: 'COST_ABOVE_36',
      message: '1,240 loans are priced above 36% APR',
      value: '1,240',
      threshold: '36.00%',
      // The rule's own citation as audit.json carries it: title, number, binding kind, effective date.
      source:
        'Notice on Regulating and Rectifying "Cash Loan" Business, Zheng Zhi Ban Han [2017] No. 141 (normative document); in force from 2017-12-01',
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
    expect(model.actions).toEqual([
      'Nothing needs action today; the full report has the detail for the record.',
    ]);
  });

  it('keeps the five most severe findings and counts the rest', () => {
    const model = buildReportModel(fixtureReportInput());
    expect(EMAIL_FINDINGS).toBe(5);
    expect(model.findings.map((f) => f.code)).toEqual([
      'COST_ABOVE_36',
      'CONSUMER_BALANCE_CAP',
      'STUDENT_CONSUMER_LOAN',
      'NPL_RATIO',
      'INDUSTRY_HHI',
    ]);
    expect(model.findingsTotal).toBe(9);
  });

  it('charts the NPL trend with the failed night as a gap, and says so', () => {
    const model = buildReportModel(fixtureReportInput());
    const chart = model.trend.chart;
    if (chart?.kind !== 'trend') throw new Error('no trend chart');
    // 29 stored runs (2026-11-10 failed) and today: 30 days, 29 with an NPL ratio
    expect(chart.points).toHaveLength(30);
    expect(chart.points.filter((p) => p.value === null).map((p) => p.date)).toEqual(['2026-11-10']);
    expect(chart.points[29]).toEqual({
      date: '2026-11-25',
      value: 339_250_000 / 18_640_000_000,
      rating: 'red',
    });
    expect(model.trend.line).toBe(
      'NPL ratio over 29 runs: 1.52% on 2026-10-27, 1.82% on 2026-11-25 (low 1.52%, high 1.82%); one gap (a failed run or no run), shown as a break in the line.',
    );
    expect(chart.alt).toBe(`Line chart. ${model.trend.line}`);
  });

  it('has no trend chart before a second run', () => {
    const model = buildReportModel(fixtureReportInput({ trend: [] }));
    expect(model.trend).toEqual({ line: 'Not enough runs yet for a trend.', chart: null });
  });
});

describe('Function: buildReportModel link note', () => {
  it('shows when the presigned link expires, in UTC', () => {
    const model = buildReportModel(fixtureReportInput({ reportUrlExpiresAt: '2026-12-03T06:00:00.000Z' }));
    expect(model.reportUrlNote).toBe(
      'The full report (every section, the whole watchlist, the loans behind each breached rule, the quarantined rows, 30-run trends) is archived in S3; this link works until 2026-12-03 06:00 UTC.',
    );
  });

  it('has no link and no note without a URL', () => {
    const model = buildReportModel(fixtureReportInput({ reportUrl: null }));
    expect(model.reportUrl).toBeNull();
    expect(model.reportUrlNote).toBeNull();
  });
});

describe('Function: renderReportText', () => {
  it('states the same facts as the HTML: verdict, actions, figures, findings, trend, link', () => {
    const model = buildReportModel(fixtureReportInput());
    const text = renderReportText(model);
    expect(text.split('\n')[0]).toBe(model.subject);
    expect(text).toContain('VERDICT: RED (2026-11-25)');
    expect(text).toContain('- NPL ratio: 1.82% (+0.05 pp)');
    expect(text).toContain('- Loans in breach: 1,318 (+41)');
    expect(text).toContain('1. [CRITICAL] 1,240 loans are priced above 36% APR');
    expect(text).toContain('   regulatory / COST_ABOVE_36 · value 1,240 vs threshold 36.00%');
    expect(text).toContain('4 more findings are in the full report.');
    expect(text).toContain(model.trend.line);
    expect(text).toContain(
      'Full report: https://risk-audit-bucket.s3.amazonaws.com/runs/2026-11-25/report.html',
    );
    for (const f of model.findings) expect(text).toContain(f.code);
    expect(text).not.toContain('MULTI_LENDING_SHARE');
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
