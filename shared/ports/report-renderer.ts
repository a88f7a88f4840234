import type { FailureNoticeInput } from '../domain/report/failure.ts';
import type {
  ChartImage,
  FullReportModel,
  MailAttachment,
  QuarantineSample,
  ReportInput,
  ReportModel,
} from '../domain/report/types.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import type { ArtifactStore } from './artifact-store.ts';
import type { SecretSource } from './secret-source.ts';
import type { TapeSource } from './tape-source.ts';

/** A finished report: the parts, the raw message and what it carries. */
export interface BuiltReport {
  subject: string;
  /** Email HTML; charts are referenced as `cid:` URLs. */
  html: string;
  text: string;
  /** The raw MIME message, ready for SES and for `report.eml`. */
  eml: Uint8Array;
  /** The file attachments (the watchlist CSV). */
  attachments: MailAttachment[];
  /** The inline chart images the HTML references by cid. */
  images: ChartImage[];
  model: ReportModel;
}

/** A finished failure notice. */
export interface BuiltNotice {
  subject: string;
  html: string;
  text: string;
  eml: Uint8Array;
}

/** The full report: one self-contained HTML page. */
export interface BuiltFullReport {
  html: string;
  model: FullReportModel;
}

/** What writing the quarantine sample reads: the quarantine file, its tape parts' headers, the mapping, the key. */
export interface QuarantineSampleSources {
  artifacts: Pick<ArtifactStore, 'stream' | 'put'>;
  tapes: Pick<TapeSource, 'open'>;
  mapping(): Promise<ColumnMapping | undefined>;
  secrets: Pick<SecretSource, 'current'>;
}

/**
 * Turns the report's input into finished messages and pages: the email with its charts and
 * attachments, the full report, the failure notice.
 */
export interface ReportRenderer {
  /** The email: subject, HTML, text part, inline charts, the watchlist CSV and the raw MIME message. */
  buildReport(input: ReportInput): Promise<BuiltReport>;
  /** The full report (every section, charts inline, sortable and filterable tables) as one HTML page. */
  buildFullReport(input: ReportInput): Promise<BuiltFullReport>;
  /** The short email sent instead of the report when a run fails: the reason and how to re-run. */
  buildFailureNotice(input: FailureNoticeInput): Promise<BuiltNotice>;
}

/** The masked sample of the date's quarantined rows that the full report shows. */
export interface QuarantineSamples {
  /** Writes the sample beside the run (by the step that wrote quarantine.csv). */
  write(snapshotDate: string, deps: QuarantineSampleSources): Promise<void>;
  /** The sample `write` wrote, checked as read back, or undefined when there is none. */
  readStored(
    artifacts: Pick<ArtifactStore, 'get'>,
    snapshotDate: string,
  ): Promise<QuarantineSample | undefined>;
}
