import type { RuntimeConfig } from '../config.ts';
import type { Policy } from '../domain/policy/policy.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import { ConfigError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { Gzip } from '../ports/gzip.ts';
import type { Logger } from '../ports/logger.ts';
import type { ReportMailer } from '../ports/report-mailer.ts';
import type { QuarantineSamples, ReportRenderer } from '../ports/report-renderer.ts';
import type { RiskStore } from '../ports/risk-store.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import type { TapeDecoder, TapeSource } from '../ports/tape-source.ts';

export type { LoanChange, RunSummary, WatchlistEntry } from '../ports/risk-store.ts';

/** Counters the steps emit (CloudWatch metrics on AWS, nothing locally). */
export interface RunMetrics {
  count(
    name:
      | 'TapeMissing'
      | 'RunFailed'
      | 'RowsQuarantined'
      | 'LoansScored'
      | 'ReportSent'
      | 'ReportNotDelivered'
      | 'RunEndedUncaught'
      | 'PreviousIndexCarried',
    value?: number,
  ): void;
}

/** Everything the workflow steps use: ports, configuration and a clock. */
export interface AuditDeps {
  config: RuntimeConfig;
  tapes: TapeSource;
  /** How a tape's bytes are read: digests, gzip, text encodings, Parquet. */
  tapeDecoder: TapeDecoder;
  /** The compression of the pipeline's own files (score files, drift indexes). */
  gzip: Gzip;
  artifacts: ArtifactStore;
  store: RiskStore;
  mailer: ReportMailer;
  /**
   * Builds the email, the full report and the failure notice; null in the functions that render
   * none (the chart renderer ships in send-report's and notify-failure's bundles only).
   */
  reports: ReportRenderer | null;
  /** The masked sample of the date's quarantined rows that the full report shows. */
  quarantineSamples: QuarantineSamples;
  /** The keys read at run time (borrower references, report links). */
  secrets: SecretSource;
  /** The active policy (cached after the first load). */
  policy(): Promise<Policy>;
  /** The lender's column mapping, if one is configured. */
  mapping(): Promise<ColumnMapping | undefined>;
  now(): Date;
  metrics: RunMetrics;
  /** Where the steps log what they did (never a loan or borrower id). */
  logger: Logger;
}

/** The report renderer of a step that renders reports; a function built without one says so. */
export function reportRenderer(deps: Pick<AuditDeps, 'reports'>): ReportRenderer {
  if (deps.reports === null)
    throw new ConfigError(
      'this function was built without the report renderer: only send-report and notify-failure render reports',
    );
  return deps.reports;
}

/** Caches an async loader so a warm Lambda reads its files once. */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  return () => {
    value ??= load().catch((error: unknown) => {
      value = null;
      throw error;
    });
    return value;
  };
}
