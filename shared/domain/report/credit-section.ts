import {
  type AuditResult,
  CLASSIFICATIONS,
  type CountOutstanding,
  DPD_BUCKETS,
  IFRS9_STAGES,
} from '../audit-result.ts';
import { formatAmount, formatInteger, formatPercent, share } from './format.ts';
import { CLASSIFICATION_LABELS, COUNT_COLUMNS } from './section-parts.ts';
import { pastDue30Share } from './trend.ts';
import type { ChartData, ReportSection, ReportTable } from './types.ts';

const DPD_LABELS: Record<string, string> = {
  '0': 'Current',
  '1-30': '1–30 days',
  '31-60': '31–60 days',
  '61-90': '61–90 days',
  '91-180': '91–180 days',
  '181-360': '181–360 days',
  '361+': '361+ days',
  closed: 'Closed',
};

const PAST_DUE = DPD_BUCKETS.filter((b) => b !== '0');

function countTable(
  name: string,
  caption: string,
  first: string,
  rows: readonly [string, CountOutstanding][],
  total: number,
  currency: string,
): ReportTable {
  return {
    name,
    caption,
    columns: [{ label: first, numeric: false }, ...COUNT_COLUMNS],
    rows: rows.map(([label, co]) => [
      label,
      formatInteger(co.count),
      formatAmount(co.outstanding, currency),
      formatPercent(share(co.outstanding, total), 1),
    ]),
    values: rows.map(([, co]) => [null, co.count, co.outstanding, share(co.outstanding, total)]),
  };
}

/** Credit quality: DPD buckets, five categories, IFRS 9 stages, roll rates. */
export function creditSection(audit: AuditResult, currency: string): ReportSection {
  const p = audit.portfolio;
  const total = p.totalOutstanding;
  const lines = [
    `NPL ratio ${formatPercent(p.nplRatio)} (substandard + doubtful + loss over outstanding ${formatAmount(total, currency)}); ${formatPercent(pastDue30Share(audit))} of outstanding is more than 30 days past due.`,
    `Expected loss ${formatAmount(p.expectedLoss, currency)}, ${formatPercent(share(p.expectedLoss, total))} of outstanding; weighted average rate ${formatPercent(p.weightedAverageRate)}.`,
  ];
  const tables: ReportTable[] = [
    countTable(
      'dpd',
      'Days past due',
      'Bucket',
      DPD_BUCKETS.map((b) => [DPD_LABELS[b] ?? b, p.dpdBuckets[b]]),
      total,
      currency,
    ),
    countTable(
      'classification',
      'Five-category classification',
      'Category',
      CLASSIFICATIONS.map((c) => [CLASSIFICATION_LABELS[c] ?? c, p.classification[c]]),
      total,
      currency,
    ),
    countTable(
      'stages',
      'IFRS 9 stages',
      'Stage',
      IFRS9_STAGES.map((s) => [`Stage ${s}`, p.ifrs9Stages[s]]),
      total,
      currency,
    ),
  ];
  const charts: ChartData[] = [
    {
      kind: 'bars',
      id: 'dpd',
      title: 'Past-due outstanding by days past due',
      unit: 'amount',
      alt: `Bar chart of past-due outstanding by days past due (current loans, ${formatPercent(share(p.dpdBuckets['0'].outstanding, total), 1)} of outstanding, left out): ${PAST_DUE.map((b) => `${DPD_LABELS[b]} ${formatAmount(p.dpdBuckets[b].outstanding, currency)}`).join(', ')}.`,
      bars: PAST_DUE.map((b) => ({
        label: b,
        value: p.dpdBuckets[b].outstanding,
        highlight: b === '91-180' || b === '181-360' || b === '361+',
      })),
    },
  ];
  const roll = audit.drift.rollRates;
  if (roll) {
    const from = DPD_BUCKETS.filter((b) => roll[b] !== undefined);
    const to = [...DPD_BUCKETS, 'closed'];
    const index = (b: string): number => to.indexOf(b);
    const summary = from.map((f) => {
      const row = roll[f] ?? {};
      let cured = 0;
      let same = 0;
      let worse = 0;
      for (const [t, v] of Object.entries(row)) {
        if (t === 'closed') continue;
        if (t === f) same += v;
        else if (index(t) < index(f)) cured += v;
        else worse += v;
      }
      return { f, cured, same, worse, closed: row.closed ?? 0 };
    });
    tables.push({
      name: 'roll-rates',
      caption: `Roll rates since ${audit.previousSnapshotDate ?? 'the previous tape'} (share of loans by count)`,
      columns: [
        { label: 'From', numeric: false },
        { label: 'Cured', numeric: true },
        { label: 'Same', numeric: true },
        { label: 'Worse', numeric: true },
        { label: 'Closed', numeric: true },
      ],
      rows: summary.map((r) => [
        DPD_LABELS[r.f] ?? r.f,
        formatPercent(r.cured, 1),
        formatPercent(r.same, 1),
        formatPercent(r.worse, 1),
        formatPercent(r.closed, 1),
      ]),
      values: summary.map((r) => [null, r.cured, r.same, r.worse, r.closed]),
    });
    tables.push({
      name: 'roll-matrix',
      caption: 'Roll-rate matrix (rows: bucket on the previous tape; columns: bucket today)',
      columns: [{ label: 'From \\ to', numeric: false }, ...to.map((t) => ({ label: t, numeric: true }))],
      rows: from.map((f) => [f, ...to.map((t) => formatPercent(roll[f]?.[t] ?? 0, 0))]),
      values: from.map((f) => [null, ...to.map((t) => roll[f]?.[t] ?? 0)]),
    });
    charts.push({
      kind: 'heatmap',
      id: 'roll-rates',
      title: 'Roll-rate matrix',
      alt: `Roll-rate matrix from the previous tape to today by days-past-due bucket: ${from
        .map((f) => `${f} stays ${formatPercent(roll[f]?.[f] ?? 0, 0)}`)
        .join(', ')}.`,
      rows: from,
      columns: to,
      cells: from.flatMap((f) => to.map((t) => ({ row: f, column: t, value: roll[f]?.[t] ?? 0 }))),
    });
  } else {
    lines.push('Roll rates need the previous tape: none was available for this run.');
  }
  return { id: 'credit', title: 'Credit quality', lines, tables, charts };
}
