import { type AuditResult, MATURITY_BANDS } from '../audit-result.ts';
import { formatAmount, formatPercent, share } from './format.ts';
import type { ReportSection } from './types.ts';

const MATURITY_LABELS: Record<string, string> = {
  overdue: 'Overdue',
  '0-7': '0–7 days',
  '8-30': '8–30 days',
  '31-90': '31–90 days',
  '91-365': '91–365 days',
  '366+': '366+ days',
};

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
