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

/** Every fixed metric, by category in the order of RISK_CATEGORIES, as the appetite's error messages list them. */
export const APPETITE_METRICS: readonly AppetiteMetric[] = [
  {
    name: 'nplRatio',
    category: 'credit',
    label: 'NPL ratio',
    unit: 'share',
    value: (f) => f.portfolio.nplRatio,
  },
  {
    name: 'expectedLossRate',
    category: 'credit',
    label: 'expected loss rate',
    unit: 'share',
    value: (f) => (f.totalFen === 0 ? null : f.portfolio.expectedLoss / f.portfolio.totalOutstanding),
  },
  {
    name: 'stage2Share',
    category: 'credit',
    label: 'IFRS 9 stage 2 share',
    unit: 'share',
    value: ofOutstanding('stage2'),
  },
  {
    name: 'stage3Share',
    category: 'credit',
    label: 'IFRS 9 stage 3 share',
    unit: 'share',
    value: ofOutstanding('stage3'),
  },
  {
    name: 'breachRules',
    category: 'regulatory',
    label: 'breached rules',
    unit: 'count',
    value: (f) => f.breaches.rules,
  },
  {
    name: 'breachLoans',
    category: 'regulatory',
    label: 'loans in breach',
    unit: 'count',
    value: (f) => f.breaches.loans,
  },
  {
    name: 'breachBorrowers',
    category: 'regulatory',
    label: 'borrowers in breach',
    unit: 'count',
    value: (f) => f.breaches.borrowers,
  },
  {
    name: 'watchOutstandingShare',
    category: 'regulatory',
    label: 'outstanding on watch rules',
    unit: 'share',
    value: ofOutstanding('watch'),
  },
  {
    name: 'borrowerHhi',
    category: 'concentration',
    label: 'borrower HHI',
    unit: 'index',
    value: (f) => f.concentration.borrowerHhi,
  },
  {
    name: 'largestBorrowerShare',
    category: 'concentration',
    label: 'largest borrower share',
    unit: 'share',
    value: (f) => f.concentration.largestBorrowerShare,
  },
  {
    name: 'top10BorrowerShare',
    category: 'concentration',
    label: 'top-10 borrower share',
    unit: 'share',
    value: (f) => f.concentration.top10BorrowerShare,
  },
  {
    name: 'industryHhi',
    category: 'concentration',
    label: 'industry HHI',
    unit: 'index',
    value: (f) => f.concentration.industryHhi,
  },
  {
    name: 'regionHhi',
    category: 'concentration',
    label: 'region HHI',
    unit: 'index',
    value: (f) => f.concentration.regionHhi,
  },
  {
    name: 'anyFlagShare',
    category: 'vulnerability',
    label: 'outstanding with a vulnerability flag',
    unit: 'share',
    value: ofOutstanding('anyFlag'),
  },
  {
    name: 'quarantineRate',
    category: 'technical',
    label: 'quarantine rate',
    unit: 'share',
    value: (f) => (f.dataQuality.rowsRead === 0 ? null : f.dataQuality.quarantineRate),
  },
  {
    name: 'duplicateLoanIds',
    category: 'technical',
    label: 'duplicate loan ids',
    unit: 'count',
    value: (f) => f.dataQuality.duplicateLoanIds,
  },
  {
    name: 'psiCreditScore',
    category: 'technical',
    label: 'credit score PSI',
    unit: 'index',
    value: (f) => f.psi?.creditScore ?? null,
  },
  {
    name: 'psiProduct',
    category: 'technical',
    label: 'product PSI',
    unit: 'index',
    value: (f) => f.psi?.product ?? null,
  },
  {
    name: 'psiDpdBucket',
    category: 'technical',
    label: 'dpd bucket PSI',
    unit: 'index',
    value: (f) => f.psi?.dpdBucket ?? null,
  },
  {
    name: 'rowCountChangeAbs',
    category: 'technical',
    label: 'day-on-day change of valid rows',
    unit: 'share',
    value: (f) => (f.dataQuality.rowCountChange === null ? null : Math.abs(f.dataQuality.rowCountChange)),
  },
  {
    name: 'pastMaturityShare',
    category: 'liquidity',
    label: 'outstanding past maturity',
    unit: 'share',
    value: ofOutstanding('pastMaturity'),
  },
  {
    name: 'maturing30Share',
    category: 'liquidity',
    label: 'outstanding maturing within 30 days',
    unit: 'share',
    value: ofOutstanding('maturing30'),
  },
  {
    name: 'longDatedShare',
    category: 'liquidity',
    label: 'outstanding maturing after a year',
    unit: 'share',
    value: ofOutstanding('longDated'),
  },
  {
    name: 'partnerFundedShare',
    category: 'liquidity',
    label: 'partner-funded share of outstanding',
    unit: 'share',
    value: ofOutstanding('partnerFunded'),
  },
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
