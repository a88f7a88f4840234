import type {
  AuditResult,
  AuditStatus,
  Classification,
  DpdBucket,
  FindingSeverity,
  Rating,
  RiskCategory,
} from '../audit-result.ts';

/** One past run as the run store keeps it, for the 30-run trend. */
export interface RunTrendPoint {
  snapshotDate: string;
  status: AuditStatus;
  nplRatio: number | null;
  totalOutstanding: number;
  expectedLoss: number;
  overall: Rating;
  breaches: number;
}

/**
 * One loan of the watchlist attachment. It carries a masked loan reference and no raw borrower
 * id, income or age: only these fields ever reach the CSV, whatever else an object holds.
 */
export interface WatchlistRow {
  loanRef: string;
  grade: string;
  score: number | null;
  pd: number;
  dpdBucket: DpdBucket;
  classification: Classification;
  outstanding: number;
  product: string;
  region: string | null;
  industry: string | null;
  flags: readonly string[];
  reasons: readonly string[];
}

/** Everything the emailed report is built from; the report reads nothing else. */
export interface ReportInput {
  audit: AuditResult;
  /** The previous date's audit, for day-over-day change; null or absent on a first run. */
  previous?: AuditResult | null;
  /** Recent runs (any order, today included or not); the last 30 by date are charted. */
  trend?: readonly RunTrendPoint[];
  watchlist?: readonly WatchlistRow[];
  /** Loans that qualified for the watchlist before it was cut to its limit (defaults to its length). */
  watchlistTotal?: number;
  /** Presigned link to the full report archived in S3, or null when there is none. */
  reportUrl: string | null;
  /** When the link stops working (ISO timestamp), shown next to it. */
  reportUrlExpiresAt?: string;
  /** Source of each policy rule or threshold, keyed by rule or finding code. */
  sources?: Readonly<Record<string, string>>;
  /** ISO 4217 code of the tape's amounts. @default 'CNY' */
  currency?: string;
  runId?: string;
  from: string;
  to: readonly string[];
  /** Fixed in tests so the message is reproducible. @default new Date() */
  generatedAt?: Date;
}

/** What the reader should feel about a change: worse, better, or neither. */
export type Tone = 'bad' | 'good' | 'neutral';

/** A headline figure with its day-over-day change. */
export interface HeadlineFigure {
  label: string;
  value: string;
  /** Null on a first run, or when the change is undefined. */
  change: string | null;
  tone: Tone;
}

/** One rating with the one-line reason behind it. */
export interface RatingLine {
  category: RiskCategory | 'overall';
  label: string;
  rating: Rating;
  reason: string;
}

/** A finding ready to print: value, threshold and source as display strings. */
export interface FindingLine {
  severity: FindingSeverity;
  category: RiskCategory;
  code: string;
  message: string;
  value: string;
  threshold: string;
  source: string;
}

/** A table column; numeric columns are right-aligned. */
export interface ReportColumn {
  label: string;
  numeric: boolean;
}

/** A table of display strings, shared by the HTML and the text part. */
export interface ReportTable {
  caption: string;
  columns: readonly ReportColumn[];
  rows: readonly (readonly string[])[];
  /** Shown only in the text part: the data behind a chart, for readers without images. */
  textOnly?: boolean;
  /** Too wide for a phone as a grid: the HTML shows each row as a small card instead. */
  stacked?: boolean;
}

/** One bar of a bar chart. */
export interface ChartBar {
  label: string;
  value: number;
  highlight: boolean;
}

/** The data of one chart; the adapter turns it into a PNG. */
export type ChartData =
  | {
      kind: 'trend';
      id: string;
      title: string;
      alt: string;
      points: readonly { date: string; value: number; rating: Rating }[];
    }
  | {
      kind: 'bars' | 'hbars';
      id: string;
      title: string;
      alt: string;
      unit: 'amount' | 'share';
      bars: readonly ChartBar[];
    }
  | {
      kind: 'heatmap';
      id: string;
      title: string;
      alt: string;
      rows: readonly string[];
      columns: readonly string[];
      cells: readonly { row: string; column: string; value: number }[];
    };

/** A block of detail below the summary. */
export interface ReportSection {
  id: string;
  title: string;
  lines: readonly string[];
  tables: readonly ReportTable[];
  charts: readonly ChartData[];
}

/** The label in the subject's brackets. */
export type Verdict = 'RED' | 'AMBER' | 'GREEN' | 'FAILED';

/** The whole report as display strings: the one source for the subject, HTML and text. */
export interface ReportModel {
  subject: string;
  /** The first line a mail client previews. */
  preheader: string;
  verdict: Verdict;
  overall: Rating;
  snapshotDate: string;
  previousSnapshotDate: string | null;
  status: AuditStatus;
  statusNote: string | null;
  summary: string;
  /** What to do first, most urgent first (at most three). */
  actions: readonly string[];
  headline: readonly HeadlineFigure[];
  ratings: readonly RatingLine[];
  findings: readonly FindingLine[];
  sections: readonly ReportSection[];
  reportUrl: string | null;
  reportUrlNote: string | null;
  watchlistCount: number;
  watchlistFileName: string;
  footer: readonly string[];
}
