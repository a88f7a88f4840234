import { formatAmount, formatInteger, formatPercent } from './format.ts';
import { type RunTrendPoint, TREND_METRICS, type TrendDay, type TrendMetric, trendDays } from './trend.ts';
import type { ChartData, ChartUnit, ReportSection, ReportTable } from './types.ts';

/** A trend figure as the report prints it. */
export function formatTrendValue(value: number | null, unit: ChartUnit, currency = 'CNY'): string {
  switch (unit) {
    case 'share':
      // A small share (a quarantine rate) keeps a third decimal: 0.031%, not 0.03%.
      return formatPercent(value, value !== null && Math.abs(value) < 0.01 ? 3 : 2);
    case 'amount':
      return formatAmount(value, currency);
    case 'count':
      return formatInteger(value);
    case 'index':
      return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(3);
  }
}

function figureOn(day: TrendDay, metric: TrendMetric): number | null {
  return day.point === null ? null : day.point[metric.key];
}

/** The sentence that states a trend: first and last value with their dates, low and high, gaps. */
function trendSentence(days: readonly TrendDay[], metric: TrendMetric, currency: string): string | null {
  const known = days.filter((d) => figureOn(d, metric) !== null);
  const first = known[0];
  const last = known[known.length - 1];
  if (first === undefined || last === undefined || known.length < 2) return null;
  const values = known.map((d) => figureOn(d, metric) as number);
  const f = (v: number | null): string => formatTrendValue(v, metric.unit, currency);
  const gaps = days.filter((d) => d.point === null || d.point.status === 'failed').length;
  return `${metric.label} over ${known.length} runs: ${f(figureOn(first, metric))} on ${first.date}, ${f(figureOn(last, metric))} on ${last.date} (low ${f(Math.min(...values))}, high ${f(Math.max(...values))})${gaps > 0 ? `; ${gaps === 1 ? 'one gap' : `${gaps} gaps`} (a failed run or no run), shown as a break in the line` : ''}.`;
}

/** The chart of one trend figure over the days of the trend, gaps as breaks in the line. */
export function trendChart(
  days: readonly TrendDay[],
  metric: TrendMetric,
  id: string,
  currency = 'CNY',
): ChartData | null {
  const sentence = trendSentence(days, metric, currency);
  if (sentence === null) return null;
  const runs = days.filter((d) => figureOn(d, metric) !== null).length;
  return {
    kind: 'trend',
    id,
    unit: metric.unit,
    title: `${metric.title}, last ${runs} runs`,
    alt: `Line chart. ${sentence}`,
    points: days.map((d) => ({ date: d.date, value: figureOn(d, metric), rating: d.point?.overall ?? null })),
  };
}

const NPL = TREND_METRICS.find((m) => m.key === 'nplRatio')!;

/** The email's trend: the NPL ratio over the last runs, as a sentence and a chart. */
export function nplTrend(points: readonly RunTrendPoint[]): { line: string; chart: ChartData | null } {
  const days = trendDays(points);
  const sentence = trendSentence(days, NPL, 'CNY');
  const chart = trendChart(days, NPL, 'trend');
  return { line: sentence ?? 'Not enough runs yet for a trend.', chart };
}

/** The full report's trend section: a chart per figure and a table of every run, failed ones too. */
export function trendSection(points: readonly RunTrendPoint[], currency: string): ReportSection {
  const days = trendDays(points);
  const charts = TREND_METRICS.filter((m) => m.charted)
    .map((m) => trendChart(days, m, m.id, currency))
    .filter((c): c is ChartData => c !== null);
  const lines = TREND_METRICS.filter((m) => m.charted)
    .map((m) => trendSentence(days, m, currency))
    .filter((l): l is string => l !== null);
  if (lines.length === 0) lines.push('Not enough runs yet for a trend.');
  const counts = { red: 0, amber: 0, green: 0 };
  for (const p of points) if (p.overall !== null) counts[p.overall] += 1;
  const failed = points.filter((p) => p.status === 'failed').length;
  lines.push(
    `Overall ratings over ${points.length} runs: ${counts.red} red, ${counts.amber} amber, ${counts.green} green${failed > 0 ? `, ${failed} failed` : ''}.`,
  );
  const table: ReportTable = {
    name: 'trend',
    caption: 'Runs (newest first)',
    columns: [
      { label: 'Date', numeric: false },
      { label: 'Rating', numeric: false },
      ...TREND_METRICS.map((m) => ({ label: m.short, numeric: true })),
    ],
    rows: [...days]
      .reverse()
      .map((d) => [
        d.date,
        d.point === null
          ? 'no run'
          : d.point.status === 'failed'
            ? 'failed'
            : d.point.status === 'ok'
              ? (d.point.overall ?? 'n/a')
              : `${d.point.overall ?? 'n/a'} (${d.point.status})`,
        ...TREND_METRICS.map((m) => formatTrendValue(figureOn(d, m), m.unit, currency)),
      ]),
    values: [...days].reverse().map((d) => [null, null, ...TREND_METRICS.map((m) => figureOn(d, m))]),
    note: 'Loans in breach: loans hit by a breach rule in force; rules breached: breach rules in force that concern at least one loan. A failed run has no figures.',
  };
  return { id: 'trend', title: 'Trends', lines, charts, tables: [table] };
}
