import type {
  AuditResult,
  AuditStatus,
  Classification,
  DpdBucket,
  FindingSeverity,
  Rating,
  RiskCategory,
} from '../audit-result.ts';
import type { RunTrendPoint } from './trend.ts';

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

/** One loan in breach of one rule, as the full report lists it (masked references only). */
export interface BreachRow {
  ruleCode: string;
  loanRef: string;
  borrowerRef: string;
  grade: string;
  outstanding: number;
}

/** One quarantined row as the full report shows it: its raw text with the ids masked, or withheld. */
export interface QuarantineRow {
  line: number;
  /** The part file's name (not its whole key). */
  part: string;
  codes: readonly string[];
  detail: string;
  /** The raw text with loan and borrower ids masked; null when the ids could not be located in it. */
  raw: string | null;
}

/** A column's quarantine count: rows whose reasons name the column, by reason code. */
export interface ColumnQuarantine {
  rows: number;
  codes: Readonly<Record<string, number>>;
}

/** The quarantined rows the full report shows: the first rows of quarantine.csv, counts over all of it. */
export interface QuarantineSample {
  rows: readonly QuarantineRow[];
  /** Rows in quarantine.csv. */
  total: number;
  /** Most rows the report shows. */
  limit: number;
  /** Per tape column (canonical name), the rows naming it; `(row)` for rows that could not be split. */
  byColumn: Readonly<Record<string, ColumnQuarantine>>;
  /** File name of the complete list beside the report, `quarantine.csv`. */
  fileName: string;
  /** Where the complete list is kept, e.g. its object key in the audit bucket. */
  location: string | null;
}

/** Everything the reports are built from (the email reads the summary of it); they read nothing else. */
export interface ReportInput {
  audit: AuditResult;
  /** The previous date's audit, for day-over-day change; null or absent on a first run. */
  previous?: AuditResult | null;
  /** Recent runs (any order, today included or not, failed runs too); the last 30 by date are shown. */
  trend?: readonly RunTrendPoint[];
  /** The watchlist, riskiest first: the email attaches it, the full report lists it all. */
  watchlist?: readonly WatchlistRow[];
  /** Loans that qualified for the watchlist before it was cut to its limit (defaults to its length). */
  watchlistTotal?: number;
  /** The loans behind each breached rule, largest outstanding first within a rule (full report). */
  breaches?: readonly BreachRow[];
  /** Most loans per rule the breach list holds (stated in the full report). */
  breachesPerRule?: number;
  /** The quarantined rows (full report). */
  quarantine?: QuarantineSample;
  /** Link to the full report (signed or presigned), or null when there is none. */
  reportUrl: string | null;
  /** When the link stops working (ISO timestamp), shown next to it. */
  reportUrlExpiresAt?: string;
  /** Source of each policy rule or threshold, keyed by rule or finding code. */
  sources?: Readonly<Record<string, string>>;
  /** The rule pack the compliance section names. */
  rulePack?: { name: string; version: string } | null;
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

/** A table of display strings. */
export interface ReportTable {
  /** The table's name: in the full report it can be sorted and filtered (`data-table` hook). */
  name: string;
  caption: string;
  columns: readonly ReportColumn[];
  rows: readonly (readonly string[])[];
  /** Sort keys of numeric columns, parallel to rows (null where a cell has no number). */
  values?: readonly (readonly (number | null)[])[];
  /** A sentence under the table, e.g. how many rows of how many it shows. */
  note?: string;
}

/** One bar of a bar chart. */
export interface ChartBar {
  label: string;
  value: number;
  highlight: boolean;
}

/** How a chart's values read: fractions, amounts, counts or indices. */
export type ChartUnit = 'share' | 'amount' | 'count' | 'index';

/** The data of one chart; the adapters draw it (a PNG for the email, SVG in the full report). */
export type ChartData =
  | {
      kind: 'trend';
      id: string;
      title: string;
      alt: string;
      unit: ChartUnit;
      /** A null value is a day without a finished run: the line breaks there. */
      points: readonly { date: string; value: number | null; rating: Rating | null }[];
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

/** A chart rendered to PNG, ready to attach inline under its content id. */
export interface ChartImage {
  id: string;
  cid: string;
  fileName: string;
  alt: string;
  title: string;
  png: Uint8Array;
  /** Display width in CSS pixels; the PNG holds `CHART_SCALE` times as many. */
  width: number;
  height: number;
}

/** A file attached to the message (not shown inline). */
export interface MailAttachment {
  fileName: string;
  contentType: string;
  content: string | Uint8Array;
}

/** A section of the full report. */
export interface ReportSection {
  id: string;
  title: string;
  lines: readonly string[];
  tables: readonly ReportTable[];
  charts: readonly ChartData[];
}

/** The label in the subject's brackets. */
export type Verdict = 'RED' | 'AMBER' | 'GREEN' | 'FAILED';

/** What the email and the full report both open with and close on: the verdict, the summary (summary.ts) and the footer. */
export interface ReportOpening {
  verdict: Verdict;
  overall: Rating;
  snapshotDate: string;
  status: AuditStatus;
  statusNote: string | null;
  summary: string;
  /** What to do first, most urgent first (at most three). */
  actions: readonly string[];
  headline: readonly HeadlineFigure[];
  ratings: readonly RatingLine[];
  footer: readonly string[];
}

/** The email as display strings: the one source for its subject, HTML and text part. */
export interface ReportModel extends ReportOpening {
  subject: string;
  /** The first line a mail client previews. */
  preheader: string;
  previousSnapshotDate: string | null;
  /** The most severe findings (at most EMAIL_FINDINGS). */
  findings: readonly FindingLine[];
  /** All findings of the audit; those beyond `findings` are in the full report. */
  findingsTotal: number;
  /** The trend in one sentence, and the NPL chart. */
  trend: { line: string; chart: ChartData | null };
  reportUrl: string | null;
  reportUrlNote: string | null;
  watchlistCount: number;
  watchlistFileName: string;
}

/** The full report as display strings: the summary, then every section. */
export interface FullReportModel extends ReportOpening {
  title: string;
  sections: readonly ReportSection[];
}
