/**
 * The metrics a risk-appetite threshold may name (policies/risk-appetite.yaml): for each its name,
 * category, label, whether it is a share, and how its value is read from the audit's figures. The
 * appetite's validation, the ratings and their findings all read this one registry.
 */
import type {
  ConcentrationSection,
  DataQualitySection,
  DriftSection,
  PortfolioSection,
  RiskCategory,
} from '../audit-result.ts';

/** How a metric reads: a share of a whole (shown as a percentage), a count, or an index (HHI, PSI). */
export type MetricUnit = 'share' | 'count' | 'index';

/**
 * The figures the metrics are read from: parts of the audit's sections, and the outstanding
 * amounts in fen (whole fen plus the fraction beyond them) that the engine sums exactly, so that
 * every share divides exact sums rather than rounded figures.
 */
export interface AppetiteFigures {
  portfolio: Pick<PortfolioSection, 'nplRatio' | 'expectedLoss' | 'totalOutstanding'>;
  concentration: Pick<
    ConcentrationSection,
    'borrowerHhi' | 'largestBorrowerShare' | 'top10BorrowerShare' | 'industryHhi' | 'regionHhi'
  >;
  dataQuality: Pick<
    DataQualitySection,
    'rowsRead' | 'quarantineRate' | 'duplicateLoanIds' | 'rowCountChange'
  >;
  psi: DriftSection['psi'];
  /** In-force breach rules with loans, and the distinct loans and borrowers they hit. */
  breaches: { rules: number; loans: number; borrowers: number };
  /** Total outstanding in fen: the whole of every share of outstanding. */
  totalFen: number;
  /** Outstanding in fen of the parts of the book the shares measure. */
  fen: {
    stage2: number;
    stage3: number;
    /** Outstanding of in-force watch-rule hits (a loan hitting two watch rules counts twice). */
    watch: number;
    anyFlag: number;
    pastMaturity: number;
    /** Maturing within 30 days (the 0-7 and 8-30 bands). */
    maturing30: number;
    /** Maturing after a year (the 366+ band). */
    longDated: number;
    partnerFunded: number;
  };
  /** Outstanding in fen carrying one vulnerability flag; undefined for a flag the pack does not enable. */
  flagFen: (code: string) => number | undefined;
}

/** One metric a threshold may name. */
export interface AppetiteMetric {
  name: string;
  category: RiskCategory;
  /** Readable name for finding messages. */
  label: string;
  unit: MetricUnit;
  /** The metric's value, or null when it cannot be computed (no loans, no previous tape). */
  value: (figures: AppetiteFigures) => number | null;
}

/** `part / whole`, or null for an empty whole. */
const shareOf = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

const ofOutstanding =
  (part: keyof AppetiteFigures['fen']) =>
  (f: AppetiteFigures): number | null =>
    shareOf(f.fen[part], f.totalFen);

const metric = (
  name: string,
  category: RiskCategory,
  label: string,
  unit: MetricUnit,
  value: AppetiteMetric['value'],
): AppetiteMetric => ({ name, category, label, unit, value });

/** Every fixed metric, by category in the order of RISK_CATEGORIES, as the appetite's error messages list them. */
export const APPETITE_METRICS: readonly AppetiteMetric[] = [
  metric('nplRatio', 'credit', 'NPL ratio', 'share', (f) => f.portfolio.nplRatio),
  metric('expectedLossRate', 'credit', 'expected loss rate', 'share', (f) =>
    f.totalFen === 0 ? null : f.portfolio.expectedLoss / f.portfolio.totalOutstanding,
  ),
  metric('stage2Share', 'credit', 'IFRS 9 stage 2 share', 'share', ofOutstanding('stage2')),
  metric('stage3Share', 'credit', 'IFRS 9 stage 3 share', 'share', ofOutstanding('stage3')),
  metric('breachRules', 'regulatory', 'breached rules', 'count', (f) => f.breaches.rules),
  metric('breachLoans', 'regulatory', 'loans in breach', 'count', (f) => f.breaches.loans),
  metric('breachBorrowers', 'regulatory', 'borrowers in breach', 'count', (f) => f.breaches.borrowers),
  metric(
    'watchOutstandingShare',
    'regulatory',
    'outstanding on watch rules',
    'share',
    ofOutstanding('watch'),
  ),
  metric('borrowerHhi', 'concentration', 'borrower HHI', 'index', (f) => f.concentration.borrowerHhi),
  metric(
    'largestBorrowerShare',
    'concentration',
    'largest borrower share',
    'share',
    (f) => f.concentration.largestBorrowerShare,
  ),
  metric(
    'top10BorrowerShare',
    'concentration',
    'top-10 borrower share',
    'share',
    (f) => f.concentration.top10BorrowerShare,
  ),
  metric('industryHhi', 'concentration', 'industry HHI', 'index', (f) => f.concentration.industryHhi),
  metric('regionHhi', 'concentration', 'region HHI', 'index', (f) => f.concentration.regionHhi),
  metric(
    'anyFlagShare',
    'vulnerability',
    'outstanding with a vulnerability flag',
    'share',
    ofOutstanding('anyFlag'),
  ),
  metric('quarantineRate', 'technical', 'quarantine rate', 'share', (f) =>
    f.dataQuality.rowsRead === 0 ? null : f.dataQuality.quarantineRate,
  ),
  metric(
    'duplicateLoanIds',
    'technical',
    'duplicate loan ids',
    'count',
    (f) => f.dataQuality.duplicateLoanIds,
  ),
  metric('psiCreditScore', 'technical', 'credit score PSI', 'index', (f) => f.psi?.creditScore ?? null),
  metric('psiProduct', 'technical', 'product PSI', 'index', (f) => f.psi?.product ?? null),
  metric('psiDpdBucket', 'technical', 'dpd bucket PSI', 'index', (f) => f.psi?.dpdBucket ?? null),
  metric('rowCountChangeAbs', 'technical', 'day-on-day change of valid rows', 'share', (f) =>
    f.dataQuality.rowCountChange === null ? null : Math.abs(f.dataQuality.rowCountChange),
  ),
  metric(
    'pastMaturityShare',
    'liquidity',
    'outstanding past maturity',
    'share',
    ofOutstanding('pastMaturity'),
  ),
  metric(
    'maturing30Share',
    'liquidity',
    'outstanding maturing within 30 days',
    'share',
    ofOutstanding('maturing30'),
  ),
  metric(
    'longDatedShare',
    'liquidity',
    'outstanding maturing after a year',
    'share',
    ofOutstanding('longDated'),
  ),
  metric(
    'partnerFundedShare',
    'liquidity',
    'partner-funded share of outstanding',
    'share',
    ofOutstanding('partnerFunded'),
  ),
];

/** The metric family of one vulnerability flag's share of outstanding: `flagShare:<FLAG_CODE>`. */
export const FLAG_SHARE_PREFIX = 'flagShare:';
/** How the flag family is written where the metrics are listed. */
export const FLAG_SHARE_PATTERN = `${FLAG_SHARE_PREFIX}<FLAG_CODE>`;
const FLAG_SHARE = /^flagShare:([A-Z][A-Z0-9_]*)$/;

const BY_NAME = new Map(APPETITE_METRICS.map((m) => [m.name, m]));

function flagShareMetric(name: string, code: string): AppetiteMetric {
  return {
    name,
    category: 'vulnerability',
    label: `outstanding flagged ${code}`,
    unit: 'share',
    value: (f) => {
      const fen = f.flagFen(code);
      return fen === undefined ? null : shareOf(fen, f.totalFen);
    },
  };
}

/** The metric a threshold names (a fixed one, or `flagShare:<FLAG_CODE>`), or undefined for an unknown name. */
export function appetiteMetric(name: string): AppetiteMetric | undefined {
  const fixed = BY_NAME.get(name);
  if (fixed !== undefined) return fixed;
  const flag = FLAG_SHARE.exec(name);
  return flag === null ? undefined : flagShareMetric(name, flag[1]!);
}

/** The metric names a category's thresholds may use, as written in the appetite (the flag family as its pattern). */
export function appetiteMetricNames(category: RiskCategory): string[] {
  const names = APPETITE_METRICS.filter((m) => m.category === category).map((m) => m.name);
  return category === 'vulnerability' ? [...names, FLAG_SHARE_PATTERN] : names;
}
