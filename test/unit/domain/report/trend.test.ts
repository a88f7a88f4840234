import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../../../../shared/domain/audit-result.ts';
import {
  noTrendFigures,
  type RunTrendPoint,
  selectTrend,
  TREND_FIGURE_KEYS,
  trendDays,
  trendFiguresOf,
  trendPointOf,
} from '../../../../shared/domain/report/trend.ts';
import { trendSection } from '../../../../shared/domain/report/trend-section.ts';
import type { RunSummary } from '../../../../shared/ports/risk-store.ts';
import { finishedSummary } from '../../../../shared/use-cases/finalize-run.ts';
import { runningSummary } from '../../../../shared/use-cases/prepare-run.ts';
import { trendPointOfRun } from '../../../../shared/use-cases/send-report.ts';
import type { RunPlan } from '../../../../shared/use-cases/workflow-types.ts';
import { loadReportFixtures } from '../../../fixtures/report/load.ts';

function planOf(audit: AuditResult): RunPlan {
  return {
    runId: `${audit.snapshotDate}T0600Z-test`,
    snapshotDate: audit.snapshotDate,
    previousSnapshotDate: audit.previousSnapshotDate,
    currency: audit.portfolio.currency ?? 'CNY',
    trigger: 'schedule',
    startedAt: '2026-11-26T06:00:00.000Z',
    partsKey: 'runs/x/parts.json',
    partCount: 0,
    shardsKey: 'runs/x/shards.json',
    shardCount: 0,
    resultsPrefix: 'runs/x/map-results',
    scoreBuckets: 1,
    warnings: [],
  };
}

function point(date: string, status: RunTrendPoint['status'] = 'ok'): RunTrendPoint {
  return status === 'failed'
    ? { snapshotDate: date, status, overall: null, ...noTrendFigures() }
    : { snapshotDate: date, status, overall: 'green', ...noTrendFigures(), nplRatio: 0.01 };
}

describe('Function: trendFiguresOf', () => {
  it("takes loans in breach and rules breached as audit.json's compliance gives them, not from the rules", () => {
    // Prepare: the breach rules' loans add to 1,240 + 37 + 54 = 1,331; a loan in two rules counts once
    const { audit } = loadReportFixtures();
    const distinct = structuredClone(audit);
    Object.assign(distinct.compliance, { loansInBreach: 1_290, rulesBreached: 2 });

    // Act / Assess
    expect(trendFiguresOf(audit)).toMatchObject({ loansInBreach: 1_318, rulesBreached: 3 });
    expect(trendFiguresOf(distinct)).toMatchObject({ loansInBreach: 1_290, rulesBreached: 2 });
  });

  it("gives the trend's figures of an audit", () => {
    const { audit } = loadReportFixtures();
    expect(trendFiguresOf(audit)).toEqual({
      nplRatio: 339_250_000 / 18_640_000_000,
      // 31-60 .. 361+: 240 + 150 + 190 + 105 + 44.25 (millions)
      pastDue30Share: 729_250_000 / 18_640_000_000,
      expectedLoss: 402_310_000,
      totalOutstanding: 18_640_000_000,
      loansInBreach: 1_318,
      rulesBreached: 3,
      // PSI credit score 0.0213, product 0.0041, DPD bucket 0.0087
      largestPsi: 0.0213,
      quarantineRate: 412 / 1_000_412,
    });
  });
});

describe('Trend columns: a stored run and the current audit', () => {
  it('read the same from the run record as from the audit, column for column', () => {
    // Prepare: the run record finalize writes for each audit
    const { audit, previous } = loadReportFixtures();
    for (const a of [audit, previous]) {
      const record: RunSummary = finishedSummary(planOf(a), a, new Date('2026-11-26T06:10:00Z'), false);

      // Act
      const stored = trendPointOfRun(record);

      // Assess
      expect(stored).toEqual(trendPointOf(a));
      for (const key of TREND_FIGURE_KEYS) expect(record[key], key).toBe(trendFiguresOf(a)[key]);
    }
  });

  it('show a failed run as a point without figures and leave a running one out', () => {
    const running = runningSummary('2026-11-25', 'r1', 'schedule', new Date('2026-11-25T22:00:00Z'));
    expect(trendPointOfRun(running)).toBeNull();
    expect(trendPointOfRun({ ...running, status: 'failed', error: 'no tape' })).toEqual({
      snapshotDate: '2026-11-25',
      status: 'failed',
      overall: null,
      ...noTrendFigures(),
    });
  });

  it('read a record of an earlier release, without the new figures, as unknown rather than as zero', () => {
    const { audit } = loadReportFixtures();
    const record = finishedSummary(planOf(audit), audit, new Date(), false) as Partial<RunSummary>;
    delete record.loansInBreach;
    delete record.pastDue30Share;
    const stored = trendPointOfRun(record as RunSummary);
    expect(stored?.loansInBreach).toBeNull();
    expect(stored?.pastDue30Share).toBeNull();
    expect(stored?.nplRatio).toBe(audit.portfolio.nplRatio);
  });
});

describe('Function: selectTrend', () => {
  it('adds today to the 29 stored runs, in date order, replacing a stored copy of today', () => {
    const { audit, trend } = loadReportFixtures();
    const stale = { ...point('2026-11-25'), nplRatio: 0.5 };
    const points = selectTrend(audit, [...trend, stale].reverse());
    expect(points).toHaveLength(30);
    expect(points[0]?.snapshotDate).toBe('2026-10-27');
    expect(points[29]).toEqual(trendPointOf(audit));
  });

  it('keeps the last 30 runs and drops runs after the snapshot date', () => {
    const { audit } = loadReportFixtures();
    // 31 October runs + today = 32 points: the first two fall off
    const many = Array.from({ length: 31 }, (_, i) => point(`2026-10-${String(i + 1).padStart(2, '0')}`));
    const points = selectTrend(audit, [...many, point('2026-12-01')]);
    expect(points).toHaveLength(30);
    expect(points.map((p) => p.snapshotDate)).not.toContain('2026-12-01');
    expect(points[0]?.snapshotDate).toBe('2026-10-03');
  });
});

describe('Function: trendDays', () => {
  it('keeps a failed run as a day without figures and marks a stretch without runs by one empty day', () => {
    // Prepare: 1st, 2nd failed, 3rd, then nothing until the 7th
    const points = [
      point('2026-11-01'),
      point('2026-11-02', 'failed'),
      point('2026-11-03'),
      point('2026-11-07'),
    ];

    // Act
    const days = trendDays(points);

    // Assess
    expect(days.map((d) => [d.date, d.point?.status ?? null])).toEqual([
      ['2026-11-01', 'ok'],
      ['2026-11-02', 'failed'],
      ['2026-11-03', 'ok'],
      ['2026-11-04', null],
      ['2026-11-07', 'ok'],
    ]);
  });
});

describe('Function: trendSection', () => {
  it('charts NPL, 30+ DPD, expected loss, loans in breach, PSI and the quarantine rate, with a table of every run', () => {
    const { audit, trend } = loadReportFixtures();
    const section = trendSection(selectTrend(audit, trend), 'CNY');
    expect(section.charts.map((c) => c.id)).toEqual([
      'trend-npl',
      'trend-dpd30',
      'trend-el',
      'trend-loans-in-breach',
      'trend-psi',
      'trend-quarantine',
    ]);
    const table = section.tables[0]!;
    expect(table.name).toBe('trend');
    expect(table.columns.map((c) => c.label)).toEqual([
      'Date',
      'Rating',
      'NPL',
      '30+ DPD',
      'Exp. loss',
      'Outstanding',
      'Loans in breach',
      'Rules breached',
      'PSI',
      'Quarantined',
    ]);
    // Newest first: today, then the stored 2026-11-24
    expect(table.rows[0]).toEqual([
      '2026-11-25',
      'red (partial)',
      '1.82%',
      '3.91%',
      '¥402.31m',
      '¥18.64bn',
      '1,318',
      '3',
      '0.021',
      // 412 / 1,000,412
      '0.041%',
    ]);
    expect(table.rows[1]?.slice(6, 8)).toEqual(['1,277', '2']);
    const failed = table.rows.find((r) => r[0] === '2026-11-10');
    expect(failed).toEqual(['2026-11-10', 'failed', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
  });
});
