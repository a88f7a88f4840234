import type { RuntimeConfig } from '../config.ts';
import type { Policy } from '../domain/policy/policy.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { Gzip } from '../ports/gzip.ts';
import type { Logger } from '../ports/logger.ts';
import type { ReportMailer } from '../ports/report-mailer.ts';
import type { ReportRenderer } from '../ports/report-renderer.ts';
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
  /** Builds the email, the full report and the failure notice; keeps the quarantine sample they show. */
  reports: ReportRenderer;
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
