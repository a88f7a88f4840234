import type { AuditResult, SegmentShare } from '../audit-result.ts';
import { cleanText, formatAmount, formatHhi, formatInteger, formatPercent } from './format.ts';
import { COUNT_COLUMNS } from './section-parts.ts';
import type { ReportSection, ReportTable } from './types.ts';

/** Bars of the industry chart (the table lists every industry). */
const CHART_INDUSTRIES = 12;

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
