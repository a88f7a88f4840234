/**
 * The results store: run records, leases, loan risk history, watchlists and breaches (DynamoDB on
 * AWS and locally). Every write for a date replaces that date's earlier items exactly, so a
 * re-run never double-counts. The shapes of RunSummary, LoanChange and WatchlistEntry match the
 * `RunStore` the workflow use cases declare, so a RiskStore is usable wherever a RunStore is.
 */

/** Credit grade of the scorecard, A (best) to E (worst). */
export type RiskGrade = 'A' | 'B' | 'C' | 'D' | 'E';

/** Status of a run record: running while the lease is held, then the audit's status. */
export type RunStatus = 'running' | 'ok' | 'partial' | 'failed';

/** A run's record: the headline of its audit, for trends and the CLI (one per date, a re-run replaces it). */
export interface RunSummary {
  snapshotDate: string;
  runId: string;
  status: RunStatus;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  /** One readable sentence when the run failed. */
  error: string | null;
  inputSha256: string | null;
  rowsRead: number | null;
  rowsQuarantined: number | null;
  loanCount: number | null;
  totalOutstanding: number | null;
  nplRatio: number | null;
  /** Outstanding more than 30 days past due, over total outstanding. */
  pastDue30Share: number | null;
  expectedLoss: number | null;
  overall: 'green' | 'amber' | 'red' | null;
  /** Loans hit by at least one in-force breach rule (compliance.loansInBreach). */
  loansInBreach: number | null;
  /** In-force breach rules concerning at least one loan (compliance.rulesBreached). */
  rulesBreached: number | null;
  /** The largest of the audit's three population-stability indices; null without a previous tape. */
  largestPsi: number | null;
  /** Rows quarantined over rows read. */
  quarantineRate: number | null;
  findings: number | null;
  /**
   * True when the run wrote no history items because there was no earlier score file to compare
   * with: its score file is where the history of its loans starts. Absent on older records.
   */
  historyBaseline?: boolean;
  /** Each tape part with its digest (multi-part tapes). */
  inputParts?: { key: string; sha256: string; bytes: number }[];
  /** Milliseconds per workflow step, e.g. {prepare: 812, score: 40210}. */
  timings?: Record<string, number>;
  /**
   * How the run's email went: the report of a finished audit, the notice of a failed run
   * (`none`: no recipients configured). Absent on older records and while the run is running.
   */
  delivery?: RunDelivery;
}

/** The delivery of a run's email (see RunSummary.delivery). */
export interface RunDelivery {
  status: 'sent' | 'failed' | 'none';
  /** When it was sent or given up on (ISO). */
  at: string;
  messageId?: string | null;
  /** One readable sentence when the delivery failed. */
  error?: string;
}

/** One loan whose risk state changed on a date (or that appeared or closed): one history item. */
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

/** A LoanChange as read back from a loan's history. */
export interface LoanHistoryItem extends LoanChange {
  snapshotDate: string;
  runId: string;
}

/**
 * One line of a loan's history as shown to people: a stored change, or (`baseline`) the loan's
 * state on the first audited date of its history, read from that date's score file, where no
 * item is stored because every loan of that date would have needed one.
 */
export interface LoanHistoryEntry extends Omit<LoanHistoryItem, 'change'> {
  change: LoanChange['change'] | 'baseline';
}

/** One loan on a date's watchlist (grade D/E or any breach), ordered by risk (rank 1 = riskiest). */
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

/** One loan in breach of one compliance rule on a date. */
export interface BreachEntry {
  ruleCode: string;
  loanId: string;
  borrowerRef: string;
  grade: string;
  outstanding: number;
}

/** A BreachEntry as read back, with its date. */
export interface BreachItem extends BreachEntry {
  snapshotDate: string;
  runId: string;
}

/** What a replace call wrote: items put plus stale items of an earlier run deleted. */
export interface ReplaceReport {
  /** Items put (history items, or watchlist/breach chunks). */
  written: number;
  /** Items of an earlier run of the date deleted because this run did not produce them. */
  deleted: number;
  /** Bookkeeping items written and deleted (history manifest chunks), not counted above. */
  bookkeeping?: number;
}

/** The results store port. */
export interface RiskStore {
  /** Takes the date's lease by conditional write, or throws RunInProgressError naming the run that holds it. */
  acquireLease(snapshotDate: string, runId: string, ttlSeconds: number): Promise<void>;
  /** Gives the lease back if this run still holds it (a no-op otherwise). */
  releaseLease(snapshotDate: string, runId: string): Promise<void>;
  /** Writes (replaces) the run record of its date. */
  recordRun(summary: RunSummary): Promise<void>;
  getRun(snapshotDate: string): Promise<RunSummary | null>;
  /** The last runs, newest date first. */
  listRuns(limit: number): Promise<RunSummary[]>;
  /**
   * Writes one part of a run's history items (parts hold distinct loans, e.g. loan-id buckets);
   * `retireLoanChanges` then completes the replace once every part is written.
   */
  writeLoanChanges(
    snapshotDate: string,
    runId: string,
    part: number,
    changes: readonly LoanChange[],
  ): Promise<ReplaceReport>;
  /** Deletes the date's history items of earlier runs that this run's parts did not write. */
  retireLoanChanges(snapshotDate: string, runId: string): Promise<ReplaceReport>;
  /** A loan's history, oldest date first. */
  getLoanHistory(loanId: string, limit?: number): Promise<LoanHistoryItem[]>;
  /** Replaces the date's watchlist (stored in chunks of entries). */
  replaceWatchlist(
    snapshotDate: string,
    runId: string,
    entries: readonly WatchlistEntry[],
  ): Promise<ReplaceReport>;
  /** The date's watchlist in rank order, at most `limit` entries. */
  getWatchlist(snapshotDate: string, limit: number): Promise<WatchlistEntry[]>;
  /** Replaces the date's breach index. */
  replaceBreaches(
    snapshotDate: string,
    runId: string,
    breaches: readonly BreachEntry[],
  ): Promise<ReplaceReport>;
  /** Loans in breach of a rule on a date, largest outstanding first. */
  getBreaches(ruleCode: string, snapshotDate: string, limit?: number): Promise<BreachItem[]>;
}
