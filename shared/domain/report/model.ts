import {
  type AuditResult,
  CLASSIFICATIONS,
  type CountOutstanding,
  DPD_BUCKETS,
  type Finding,
  type FindingSeverity,
  IFRS9_STAGES,
  MATURITY_BANDS,
  RISK_CATEGORIES,
  type RiskCategory,
  type SegmentShare,
} from '../audit-result.ts';
import {
  cleanText,
  formatAmount,
  formatCountChange,
  formatFindingValue,
  formatHhi,
  formatInteger,
  formatPercent,
  formatPointChange,
  formatRelativeChange,
} from './format.ts';
import type {
  ChartData,
  FindingLine,
  HeadlineFigure,
  RatingLine,
  ReportInput,
  ReportModel,
  ReportSection,
  ReportTable,
  RunTrendPoint,
  Tone,
  Verdict,
} from './types.ts';

/** How many past runs the trend shows. */
export const TREND_RUNS = 30;
/** File name of the watchlist attachment. */
export const WATCHLIST_FILE_NAME = 'watchlist.csv';

const SEVERITY_ORDER: Record<FindingSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

const CATEGORY_LABELS: Record<RiskCategory | 'overall', string> = {
  overall: 'Overall',
  credit: 'Credit',
  regulatory: 'Regulatory',
  concentration: 'Concentration',
  vulnerability: 'Vulnerability',
  technical: 'Technical',
  liquidity: 'Liquidity',
};

// The first step a risk officer takes for a finding of each category; the findings below say why.
const CATEGORY_ACTIONS: Record<RiskCategory, string> = {
  credit: 'review collections on the loans 31+ days past due and the roll into 91+',
  regulatory: 'stop new lending under the breached rule and remediate the loans concerned',
  concentration: 'check the limits of the largest exposures and segments',
  vulnerability: 'review the flagged borrowers in the attached watchlist',
  technical: 'check the tape with the data team: quarantined rows are not in the metrics',
  liquidity: 'check funding against the maturities of the next 30 days',
};

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

const CLASSIFICATION_LABELS: Record<string, string> = {
  normal: 'Normal',
  special_mention: 'Special mention',
  substandard: 'Substandard',
  doubtful: 'Doubtful',
  loss: 'Loss',
};

const TOP_SEGMENTS = 5;
const PAST_DUE = DPD_BUCKETS.filter((b) => b !== '0');
const WATCHLIST_PREVIEW = 5;

/** Number of compliance rules in breach today (rules of severity breach that concern any loan). */
export function countBreaches(audit: AuditResult): number {
  let n = 0;
  for (const rule of Object.values(audit.compliance.rules)) {
    if (rule.severity === 'breach' && rule.loans > 0) n += 1;
  }
  return n;
}

/** Findings ordered by severity, most severe first (stable, so the audit's own order breaks ties). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}

/** The trend to chart: the given runs plus today when missing, by date, the last 30. */
export function selectTrend(audit: AuditResult, trend: readonly RunTrendPoint[]): RunTrendPoint[] {
  const byDate = new Map<string, RunTrendPoint>();
  for (const point of trend) byDate.set(point.snapshotDate, point);
  if (audit.status !== 'failed') byDate.set(audit.snapshotDate, toTrendPoint(audit));
  return [...byDate.values()]
    .filter((p) => p.snapshotDate <= audit.snapshotDate)
    .sort((a, b) => (a.snapshotDate < b.snapshotDate ? -1 : a.snapshotDate > b.snapshotDate ? 1 : 0))
    .slice(-TREND_RUNS);
}

/** The trend point an audit result stands for, as the run store would keep it. */
export function toTrendPoint(audit: AuditResult): RunTrendPoint {
  return {
    snapshotDate: audit.snapshotDate,
    status: audit.status,
    nplRatio: audit.portfolio.nplRatio,
    totalOutstanding: audit.portfolio.totalOutstanding,
    expectedLoss: audit.portfolio.expectedLoss,
    overall: audit.ratings.overall,
    breaches: countBreaches(audit),
  };
}

/** The verdict label of the subject. */
export function verdictOf(audit: AuditResult): Verdict {
  if (audit.status === 'failed') return 'FAILED';
  return audit.ratings.overall === 'red' ? 'RED' : audit.ratings.overall === 'amber' ? 'AMBER' : 'GREEN';
}

function plural(n: number, one: string, many: string): string {
  return `${formatInteger(n)} ${n === 1 ? one : many}`;
}

/** The subject line: verdict, date, NPL with its change and the breach count. */
export function buildSubject(audit: AuditResult, previous: AuditResult | null): string {
  const verdict = verdictOf(audit);
  const head = `[${verdict}] Risk audit ${audit.snapshotDate}`;
  if (audit.status === 'failed') return `${head} · run failed`;
  const npl = audit.portfolio.nplRatio;
  const prevNpl = previous?.portfolio.nplRatio ?? null;
  const change = npl !== null && prevNpl !== null ? ` (${formatPointChange(npl - prevNpl)})` : '';
  const breaches = countBreaches(audit);
  return `${head} · NPL ${formatPercent(npl)}${change} · ${plural(breaches, 'breach', 'breaches')}`;
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function outstandingBeyond30(audit: AuditResult): number {
  const b = audit.portfolio.dpdBuckets;
  return (
    b['31-60'].outstanding +
    b['61-90'].outstanding +
    b['91-180'].outstanding +
    b['181-360'].outstanding +
    b['361+'].outstanding
  );
}

function toneOf(delta: number, higherIsWorse: boolean | null): Tone {
  if (higherIsWorse === null || delta === 0) return 'neutral';
  return delta > 0 === higherIsWorse ? 'bad' : 'good';
}

function ratioFigure(
  label: string,
  today: number | null,
  previous: number | null | undefined,
  higherIsWorse: boolean,
): HeadlineFigure {
  if (today === null || previous === null || previous === undefined) {
    return { label, value: formatPercent(today), change: null, tone: 'neutral' };
  }
  const delta = Number(((today - previous) * 100).toFixed(2));
  return {
    label,
    value: formatPercent(today),
    change: formatPointChange(today - previous),
    tone: toneOf(delta, higherIsWorse),
  };
}

function amountFigure(
  label: string,
  today: number,
  previous: number | undefined,
  higherIsWorse: boolean | null,
  currency: string,
): HeadlineFigure {
  const change = previous === undefined ? null : formatRelativeChange(today, previous);
  const delta = previous === undefined ? 0 : Number(((today / (previous || 1) - 1) * 100).toFixed(1));
  return {
    label,
    value: formatAmount(today, currency),
    change,
    tone: change === null ? 'neutral' : toneOf(delta, higherIsWorse),
  };
}

function buildHeadline(audit: AuditResult, previous: AuditResult | null, currency: string): HeadlineFigure[] {
  const p = audit.portfolio;
  const q = previous?.portfolio;
  const breaches = countBreaches(audit);
  const prevBreaches = previous ? countBreaches(previous) : null;
  return [
    ratioFigure('NPL ratio', p.nplRatio, q?.nplRatio, true),
    ratioFigure(
      '30+ days past due',
      share(outstandingBeyond30(audit), p.totalOutstanding),
      previous && q ? share(outstandingBeyond30(previous), q.totalOutstanding) : undefined,
      true,
    ),
    amountFigure('Expected loss', p.expectedLoss, q?.expectedLoss, true, currency),
    amountFigure('Outstanding', p.totalOutstanding, q?.totalOutstanding, null, currency),
    {
      label: 'Compliance breaches',
      value: formatInteger(breaches),
      change: prevBreaches === null ? null : formatCountChange(breaches - prevBreaches),
      tone: prevBreaches === null ? 'neutral' : toneOf(breaches - prevBreaches, true),
    },
    {
      label: 'Loans',
      value: formatInteger(p.loanCount),
      change: q ? formatRelativeChange(p.loanCount, q.loanCount) : null,
      tone: 'neutral',
    },
  ];
}

function sourceOf(
  code: string,
  finding: Finding | undefined,
  sources: Readonly<Record<string, string>>,
): string {
  const s = sources[code] ?? finding?.source;
  return s ? cleanText(s, 160) : 'risk-appetite config';
}

// A fraction below 1 reads as a percentage (a rate, a share, an APR threshold), except for
// indices such as HHI and PSI; a zero follows its partner so `0` and `1.50%` line up.
function looksLikeFraction(v: number | string | null, code: string): boolean {
  return typeof v === 'number' && !Number.isInteger(v) && Math.abs(v) < 1 && !/HHI|PSI/i.test(code);
}

function findingFigures(f: Finding): { value: string; threshold: string } {
  const valuePct =
    looksLikeFraction(f.value, f.code) || (f.value === 0 && looksLikeFraction(f.threshold, f.code));
  const thresholdPct =
    looksLikeFraction(f.threshold, f.code) || (f.threshold === 0 && looksLikeFraction(f.value, f.code));
  return {
    value: formatFindingValue(f.value, valuePct),
    threshold: formatFindingValue(f.threshold, thresholdPct),
  };
}

function buildFindingLines(audit: AuditResult, sources: Readonly<Record<string, string>>): FindingLine[] {
  return sortFindings(audit.findings).map((f) => ({
    severity: f.severity,
    category: f.category,
    code: cleanText(f.code, 60),
    message: cleanText(f.message, 240),
    ...findingFigures(f),
    source: sourceOf(f.code, f, sources),
  }));
}

function topSegments(segments: Record<string, SegmentShare>, n: number): [string, SegmentShare][] {
  return Object.entries(segments)
    .sort((a, b) => b[1].outstanding - a[1].outstanding || (a[0] < b[0] ? -1 : 1))
    .slice(0, n);
}

function defaultReason(category: RiskCategory, audit: AuditResult, currency: string): string {
  const p = audit.portfolio;
  const c = audit.concentration;
  switch (category) {
    case 'credit':
      return `NPL ${formatPercent(p.nplRatio)}, 30+ DPD ${formatPercent(share(outstandingBeyond30(audit), p.totalOutstanding))}, expected loss ${formatAmount(p.expectedLoss, currency)}`;
    case 'regulatory': {
      const breaches = countBreaches(audit);
      const watches = Object.values(audit.compliance.rules).filter(
        (r) => r.severity === 'watch' && r.loans > 0,
      ).length;
      return breaches === 0
        ? `No rule breached${watches > 0 ? `; ${plural(watches, 'rule', 'rules')} on watch` : ''}`
        : `${plural(breaches, 'rule', 'rules')} breached`;
    }
    case 'concentration':
      return `Largest borrower ${formatPercent(c.largestBorrowerShare)}, top 10 ${formatPercent(c.top10BorrowerShare)}, industry HHI ${formatHhi(c.industryHhi)}`;
    case 'vulnerability':
      return `${formatPercent(share(audit.vulnerability.anyFlag.outstanding, p.totalOutstanding))} of outstanding carries a vulnerability flag`;
    case 'technical':
      return `${formatPercent(audit.dataQuality.quarantineRate)} of rows quarantined, ${plural(audit.dataQuality.duplicateLoanIds, 'duplicate loan id', 'duplicate loan ids')}`;
    case 'liquidity': {
      const m = p.maturityLadder;
      return `${formatPercent(share(m.overdue + m['0-7'] + m['8-30'], p.totalOutstanding))} of outstanding overdue or maturing within 30 days`;
    }
  }
}

function buildRatings(audit: AuditResult, findings: readonly FindingLine[], currency: string): RatingLine[] {
  const lines: RatingLine[] = RISK_CATEGORIES.map((category) => {
    const own = findings.filter((f) => f.category === category);
    const top = own[0];
    const reason = top
      ? `${top.message}${own.length > 1 ? ` (+${own.length - 1} more)` : ''}`
      : defaultReason(category, audit, currency);
    return { category, label: CATEGORY_LABELS[category], rating: audit.ratings[category], reason };
  });
  const red = lines.filter((l) => l.rating === 'red').map((l) => l.label);
  const amber = lines.filter((l) => l.rating === 'amber').map((l) => l.label);
  const parts = [
    red.length > 0 ? `red: ${red.join(', ')}` : '',
    amber.length > 0 ? `amber: ${amber.join(', ')}` : '',
  ];
  const named = parts.filter((x) => x.length > 0).join('; ');
  const overallReason =
    named.length === 0 ? 'Every category is within risk appetite' : `The worst category sets it (${named})`;
  return [
    { category: 'overall', label: 'Overall', rating: audit.ratings.overall, reason: overallReason },
    ...lines,
  ];
}

function buildActions(audit: AuditResult, findings: readonly FindingLine[]): string[] {
  const actions: string[] = [];
  const seen = new Set<RiskCategory>();
  if (audit.status === 'partial' && !findings.some((f) => f.category === 'technical')) {
    actions.push(
      `Check the tape: ${formatInteger(audit.input.rowsQuarantined)} rows were quarantined, so figures cover valid rows only.`,
    );
    seen.add('technical');
  }
  for (const f of findings) {
    if (actions.length >= 3) break;
    if (f.severity === 'info' || f.severity === 'low' || seen.has(f.category)) continue;
    seen.add(f.category);
    const action = CATEGORY_ACTIONS[f.category];
    actions.push(`${f.message}: ${action}.`);
  }
  if (actions.length === 0) actions.push('Nothing needs action today; the detail is below for the record.');
  return actions;
}

function buildSummary(
  audit: AuditResult,
  headline: readonly HeadlineFigure[],
  findings: readonly FindingLine[],
): string {
  const npl = headline[0];
  const breaches = countBreaches(audit);
  const serious = findings.filter((f) => f.severity === 'critical' || f.severity === 'high').length;
  const parts = [
    `Overall ${audit.ratings.overall.toUpperCase()}`,
    `NPL ${npl?.value ?? 'n/a'}${npl?.change ? ` (${npl.change})` : ''}`,
    plural(breaches, 'compliance breach', 'compliance breaches'),
    plural(serious, 'critical or high finding', 'critical or high findings'),
  ];
  return `${parts.join(' · ')}.`;
}

function countRow(label: string, co: CountOutstanding, total: number, currency: string): string[] {
  return [
    label,
    formatInteger(co.count),
    formatAmount(co.outstanding, currency),
    formatPercent(share(co.outstanding, total), 1),
  ];
}

const COUNT_COLUMNS = [
  { label: 'Loans', numeric: true },
  { label: 'Outstanding', numeric: true },
  { label: 'Share', numeric: true },
] as const;

function trendSection(points: readonly RunTrendPoint[], currency: string): ReportSection {
  const withNpl = points.filter((p): p is RunTrendPoint & { nplRatio: number } => p.nplRatio !== null);
  const lines: string[] = [];
  const charts: ChartData[] = [];
  const first = withNpl[0];
  const last = withNpl[withNpl.length - 1];
  if (first && last && withNpl.length >= 2) {
    const values = withNpl.map((p) => p.nplRatio);
    const min = Math.min(...values);
    const max = Math.max(...values);
    lines.push(
      `NPL ratio over ${withNpl.length} runs: ${formatPercent(first.nplRatio)} on ${first.snapshotDate}, ${formatPercent(last.nplRatio)} on ${last.snapshotDate} (low ${formatPercent(min)}, high ${formatPercent(max)}).`,
    );
    charts.push({
      kind: 'trend',
      id: 'trend',
      title: `NPL ratio, last ${withNpl.length} runs`,
      alt: `Line chart of the NPL ratio over the last ${withNpl.length} runs, from ${formatPercent(first.nplRatio)} on ${first.snapshotDate} to ${formatPercent(last.nplRatio)} on ${last.snapshotDate}; low ${formatPercent(min)}, high ${formatPercent(max)}.`,
      points: withNpl.map((p) => ({ date: p.snapshotDate, value: p.nplRatio, rating: p.overall })),
    });
  } else {
    lines.push('Not enough runs yet for a trend.');
  }
  const counts = { red: 0, amber: 0, green: 0 };
  for (const p of points) counts[p.overall] += 1;
  lines.push(
    `Overall ratings over ${points.length} runs: ${counts.red} red, ${counts.amber} amber, ${counts.green} green.`,
  );
  return {
    id: 'trend',
    title: 'Trend',
    lines,
    charts,
    tables: [
      {
        caption: 'Recent runs',
        textOnly: true,
        columns: [
          { label: 'Date', numeric: false },
          { label: 'Rating', numeric: false },
          { label: 'NPL', numeric: true },
          { label: 'Outstanding', numeric: true },
          { label: 'Expected loss', numeric: true },
          { label: 'Breaches', numeric: true },
        ],
        rows: points.map((p) => [
          p.snapshotDate,
          p.status === 'ok' ? p.overall : `${p.overall} (${p.status})`,
          formatPercent(p.nplRatio),
          formatAmount(p.totalOutstanding, currency),
          formatAmount(p.expectedLoss, currency),
          formatInteger(p.breaches),
        ]),
      },
    ],
  };
}

function creditSection(audit: AuditResult, currency: string): ReportSection {
  const p = audit.portfolio;
  const total = p.totalOutstanding;
  const lines = [
    `NPL ratio ${formatPercent(p.nplRatio)} (substandard + doubtful + loss over outstanding ${formatAmount(total, currency)}).`,
    `Expected loss ${formatAmount(p.expectedLoss, currency)}, ${formatPercent(share(p.expectedLoss, total))} of outstanding; weighted average rate ${formatPercent(p.weightedAverageRate)}.`,
  ];
  const tables: ReportTable[] = [
    {
      caption: 'Days past due',
      columns: [{ label: 'Bucket', numeric: false }, ...COUNT_COLUMNS],
      rows: DPD_BUCKETS.map((b) => countRow(DPD_LABELS[b] ?? b, p.dpdBuckets[b], total, currency)),
    },
    {
      caption: 'Five-category classification',
      columns: [{ label: 'Category', numeric: false }, ...COUNT_COLUMNS],
      rows: CLASSIFICATIONS.map((c) =>
        countRow(CLASSIFICATION_LABELS[c] ?? c, p.classification[c], total, currency),
      ),
    },
    {
      caption: 'IFRS 9 stages',
      columns: [{ label: 'Stage', numeric: false }, ...COUNT_COLUMNS],
      rows: IFRS9_STAGES.map((s) => countRow(`Stage ${s}`, p.ifrs9Stages[s], total, currency)),
    },
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
    tables.push({
      caption: `Roll rates since ${audit.previousSnapshotDate ?? 'the previous tape'} (share of loans by count)`,
      columns: [
        { label: 'From', numeric: false },
        { label: 'Cured', numeric: true },
        { label: 'Same', numeric: true },
        { label: 'Worse', numeric: true },
        { label: 'Closed', numeric: true },
      ],
      rows: from.map((f) => {
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
        return [
          DPD_LABELS[f] ?? f,
          formatPercent(cured, 1),
          formatPercent(same, 1),
          formatPercent(worse, 1),
          formatPercent(row.closed ?? 0, 1),
        ];
      }),
    });
    tables.push({
      caption: 'Roll-rate matrix (rows: bucket on the previous tape; columns: bucket today)',
      textOnly: true,
      columns: [{ label: 'From \\ to', numeric: false }, ...to.map((t) => ({ label: t, numeric: true }))],
      rows: from.map((f) => [f, ...to.map((t) => formatPercent(roll[f]?.[t] ?? 0, 0))]),
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

function segmentTable(
  caption: string,
  segments: Record<string, SegmentShare>,
  currency: string,
): ReportTable {
  const entries = Object.entries(segments);
  const top = topSegments(segments, TOP_SEGMENTS);
  const rows = top.map(([name, s]) => [
    cleanText(name, 40),
    formatInteger(s.count),
    formatAmount(s.outstanding, currency),
    formatPercent(s.share, 1),
  ]);
  if (entries.length > top.length) {
    let count = 0;
    let outstanding = 0;
    let rest = 0;
    for (const [name, s] of entries) {
      if (top.some(([n]) => n === name)) continue;
      count += s.count;
      outstanding += s.outstanding;
      rest += s.share;
    }
    rows.push([
      `${entries.length - top.length} others`,
      formatInteger(count),
      formatAmount(outstanding, currency),
      formatPercent(rest, 1),
    ]);
  }
  return { caption, columns: [{ label: 'Name', numeric: false }, ...COUNT_COLUMNS], rows };
}

function concentrationSection(audit: AuditResult, currency: string): ReportSection {
  const c = audit.concentration;
  const industries = topSegments(c.byIndustry, 8);
  return {
    id: 'concentration',
    title: 'Concentration',
    lines: [
      `Largest borrower ${formatPercent(c.largestBorrowerShare)} of outstanding; top 10 borrowers ${formatPercent(c.top10BorrowerShare)}; borrower HHI ${formatHhi(c.borrowerHhi)}.`,
      `Industry HHI ${formatHhi(c.industryHhi)} over ${Object.keys(c.byIndustry).length} industries; region HHI ${formatHhi(c.regionHhi)} over ${Object.keys(c.byRegion).length} regions.`,
    ],
    tables: [
      {
        caption: 'Top borrowers (masked references)',
        columns: [
          { label: 'Borrower', numeric: false },
          { label: 'Exposure', numeric: true },
          { label: 'Share', numeric: true },
          { label: 'Loans', numeric: true },
        ],
        rows: c.topBorrowers.map((b) => [
          cleanText(b.borrowerRef, 24),
          formatAmount(b.exposure, currency),
          formatPercent(b.share),
          formatInteger(b.loanCount),
        ]),
      },
      segmentTable('Top industries', c.byIndustry, currency),
      segmentTable('Top regions', c.byRegion, currency),
      segmentTable('Products', c.byProduct, currency),
    ],
    charts:
      industries.length > 0
        ? [
            {
              kind: 'hbars',
              id: 'industries',
              title: 'Share of outstanding by industry',
              unit: 'share',
              alt: `Bar chart of the largest industries by share of outstanding: ${industries
                .map(([n, s]) => `${cleanText(n, 40)} ${formatPercent(s.share, 1)}`)
                .join(', ')}.`,
              bars: industries.map(([n, s]) => ({
                label: cleanText(n, 28),
                value: s.share,
                highlight: s.share >= 0.25,
              })),
            },
          ]
        : [],
  };
}

function complianceSection(
  audit: AuditResult,
  findings: readonly Finding[],
  sources: Readonly<Record<string, string>>,
  currency: string,
): ReportSection {
  const rules = Object.entries(audit.compliance.rules).sort(
    (a, b) =>
      (a[1].severity === 'breach' ? 0 : 1) - (b[1].severity === 'breach' ? 0 : 1) ||
      b[1].outstanding - a[1].outstanding ||
      (a[0] < b[0] ? -1 : 1),
  );
  const breaches = countBreaches(audit);
  return {
    id: 'compliance',
    title: 'Compliance',
    lines: [
      breaches === 0
        ? 'No rule of the active rule pack is breached.'
        : `${plural(breaches, 'rule', 'rules')} of the active rule pack ${breaches === 1 ? 'is' : 'are'} breached.`,
    ],
    tables: [
      {
        caption: 'Rules',
        stacked: true,
        columns: [
          { label: 'Rule', numeric: false },
          { label: 'Status', numeric: false },
          { label: 'Loans', numeric: true },
          { label: 'Borrowers', numeric: true },
          { label: 'Outstanding', numeric: true },
          { label: 'Source', numeric: false },
        ],
        rows: rules.map(([code, r]) => [
          cleanText(code, 40),
          r.loans > 0 ? r.severity : 'clear',
          formatInteger(r.loans),
          formatInteger(r.borrowers),
          formatAmount(r.outstanding, currency),
          sourceOf(
            code,
            findings.find((f) => f.code === code),
            sources,
          ),
        ]),
      },
    ],
    charts: [],
  };
}

function vulnerabilitySection(audit: AuditResult, currency: string): ReportSection {
  const v = audit.vulnerability;
  const total = audit.portfolio.totalOutstanding;
  return {
    id: 'vulnerability',
    title: 'Borrower vulnerability',
    lines: [
      `${plural(v.anyFlag.loans, 'loan', 'loans')} (${formatAmount(v.anyFlag.outstanding, currency)}, ${formatPercent(share(v.anyFlag.outstanding, total))} of outstanding) carry at least one flag.`,
    ],
    tables: [
      {
        caption: 'Flags',
        columns: [{ label: 'Flag', numeric: false }, ...COUNT_COLUMNS],
        rows: Object.entries(v.flags)
          .sort((a, b) => b[1].outstanding - a[1].outstanding)
          .map(([code, f]) => [
            cleanText(code, 40),
            formatInteger(f.loans),
            formatAmount(f.outstanding, currency),
            formatPercent(share(f.outstanding, total), 1),
          ]),
      },
    ],
    charts: [],
  };
}

function watchlistSection(input: ReportInput, currency: string): ReportSection {
  const rows = input.watchlist ?? [];
  const total = input.watchlistTotal ?? rows.length;
  const lines =
    rows.length === 0
      ? ['No loan is on the watchlist today.']
      : [
          `${plural(total, 'loan is', 'loans are')} on the watchlist${total > rows.length ? `; the ${formatInteger(rows.length)} riskiest are` : ','} attached as ${WATCHLIST_FILE_NAME} (masked loan references).`,
        ];
  return {
    id: 'watchlist',
    title: 'Watchlist',
    lines,
    tables:
      rows.length === 0
        ? []
        : [
            {
              caption: `First ${Math.min(WATCHLIST_PREVIEW, rows.length)} of the attachment`,
              stacked: true,
              columns: [
                { label: 'Loan', numeric: false },
                { label: 'Grade', numeric: false },
                { label: 'DPD', numeric: false },
                { label: 'Outstanding', numeric: true },
                { label: 'Flags', numeric: false },
              ],
              rows: rows
                .slice(0, WATCHLIST_PREVIEW)
                .map((r) => [
                  cleanText(r.loanRef, 24),
                  cleanText(r.grade, 8),
                  r.dpdBucket,
                  formatAmount(r.outstanding, currency),
                  r.flags.length === 0 ? '—' : r.flags.map((f) => cleanText(f, 30)).join(', '),
                ]),
            },
          ],
    charts: [],
  };
}

function dataQualitySection(audit: AuditResult): ReportSection {
  const d = audit.dataQuality;
  const lines = [
    `${formatInteger(d.rowsRead)} rows read, ${formatInteger(d.rowsQuarantined)} quarantined (${formatPercent(d.quarantineRate)}); ${plural(d.duplicateLoanIds, 'duplicate loan id', 'duplicate loan ids')}.`,
    d.rowCountChange === null
      ? 'Row count change: no previous tape.'
      : `Valid rows changed ${formatPointChange(d.rowCountChange, 1).replace(' pp', '%')} since the previous tape.`,
  ];
  const drift = audit.drift;
  if (drift.psi) {
    lines.push(
      `Population stability (PSI): credit score ${drift.psi.creditScore.toFixed(3)}, product ${drift.psi.product.toFixed(3)}, DPD bucket ${drift.psi.dpdBucket.toFixed(3)} (above 0.25 is a major shift).`,
    );
  }
  if (drift.newLoans !== null)
    lines.push(`${plural(drift.newLoans, 'new loan', 'new loans')} since the previous tape.`);
  const tables: ReportTable[] = [];
  const codes = Object.entries(audit.input.quarantineByCode).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) {
    tables.push({
      caption: 'Quarantined rows by reason',
      columns: [
        { label: 'Reason', numeric: false },
        { label: 'Rows', numeric: true },
      ],
      rows: codes.map(([code, n]) => [cleanText(code, 40), formatInteger(n)]),
    });
  }
  const missing = Object.entries(d.missingRate)
    .filter(([, r]) => r > 0)
    .sort((a, b) => b[1] - a[1]);
  if (missing.length > 0) {
    tables.push({
      caption: 'Optional columns left empty',
      columns: [
        { label: 'Column', numeric: false },
        { label: 'Empty', numeric: true },
      ],
      rows: missing.map(([column, r]) => [cleanText(column, 40), formatPercent(r, 1)]),
    });
  }
  return { id: 'data-quality', title: 'Data quality', lines, tables, charts: [] };
}

const MATURITY_LABELS: Record<string, string> = {
  overdue: 'Overdue',
  '0-7': '0–7 days',
  '8-30': '8–30 days',
  '31-90': '31–90 days',
  '91-365': '91–365 days',
  '366+': '366+ days',
};

function liquiditySection(audit: AuditResult, currency: string): ReportSection {
  const ladder = audit.portfolio.maturityLadder;
  const total = audit.portfolio.totalOutstanding;
  return {
    id: 'liquidity',
    title: 'Maturity ladder',
    lines: [
      `${formatAmount(ladder['0-7'] + ladder['8-30'], currency)} matures within 30 days; ${formatAmount(ladder.overdue, currency)} is past its maturity date.`,
    ],
    tables: [
      {
        caption: 'Outstanding by days to maturity',
        columns: [
          { label: 'Band', numeric: false },
          { label: 'Outstanding', numeric: true },
          { label: 'Share', numeric: true },
        ],
        rows: MATURITY_BANDS.map((b) => [
          MATURITY_LABELS[b] ?? b,
          formatAmount(ladder[b], currency),
          formatPercent(share(ladder[b], total), 1),
        ]),
      },
    ],
    charts: [
      {
        kind: 'bars',
        id: 'maturity',
        title: 'Outstanding by days to maturity',
        unit: 'amount',
        alt: `Bar chart of outstanding by days to maturity: ${MATURITY_BANDS.map((b) => `${MATURITY_LABELS[b]} ${formatAmount(ladder[b], currency)}`).join(', ')}.`,
        bars: MATURITY_BANDS.map((b) => ({ label: b, value: ladder[b], highlight: b === 'overdue' })),
      },
    ],
  };
}

// An ISO timestamp reads better as `2026-12-03 06:00 UTC`; anything else is shown as given.
function formatExpiry(value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) return cleanText(value, 40);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function statusNote(audit: AuditResult): string | null {
  if (audit.status === 'partial') {
    return `Partial run: ${formatInteger(audit.input.rowsQuarantined)} of ${formatInteger(audit.input.rowsRead)} rows were quarantined or a check could not run; figures cover valid rows only.`;
  }
  if (audit.status === 'failed')
    return `The run failed: ${cleanText(audit.error ?? 'no reason recorded', 240)}`;
  return null;
}

/** Builds the display model of the emailed report: every figure rounded once, every tape text cleaned. */
export function buildReportModel(input: ReportInput): ReportModel {
  const audit = input.audit;
  const previous = input.previous ?? null;
  const currency = input.currency ?? 'CNY';
  const sources = input.sources ?? {};
  const generatedAt = input.generatedAt ?? new Date();
  const findings = buildFindingLines(audit, sources);
  const headline = buildHeadline(audit, previous, currency);
  const ratings = buildRatings(audit, findings, currency);
  const actions = buildActions(audit, findings);
  const summary = buildSummary(audit, headline, findings);
  const trend = selectTrend(audit, input.trend ?? []);
  const sorted = sortFindings(audit.findings);
  const sections: ReportSection[] = [
    trendSection(trend, currency),
    creditSection(audit, currency),
    concentrationSection(audit, currency),
    complianceSection(audit, sorted, sources, currency),
    vulnerabilitySection(audit, currency),
    watchlistSection(input, currency),
    dataQualitySection(audit),
    liquiditySection(audit, currency),
  ];
  const footer = [
    `Snapshot ${audit.snapshotDate}${audit.previousSnapshotDate ? `, compared with ${audit.previousSnapshotDate}` : ', no previous tape'}; status ${audit.status}.`,
    `Tape sha256 ${cleanText(audit.input.sha256, 64).slice(0, 16)}…${input.runId ? `; run ${cleanText(input.runId, 80)}` : ''}.`,
    `Generated ${generatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}. Amounts in ${cleanText(currency, 3)}; ratings against the risk-appetite config.`,
  ];
  return {
    subject: buildSubject(audit, previous),
    preheader: `${summary} First: ${actions[0] ?? ''}`,
    verdict: verdictOf(audit),
    overall: audit.ratings.overall,
    snapshotDate: audit.snapshotDate,
    previousSnapshotDate: audit.previousSnapshotDate,
    status: audit.status,
    statusNote: statusNote(audit),
    summary,
    actions,
    headline,
    ratings,
    findings,
    sections,
    reportUrl: input.reportUrl,
    reportUrlNote: input.reportUrl
      ? `The full report is archived in S3${input.reportUrlExpiresAt ? `; the link works until ${formatExpiry(input.reportUrlExpiresAt)}` : ''}.`
      : null,
    watchlistCount: input.watchlist?.length ?? 0,
    watchlistFileName: WATCHLIST_FILE_NAME,
    footer,
  };
}
