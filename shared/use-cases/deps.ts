import type { RuntimeConfig } from '../config.ts';
import type { AuditStatus, Rating } from '../domain/audit-result.ts';
import type { Policy } from '../domain/policy/policy.ts';
import type { ColumnMapping } from '../domain/tape/mapping.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { ReportMailer } from '../ports/report-mailer.ts';
import type { TapeSource } from '../ports/tape-source.ts';

/** Counters the steps emit (CloudWatch metrics on AWS, nothing locally). */
export interface RunMetrics {
  count(
    name: 'TapeMissing' | 'RunFailed' | 'RowsQuarantined' | 'LoansScored' | 'ReportSent',
    value?: number,
  ): void;
}

/** A run's record as the store keeps it: the headline of its audit, for trends and the CLI. */
export interface RunSummary {
  snapshotDate: string;
  runId: string;
  status: AuditStatus | 'running';
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  inputSha256: string | null;
  rowsRead: number | null;
  rowsQuarantined: number | null;
  loanCount: number | null;
  totalOutstanding: number | null;
  nplRatio: number | null;
  expectedLoss: number | null;
  overall: Rating | null;
  breaches: number | null;
  findings: number | null;
}

/** One loan whose risk state changed today (or that appeared or closed): a history item. */
export interface LoanChange {
  loanId: string;
  change: 'new' | 'changed' | 'closed';
  borrowerRef: string;
  grade: string | null;
  score: number | null;
  pd: number | null;
  dpdBucket: string | null;
  classification: string | null;
  stage: string | null;
  flags: string[];
  outstanding: number;
  previousGrade: string | null;
  previousDpdBucket: string | null;
}

/** One loan on a date's watchlist (grade D/E or any breach), ordered by risk. */
export interface WatchlistEntry {
  rank: number;
  loanId: string;
  borrowerRef: string;
  grade: string;
  score: number;
  pd: number;
  el: number;
  dpdBucket: string;
  classification: string;
  outstanding: number;
  product: string;
  region: string | null;
  industry: string | null;
  flags: string[];
  reasons: string[];
}

/**
 * What the workflow needs of the results store (DynamoDB on AWS and locally): leases, run
 * records, loan history, watchlists. Writes for a date replace that date's earlier items.
 */
export interface RunStore {
  /** Takes the date's lease or throws RunInProgressError naming the run that holds it. */
  acquireLease(snapshotDate: string, runId: string, ttlSeconds: number): Promise<void>;
  releaseLease(snapshotDate: string, runId: string): Promise<void>;
  recordRun(summary: RunSummary): Promise<void>;
  /** Replaces the date's loan history items with these (exactly once per date). */
  replaceLoanChanges(
    snapshotDate: string,
    runId: string,
    changes: readonly LoanChange[],
  ): Promise<{ written: number }>;
  /** Replaces the date's watchlist with these entries. */
  replaceWatchlist(snapshotDate: string, runId: string, entries: readonly WatchlistEntry[]): Promise<void>;
  getRun(snapshotDate: string): Promise<RunSummary | null>;
  /** The last runs, newest first. */
  listRuns(limit: number): Promise<RunSummary[]>;
  getWatchlist(snapshotDate: string, limit: number): Promise<WatchlistEntry[]>;
}

/** Everything the workflow steps use: ports, configuration and a clock. */
export interface AuditDeps {
  config: RuntimeConfig;
  tapes: TapeSource;
  artifacts: ArtifactStore;
  store: RunStore;
  mailer: ReportMailer;
  /** The active policy (cached after the first load). */
  policy(): Promise<Policy>;
  /** The lender's column mapping, if one is configured. */
  mapping(): Promise<ColumnMapping | undefined>;
  now(): Date;
  metrics: RunMetrics;
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
