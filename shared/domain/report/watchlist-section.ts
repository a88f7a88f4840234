import { CLASSIFICATIONS, DPD_BUCKETS } from '../audit-result.ts';
import { cleanText, formatAmount, formatInteger, formatPercent, plural } from './format.ts';
import { CLASSIFICATION_LABELS } from './section-parts.ts';
import type { ReportSection, WatchlistRow } from './types.ts';

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
