import type { AuditResult, AuditStatus, Rating } from '../audit-result.ts';
import { addDays } from '../calendar.ts';

/** How many runs the trend shows (the email's chart and the full report's charts and table). */
export const TREND_RUNS = 30;

/** Outstanding more than 30 days past due, over total outstanding; null for an empty book. */
export function pastDue30Share(audit: AuditResult): number | null {
  const b = audit.portfolio.dpdBuckets;
  const beyond30 =
    b['31-60'].outstanding +
    b['61-90'].outstanding +
    b['91-180'].outstanding +
    b['181-360'].outstanding +
    b['361+'].outstanding;
  const total = audit.portfolio.totalOutstanding;
  return total > 0 ? beyond30 / total : null;
}

/** The largest of the three population-stability indices; null without a previous tape. */
export function largestPsi(audit: AuditResult): number | null {
  const psi = audit.drift.psi;
  return psi === null ? null : Math.max(psi.creditScore, psi.product, psi.dpdBucket);
}

/**
 * The figures of one run that the trend shows. The run record stores exactly these, under these
 * names, so a stored run and today's audit read the same way (trendFiguresOf is the one source).
 */
export interface TrendFigures {
  nplRatio: number | null;
  pastDue30Share: number | null;
  expectedLoss: number | null;
  totalOutstanding: number | null;
  loansInBreach: number | null;
  rulesBreached: number | null;
  largestPsi: number | null;
  quarantineRate: number | null;
}

/** The names of the trend figures, in the order the trend table shows them. */
export const TREND_FIGURE_KEYS = [
  'nplRatio',
  'pastDue30Share',
  'expectedLoss',
  'totalOutstanding',
  'loansInBreach',
  'rulesBreached',
  'largestPsi',
  'quarantineRate',
] as const satisfies readonly (keyof TrendFigures)[];

/** The trend figures of a finished audit. */
export function trendFiguresOf(audit: AuditResult): TrendFigures {
  const { loansInBreach, rulesBreached } = audit.compliance;
  return {
    nplRatio: audit.portfolio.nplRatio,
    pastDue30Share: pastDue30Share(audit),
    expectedLoss: audit.portfolio.expectedLoss,
    totalOutstanding: audit.portfolio.totalOutstanding,
    loansInBreach,
    rulesBreached,
    largestPsi: largestPsi(audit),
    quarantineRate: audit.dataQuality.quarantineRate,
  };
}

/** Trend figures all unknown: a failed run, or a run recorded before a figure was kept. */
export function noTrendFigures(): TrendFigures {
  return {
    nplRatio: null,
    pastDue30Share: null,
    expectedLoss: null,
    totalOutstanding: null,
    loansInBreach: null,
    rulesBreached: null,
    largestPsi: null,
    quarantineRate: null,
  };
}

/** One run of the trend: its date, status and rating, and its figures (all null when it failed). */
export interface RunTrendPoint extends TrendFigures {
  snapshotDate: string;
  status: AuditStatus;
  /** Null for a failed run. */
  overall: Rating | null;
}

/** The trend point an audit stands for, as its run record keeps it. */
export function trendPointOf(audit: AuditResult): RunTrendPoint {
  return {
    snapshotDate: audit.snapshotDate,
    status: audit.status,
    overall: audit.ratings.overall,
    ...trendFiguresOf(audit),
  };
}

/** The trend to show: the given runs plus today's audit (replacing its stored run), by date, the last 30. */
export function selectTrend(audit: AuditResult, trend: readonly RunTrendPoint[]): RunTrendPoint[] {
  const byDate = new Map<string, RunTrendPoint>();
  for (const point of trend) byDate.set(point.snapshotDate, point);
  if (audit.status !== 'failed') byDate.set(audit.snapshotDate, trendPointOf(audit));
  return [...byDate.values()]
    .filter((p) => p.snapshotDate <= audit.snapshotDate)
    .sort((a, b) => (a.snapshotDate < b.snapshotDate ? -1 : a.snapshotDate > b.snapshotDate ? 1 : 0))
    .slice(-TREND_RUNS);
}

/** How a trend figure is shown: its label and the kind of number it is. */
export interface TrendMetric {
  key: (typeof TREND_FIGURE_KEYS)[number];
  /** Chart id and table hook. */
  id: string;
  label: string;
  /** Chart title: short enough for a phone. */
  title: string;
  /** Short column heading. */
  short: string;
  unit: 'share' | 'amount' | 'count' | 'index';
  /** Charted in the full report (rules breached and outstanding are in the table only). */
  charted: boolean;
}

/** Every trend figure with its label and unit: the charts and the table are built from this. */
export const TREND_METRICS: readonly TrendMetric[] = [
  {
    key: 'nplRatio',
    title: 'NPL ratio',
    id: 'trend-npl',
    label: 'NPL ratio',
    short: 'NPL',
    unit: 'share',
    charted: true,
  },
  {
    key: 'pastDue30Share',
    title: '30+ days past due',
    id: 'trend-dpd30',
    label: '30+ days past due (share of outstanding)',
    short: '30+ DPD',
    unit: 'share',
    charted: true,
  },
  {
    key: 'expectedLoss',
    title: 'Expected loss',
    id: 'trend-el',
    label: 'Expected loss',
    short: 'Exp. loss',
    unit: 'amount',
    charted: true,
  },
  {
    key: 'totalOutstanding',
    title: 'Outstanding',
    id: 'trend-outstanding',
    label: 'Outstanding',
    short: 'Outstanding',
    unit: 'amount',
    charted: false,
  },
  {
    key: 'loansInBreach',
    title: 'Loans in breach',
    id: 'trend-loans-in-breach',
    label: 'Loans in breach',
    short: 'Loans in breach',
    unit: 'count',
    charted: true,
  },
  {
    key: 'rulesBreached',
    title: 'Rules breached',
    id: 'trend-rules-breached',
    label: 'Rules breached',
    short: 'Rules breached',
    unit: 'count',
    charted: false,
  },
  {
    key: 'largestPsi',
    title: 'Largest PSI',
    id: 'trend-psi',
    label: 'PSI (largest of credit score, product, DPD bucket)',
    short: 'PSI',
    unit: 'index',
    charted: true,
  },
  {
    key: 'quarantineRate',
    title: 'Quarantine rate',
    id: 'trend-quarantine',
    label: 'Quarantine rate (share of rows read)',
    short: 'Quarantined',
    unit: 'share',
    charted: true,
  },
];

/** A date of the trend: a run's point (a failed run's figures are all null), or none for a day without a run. */
export interface TrendDay {
  date: string;
  point: RunTrendPoint | null;
}

/**
 * The trend's runs in date order with its gaps made explicit: a failed run has no figures, and a
 * stretch of days without a run gets one empty day after the last run before it, so that a chart
 * breaks its line there instead of joining its neighbours. At most twice as many days as runs.
 */
export function trendDays(points: readonly RunTrendPoint[]): TrendDay[] {
  const days: TrendDay[] = [];
  points.forEach((p, i) => {
    days.push({ date: p.snapshotDate, point: p });
    const next = points[i + 1];
    const after = addDays(p.snapshotDate, 1);
    if (next !== undefined && next.snapshotDate > after) days.push({ date: after, point: null });
  });
  return days;
}
