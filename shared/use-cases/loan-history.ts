import { addDays } from '../domain/calendar.ts';
import { borrowerRefFromKey } from '../domain/engine/hash.ts';
import { bucketOfId } from '../domain/store/score-buckets.ts';
import { readScores, type ScoredLoan } from '../domain/store/score-file.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { Gzip } from '../ports/gzip.ts';
import type { LoanChange, LoanHistoryEntry, RiskStore, RunSummary } from '../ports/risk-store.ts';
import { dateScoreKeys } from './merge-audit.ts';

/** Runs the history lookup reads to find where a loan's history starts (about 27 years of nights). */
const RUN_RECORDS = 10_000;

/**
 * A loan's risk state as a history item records it: grade, PD, DPD bucket, classification,
 * stage, rule hits and flags, outstanding. The one mapping from a scored loan to its history
 * fields, for the items the buckets write and the first day read back from a score file.
 */
export function loanState(
  loan: ScoredLoan,
  change: LoanChange['change'],
  borrowerRef: string,
  before: { grade: string; dpdBucket: string } | null,
): LoanChange {
  return {
    loanId: loan.loanId,
    change,
    borrowerRef,
    grade: loan.grade,
    score: loan.score,
    pd: loan.pd,
    dpdBucket: loan.dpdBucket,
    classification: loan.classification,
    stage: loan.stage,
    flags: [...loan.ruleCodes, ...loan.flags],
    outstanding: loan.outstanding,
    previousGrade: before?.grade ?? null,
    previousDpdBucket: before?.dpdBucket ?? null,
  };
}

/**
 * The dates whose run wrote no history because it had no earlier score file to compare with
 * (a book's first night, or the night after a failed one): where histories start. Records of
 * releases that did not keep the flag count as such when the day before has no finished run.
 */
export function historyBaselines(runs: readonly RunSummary[]): string[] {
  const finished = new Set(
    runs.filter((r) => r.status === 'ok' || r.status === 'partial').map((r) => r.snapshotDate),
  );
  return runs
    .filter((r) => finished.has(r.snapshotDate))
    .filter((r) => r.historyBaseline ?? !finished.has(addDays(r.snapshotDate, -1)))
    .map((r) => r.snapshotDate)
    .sort();
}

/** A loan's scored state in a date's score file, or null when the loan is not in it. */
export async function scoredLoanOn(
  { artifacts, gzip }: Pick<LoanHistoryDeps, 'artifacts' | 'gzip'>,
  date: string,
  loanId: string,
): Promise<ScoredLoan | null> {
  const keys = await dateScoreKeys(artifacts, date);
  // A date without a score manifest has no score file.
  const key = keys.length === 0 ? undefined : keys[bucketOfId(loanId, keys.length)];
  if (key === undefined) return null;
  const stream = await artifacts.stream(key);
  if (stream === null) return null;
  // The file is sorted by loan id: stop at the loan, or as soon as it has been passed.
  for await (const batch of readScores(stream, gzip, `the score file ${key}`)) {
    for (const loan of batch) {
      if (loan.loanId === loanId) return loan;
      if (loan.loanId > loanId) return null;
    }
  }
  return null;
}

/** What the history lookup reads. */
export interface LoanHistoryDeps {
  store: Pick<RiskStore, 'getLoanHistory' | 'listRuns'>;
  artifacts: Pick<ArtifactStore, 'get' | 'stream'>;
  gzip: Gzip;
  /** Turns a score file's borrower key into the reference shown; null when not known (the reference is left empty). */
  borrowerRefKey: string | null;
}

/**
 * A loan's history from its first audited day: its state on the first date it appears, then
 * every change. A loan that appeared after its book's first night starts with its stored `new`
 * item. A loan already on the book that night has no item for it (that night writes none: it is
 * the baseline every later night compares with), so its state there is read from that date's
 * score file: the last history baseline before its first stored change, or before today when it
 * never changed.
 */
export async function loanHistory(loanId: string, deps: LoanHistoryDeps): Promise<LoanHistoryEntry[]> {
  const items: LoanHistoryEntry[] = await deps.store.getLoanHistory(loanId);
  const first = items[0];
  if (first?.change === 'new') return items;
  const runs = await deps.store.listRuns(RUN_RECORDS);
  const baselines = historyBaselines(runs).filter((d) => first === undefined || d < first.snapshotDate);
  const start = baselines[baselines.length - 1];
  if (start === undefined) return items;
  const loan = await scoredLoanOn(deps, start, loanId);
  if (loan === null) return items;
  const runId = runs.find((r) => r.snapshotDate === start)?.runId ?? '';
  const borrowerRef =
    first?.borrowerRef ??
    (deps.borrowerRefKey === null ? '' : borrowerRefFromKey(loan.borrowerKey, deps.borrowerRefKey));
  return [
    { ...loanState(loan, 'new', borrowerRef, null), change: 'baseline', snapshotDate: start, runId },
    ...items,
  ];
}
