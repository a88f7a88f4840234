import {
  type AuditResult,
  CLASSIFICATIONS,
  type CountOutstanding,
  DPD_BUCKETS,
  IFRS9_STAGES,
  MATURITY_BANDS,
  type SegmentShare,
} from '../audit-result.ts';
import { OPTIONAL_COLUMNS, TAPE_COLUMNS } from '../loan.ts';
import {
  cleanText,
  formatAmount,
  formatHhi,
  formatInteger,
  formatPercent,
  formatPointChange,
} from './format.ts';
import { plural, share } from './summary.ts';
import { pastDue30Share } from './trend.ts';
import type {
  BreachRow,
  ChartData,
  FindingLine,
  QuarantineSample,
  ReportSection,
  ReportTable,
  WatchlistRow,
} from './types.ts';

/** The full report's sections other than the trend and compliance (each in its own file). */

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

const MATURITY_LABELS: Record<string, string> = {
  overdue: 'Overdue',
  '0-7': '0–7 days',
  '8-30': '8–30 days',
  '31-90': '31–90 days',
  '91-365': '91–365 days',
  '366+': '366+ days',
};

const PAST_DUE = DPD_BUCKETS.filter((b) => b !== '0');
/** Bars of the industry chart (the table lists every industry). */
const CHART_INDUSTRIES = 12;

const COUNT_COLUMNS = [
  { label: 'Loans', numeric: true },
  { label: 'Outstanding', numeric: true },
  { label: 'Share', numeric: true },
] as const;

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

/** Every finding, most severe first, with its value, threshold and source. */
export function findingsSection(findings: readonly FindingLine[]): ReportSection {
  return {
    id: 'findings',
    title: 'Findings',
    lines: [
      findings.length === 0
        ? 'No findings today.'
        : `${plural(findings.length, 'finding', 'findings')}, most severe first.`,
    ],
    tables:
      findings.length === 0
        ? []
        : [
            {
              name: 'findings',
              caption: 'Findings',
              columns: [
                { label: 'Severity', numeric: false },
                { label: 'Category', numeric: false },
                { label: 'Code', numeric: false },
                { label: 'Finding', numeric: false },
                { label: 'Value', numeric: true },
                { label: 'Threshold', numeric: true },
                { label: 'Source', numeric: false },
              ],
              rows: findings.map((f) => [
                f.severity,
                f.category,
                f.code,
                f.message,
                f.value,
                f.threshold,
                f.source,
              ]),
              // Severity sorts by rank (critical first), not alphabetically.
              values: findings.map((f) => [
                ['critical', 'high', 'medium', 'low', 'info'].indexOf(f.severity),
                null,
                null,
                null,
                null,
                null,
                null,
              ]),
            },
          ],
    charts: [],
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

function bySize(segments: Record<string, SegmentShare>): [string, SegmentShare][] {
  return Object.entries(segments).sort(
    (a, b) => b[1].outstanding - a[1].outstanding || (a[0] < b[0] ? -1 : 1),
  );
}

function segmentTable(
  name: string,
  caption: string,
  segments: Record<string, SegmentShare>,
  currency: string,
): ReportTable {
  const rows = bySize(segments);
  return {
    name,
    caption,
    columns: [{ label: 'Name', numeric: false }, ...COUNT_COLUMNS],
    rows: rows.map(([n, s]) => [
      cleanText(n, 60),
      formatInteger(s.count),
      formatAmount(s.outstanding, currency),
      formatPercent(s.share, 1),
    ]),
    values: rows.map(([, s]) => [null, s.count, s.outstanding, s.share]),
  };
}

/** Concentration: the largest borrowers and every industry, region and product. */
export function concentrationSection(audit: AuditResult, currency: string): ReportSection {
  const c = audit.concentration;
  const industries = bySize(c.byIndustry).slice(0, CHART_INDUSTRIES);
  return {
    id: 'concentration',
    title: 'Concentration',
    lines: [
      `Largest borrower ${formatPercent(c.largestBorrowerShare)} of outstanding; top 10 borrowers ${formatPercent(c.top10BorrowerShare)}; borrower HHI ${formatHhi(c.borrowerHhi)}.`,
      `Industry HHI ${formatHhi(c.industryHhi)} over ${Object.keys(c.byIndustry).length} industries; region HHI ${formatHhi(c.regionHhi)} over ${Object.keys(c.byRegion).length} regions; ${Object.keys(c.byProduct).length} products.`,
    ],
    tables: [
      {
        name: 'borrowers',
        caption: 'Largest borrowers (masked references)',
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
        values: c.topBorrowers.map((b) => [null, b.exposure, b.share, b.loanCount]),
      },
      segmentTable('industries', 'Industries', c.byIndustry, currency),
      segmentTable('regions', 'Regions', c.byRegion, currency),
      segmentTable('products', 'Products', c.byProduct, currency),
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

/** The loans behind each breached rule, largest outstanding first within a rule. */
export function breachesSection(
  audit: AuditResult,
  rows: readonly BreachRow[],
  perRule: number | undefined,
  currency: string,
): ReportSection {
  const shown = new Map<string, number>();
  for (const r of rows) shown.set(r.ruleCode, (shown.get(r.ruleCode) ?? 0) + 1);
  const lines: string[] = [];
  for (const [code, rule] of Object.entries(audit.compliance.rules)) {
    if (rule.severity !== 'breach' || rule.loans === 0) continue;
    const n = shown.get(code) ?? 0;
    if (n === 0) {
      lines.push(
        `${cleanText(code, 60)}: ${plural(rule.loans, 'loan', 'loans')}, not listed (the breach index had none of them).`,
      );
      continue;
    }
    lines.push(
      n >= rule.loans
        ? `${cleanText(code, 60)}: all ${plural(rule.loans, 'loan', 'loans')} below.`
        : `${cleanText(code, 60)}: the ${formatInteger(n)} largest of ${plural(rule.loans, 'loan', 'loans')} below${perRule !== undefined ? ` (at most ${formatInteger(perRule)} a rule)` : ''}.`,
    );
  }
  if (lines.length === 0) lines.push('No loan is in breach of a rule today.');
  return {
    id: 'breaches',
    title: 'Loans in breach',
    lines,
    tables:
      rows.length === 0
        ? []
        : [
            {
              name: 'breaches',
              caption: 'Loans behind each breached rule (masked references)',
              columns: [
                { label: 'Rule', numeric: false },
                { label: 'Loan', numeric: false },
                { label: 'Borrower', numeric: false },
                { label: 'Grade', numeric: false },
                { label: 'Outstanding', numeric: true },
              ],
              rows: rows.map((r) => [
                cleanText(r.ruleCode, 60),
                cleanText(r.loanRef, 24),
                cleanText(r.borrowerRef, 24),
                cleanText(r.grade, 8),
                formatAmount(r.outstanding, currency),
              ]),
              values: rows.map((r) => [null, null, null, null, r.outstanding]),
            },
          ],
    charts: [],
  };
}

/** Borrower vulnerability flags. */
export function vulnerabilitySection(audit: AuditResult, currency: string): ReportSection {
  const v = audit.vulnerability;
  const total = audit.portfolio.totalOutstanding;
  const flags = Object.entries(v.flags).sort((a, b) => b[1].outstanding - a[1].outstanding);
  return {
    id: 'vulnerability',
    title: 'Borrower vulnerability',
    lines: [
      `${plural(v.anyFlag.loans, 'loan', 'loans')} (${formatAmount(v.anyFlag.outstanding, currency)}, ${formatPercent(share(v.anyFlag.outstanding, total))} of outstanding) carry at least one flag.`,
    ],
    tables: [
      {
        name: 'flags',
        caption: 'Flags',
        columns: [{ label: 'Flag', numeric: false }, ...COUNT_COLUMNS],
        rows: flags.map(([code, f]) => [
          cleanText(code, 40),
          formatInteger(f.loans),
          formatAmount(f.outstanding, currency),
          formatPercent(share(f.outstanding, total), 1),
        ]),
        values: flags.map(([, f]) => [null, f.loans, f.outstanding, share(f.outstanding, total)]),
      },
    ],
    charts: [],
  };
}

/** The whole watchlist, riskiest first. */
export function watchlistSection(
  rows: readonly WatchlistRow[],
  total: number,
  fileName: string,
  currency: string,
): ReportSection {
  const lines =
    rows.length === 0
      ? ['No loan is on the watchlist today.']
      : [
          `${plural(total, 'loan is', 'loans are')} on the watchlist (grade D or E, or a breached rule)${total > rows.length ? `; the ${formatInteger(rows.length)} riskiest are` : ', all'} listed below, riskiest first (masked loan references); the email attaches them as ${fileName}.`,
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
              name: 'watchlist',
              caption: 'Watchlist',
              columns: [
                { label: 'Rank', numeric: true },
                { label: 'Loan', numeric: false },
                { label: 'Grade', numeric: false },
                { label: 'Score', numeric: true },
                { label: 'PD', numeric: true },
                { label: 'DPD', numeric: false },
                { label: 'Class', numeric: false },
                { label: 'Outstanding', numeric: true },
                { label: 'Product', numeric: false },
                { label: 'Region', numeric: false },
                { label: 'Industry', numeric: false },
                { label: 'Flags', numeric: false },
                { label: 'Reasons', numeric: false },
              ],
              rows: rows.map((r, i) => [
                formatInteger(i + 1),
                cleanText(r.loanRef, 24),
                cleanText(r.grade, 8),
                r.score === null ? 'n/a' : formatInteger(r.score),
                formatPercent(r.pd, 1),
                r.dpdBucket,
                CLASSIFICATION_LABELS[r.classification] ?? cleanText(r.classification, 20),
                formatAmount(r.outstanding, currency),
                cleanText(r.product, 30),
                r.region === null ? '—' : cleanText(r.region, 40),
                r.industry === null ? '—' : cleanText(r.industry, 40),
                r.flags.length === 0 ? '—' : r.flags.map((f) => cleanText(f, 40)).join(', '),
                r.reasons.length === 0 ? '—' : r.reasons.map((x) => cleanText(x, 80)).join('; '),
              ]),
              values: rows.map((r, i) => [
                i + 1,
                null,
                null,
                r.score,
                r.pd,
                DPD_BUCKETS.indexOf(r.dpdBucket),
                CLASSIFICATIONS.indexOf(r.classification),
                r.outstanding,
                null,
                null,
                null,
                null,
                null,
              ]),
            },
          ],
    charts: [],
  };
}

/** Label of the rows that could not be split into columns (bad JSON, broken quoting). */
export const WHOLE_ROW = '(row)';

/** Data quality: intake counts, drift, and each column's profile. */
export function dataQualitySection(
  audit: AuditResult,
  quarantine: QuarantineSample | undefined,
): ReportSection {
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
  const unknown = audit.input.unknownColumns ?? [];
  if (unknown.length > 0) {
    lines.push(
      `Columns in the tape that the audit does not read (ignored): ${unknown.map((c) => cleanText(c, 40)).join(', ')}.`,
    );
  }
  const tables: ReportTable[] = [];
  const codes = Object.entries(audit.input.quarantineByCode).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) {
    tables.push({
      name: 'quarantine-reasons',
      caption: 'Quarantined rows by reason',
      columns: [
        { label: 'Reason', numeric: false },
        { label: 'Rows', numeric: true },
        { label: 'Share of rows read', numeric: true },
      ],
      rows: codes.map(([code, n]) => [
        cleanText(code, 40),
        formatInteger(n),
        formatPercent(share(n, d.rowsRead), 3),
      ]),
      values: codes.map(([, n]) => [null, n, share(n, d.rowsRead)]),
    });
  }
  const byColumn = quarantine?.byColumn ?? {};
  const profile = [...TAPE_COLUMNS, ...(byColumn[WHOLE_ROW] ? [WHOLE_ROW] : [])].map((column) => {
    const optional = (OPTIONAL_COLUMNS as readonly string[]).includes(column);
    const q = byColumn[column];
    const empty = optional ? (d.missingRate[column] ?? null) : column === WHOLE_ROW ? null : 0;
    return { column, optional, empty, q };
  });
  tables.push({
    name: 'columns',
    caption: 'Each column of the tape',
    columns: [
      { label: 'Column', numeric: false },
      { label: 'Kind', numeric: false },
      { label: 'Empty in valid rows', numeric: true },
      { label: 'Rows quarantined', numeric: true },
      { label: 'Reasons', numeric: false },
    ],
    rows: profile.map((p) => [
      p.column,
      p.column === WHOLE_ROW ? 'whole row' : p.optional ? 'optional' : 'required',
      p.empty === null ? 'n/a' : formatPercent(p.empty, 1),
      quarantine === undefined ? 'n/a' : formatInteger(p.q?.rows ?? 0),
      p.q === undefined
        ? '—'
        : Object.entries(p.q.codes)
            .sort((a, b) => b[1] - a[1])
            .map(([code, n]) => `${cleanText(code, 40)} ${formatInteger(n)}`)
            .join(', '),
    ]),
    values: profile.map((p) => [
      null,
      null,
      p.empty,
      quarantine === undefined ? null : (p.q?.rows ?? 0),
      null,
    ]),
    note:
      quarantine === undefined
        ? 'Required columns are never empty in a valid row (an empty one quarantines the row).'
        : `Required columns are never empty in a valid row (an empty one quarantines the row). Rows quarantined: rows of ${quarantine.fileName} whose reasons name the column (a row may name several).`,
  });
  return { id: 'data-quality', title: 'Data quality', lines, tables, charts: [] };
}

/** The quarantined rows, their ids masked, with where the complete list is. */
export function quarantineSection(sample: QuarantineSample | undefined): ReportSection {
  if (sample === undefined || sample.total === 0) {
    return {
      id: 'quarantine',
      title: 'Quarantined rows',
      lines: [
        sample === undefined
          ? 'The quarantined rows were not available to this report.'
          : 'No row was quarantined.',
      ],
      tables: [],
      charts: [],
    };
  }
  const withheld = sample.rows.filter((r) => r.raw === null).length;
  const lines = [
    sample.total > sample.rows.length
      ? `The first ${formatInteger(sample.rows.length)} of ${plural(sample.total, 'quarantined row', 'quarantined rows')} (at most ${formatInteger(sample.limit)} are shown here).`
      : `All ${plural(sample.total, 'quarantined row', 'quarantined rows')}.`,
    `Loan and borrower ids in the raw text are masked (loan references as elsewhere in the report, borrower references as keyed hashes)${withheld > 0 ? `; the raw text of ${plural(withheld, 'row is', 'rows are')} withheld because its ids could not be located` : ''}. The complete list with the raw rows is ${sample.fileName}${sample.location ? ` (${sample.location})` : ''}.`,
  ];
  return {
    id: 'quarantine',
    title: 'Quarantined rows',
    lines,
    tables: [
      {
        name: 'quarantine',
        caption: 'Quarantined rows',
        columns: [
          { label: 'Line', numeric: true },
          { label: 'Part', numeric: false },
          { label: 'Reasons', numeric: false },
          { label: 'Detail', numeric: false },
          { label: 'Raw text (ids masked)', numeric: false },
        ],
        rows: sample.rows.map((r) => [
          formatInteger(r.line),
          cleanText(r.part, 60),
          r.codes.map((c) => cleanText(c, 40)).join(', '),
          cleanText(r.detail, 240),
          r.raw === null ? '(withheld)' : cleanText(r.raw, 600),
        ]),
        values: sample.rows.map((r) => [r.line, null, null, null, null]),
      },
    ],
    charts: [],
  };
}

/** The maturity ladder. */
export function liquiditySection(audit: AuditResult, currency: string): ReportSection {
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
        name: 'maturity',
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
        values: MATURITY_BANDS.map((b) => [null, ladder[b], share(ladder[b], total)]),
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
