/**
 * Store benchmark: a generated book rolled forward one day, scored by the engine, diffed into the
 * loans whose risk state changed, written to DynamoDB Local through DynamoRiskStore; reports
 * items written against changed loans, write throughput, and the size of the night's score file.
 *
 *   npx tsx bench/store.ts [loans=1000000] [concurrency=8]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDocumentClient, createDynamoClient } from '../shared/adapters/aws-clients.ts';
import { DynamoRiskStore } from '../shared/adapters/dynamo-risk-store.ts';
import { borrowerRef } from '../shared/domain/engine/hash.ts';
import { riskOrder } from '../shared/domain/engine/ranking.ts';
import { createLoanAssessor } from '../shared/domain/engine/scorecard.ts';
import { generateBook, rollForward } from '../shared/domain/generator/book.ts';
import type { Loan } from '../shared/domain/loan.ts';
import { defaultPolicyPaths, parsePolicy } from '../shared/domain/policy/policy.ts';
import { policyInForce } from '../shared/domain/policy/resolve.ts';
import { noTrendFigures } from '../shared/domain/report/trend.ts';
import { startLocalStack } from '../shared/local/local-stack.ts';
import type { LoanChange, ReplaceReport, WatchlistEntry } from '../shared/ports/risk-store.ts';
import {
  type AssessedLoan,
  breachEntries,
  diffSortedRiskStates,
  encodeScoreFile,
  type LoanRiskState,
  type RiskStateDiff,
  sortByLoanId,
  toLoanChange,
  toLoanRiskState,
} from './store-model.ts';

/** Options of benchStore. */
export interface BenchStoreOptions {
  /** Loans in the first day's book. @default 1_000_000 */
  loans?: number;
  /** First day (the second is the day after). @default '2026-11-24' */
  date?: string;
  seed?: string;
  /** Watchlist size (WATCHLIST_LIMIT). @default 5000 */
  watchlistLimit?: number;
  /** Batches in flight per write. @default 8 */
  concurrency?: number;
  /** Print progress lines to stderr. @default true */
  verbose?: boolean;
}

const REF_KEY = 'bench-store-key-01';

/**
 * A date's history written as a one-bucket run writes it (merge-scores puts the part, finalize
 * retires the earlier runs' items), reported as one figure.
 */
async function writeHistory(
  store: DynamoRiskStore,
  date: string,
  runId: string,
  changes: readonly LoanChange[],
): Promise<ReplaceReport> {
  const written = await store.writeLoanChanges(date, runId, 0, changes);
  const retired = await store.retireLoanChanges(date, runId);
  return {
    written: written.written,
    deleted: retired.deleted,
    bookkeeping: (written.bookkeeping ?? 0) + (retired.bookkeeping ?? 0),
  };
}

function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Scores a day's loans into risk states, sorted by loan id (borrower refs cached per borrower). */
function scoreDay(
  loans: Iterable<Loan>,
  assess: (loan: Loan) => AssessedLoan,
  refs: Map<string, string>,
): LoanRiskState[] {
  const out: LoanRiskState[] = [];
  for (const loan of loans) {
    let ref = refs.get(loan.borrowerId);
    if (ref === undefined) {
      ref = borrowerRef(loan.borrowerId, REF_KEY);
      refs.set(loan.borrowerId, ref);
    }
    out.push(toLoanRiskState(assess(loan), ref));
  }
  return sortByLoanId(out);
}

/** Runs the store benchmark and returns its figures. */
export async function benchStore(opts: BenchStoreOptions = {}): Promise<Record<string, unknown>> {
  const loans = opts.loans ?? 1_000_000;
  const day1 = opts.date ?? '2026-11-24';
  const day2 = nextDay(day1);
  const seed = opts.seed ?? 'bench-store';
  const watchlistLimit = opts.watchlistLimit ?? 5_000;
  const verbose = opts.verbose ?? true;
  const say = (line: string): void => {
    if (verbose) process.stderr.write(`[bench:store] ${line}\n`);
  };

  const paths = defaultPolicyPaths();
  const policy = policyInForce(
    parsePolicy([
      { text: readFileSync(paths.rules, 'utf8'), fileName: paths.rules },
      { text: readFileSync(paths.appetite, 'utf8'), fileName: paths.appetite },
    ]),
    day2,
  );
  const breachCodes = new Set(
    (policy.resolution?.rules ?? [])
      .filter((r) => r.status === 'in_force' && r.severity === 'breach')
      .map((r) => r.rule.code),
  );
  const assess = createLoanAssessor(policy);
  const refs = new Map<string, string>();

  let t = performance.now();
  const states1 = scoreDay(generateBook({ loans, date: day1, seed }), assess, refs);
  const states2 = scoreDay(
    rollForward(generateBook({ loans, date: day1, seed }), { date: day2, seed }),
    assess,
    refs,
  );
  const generateAndScoreMs = performance.now() - t;
  say(
    `generated and scored ${states1.length} + ${states2.length} loans in ${Math.round(generateAndScoreMs)} ms`,
  );

  t = performance.now();
  const diffs: RiskStateDiff[] = [];
  for await (const d of diffSortedRiskStates(states1, states2)) diffs.push(d);
  const diffMs = performance.now() - t;
  const changedLoans = diffs.length;
  const byKind = { new: 0, changed: 0, closed: 0 };
  for (const d of diffs) byKind[d.kind]++;
  say(`${changedLoans} loans changed risk state (${JSON.stringify(byKind)}) in ${Math.round(diffMs)} ms`);

  t = performance.now();
  const scoreFile = await encodeScoreFile(states2);
  const scoreFileMs = performance.now() - t;
  say(`score file ${scoreFile.byteLength} bytes in ${Math.round(scoreFileMs)} ms`);

  // The bounded nightly extras: the watchlist (grade D/E or any breach, riskiest first) and the
  // breach index of the loans on it.
  const watchPool = states2.filter(
    (s) => s.grade === 'D' || s.grade === 'E' || s.flags.some((f) => breachCodes.has(f)),
  );
  const watchlistStates = watchPool.sort(riskOrder).slice(0, watchlistLimit);
  const watchlist: WatchlistEntry[] = watchlistStates.map((s, i) => ({
    rank: i + 1,
    loanId: s.loanId,
    borrowerRef: s.borrowerRef,
    grade: s.grade,
    score: s.score,
    pd: s.pd,
    el: 0,
    dpdBucket: s.dpdBucket,
    classification: s.classification,
    outstanding: s.outstanding,
    product: 'unknown',
    region: null,
    industry: null,
    flags: s.flags,
    reasons: [],
  }));
  const breaches = breachEntries(watchlistStates, breachCodes);
  const changes = diffs.map(toLoanChange);
  diffs.length = 0;

  const stateDir = await mkdtemp(join(os.tmpdir(), 'risk-audit-bench-store-'));
  const stack = await startLocalStack({ stateDir, fresh: true, quiet: true });
  say(`local stack up in ${stack.startupMs} ms`);
  const ddb = createDynamoClient(stack.env);
  const doc = createDocumentClient(ddb);
  const store = new DynamoRiskStore(doc, stack.env.TABLE_NAME!, {
    batchWrite: { concurrency: opts.concurrency ?? 8 },
  });
  try {
    const runId = 'bench-run-1';
    await store.acquireLease(day2, runId, 3_600);
    t = performance.now();
    const history = await writeHistory(store, day2, runId, changes);
    const historyMs = performance.now() - t;
    say(`history: ${history.written} items in ${Math.round(historyMs)} ms`);
    t = performance.now();
    const watchReport = await store.replaceWatchlist(day2, runId, watchlist);
    const watchlistMs = performance.now() - t;
    const breachReport = await store.replaceBreaches(day2, runId, breaches);
    await store.recordRun({
      snapshotDate: day2,
      runId,
      status: 'ok',
      trigger: 'bench',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      error: null,
      inputSha256: null,
      rowsRead: states2.length,
      rowsQuarantined: 0,
      loanCount: states2.length,
      ...noTrendFigures(),
      overall: null,
      findings: null,
    });
    await store.releaseLease(day2, runId);

    // The same date again: the replace must write the same items and delete nothing.
    t = performance.now();
    const rerun = await writeHistory(store, day2, 'bench-run-2', changes);
    const rerunMs = performance.now() - t;
    say(`re-run: ${rerun.written} written, ${rerun.deleted} deleted in ${Math.round(rerunMs)} ms`);

    const perLoanItems = history.written + history.deleted;
    // manifest chunks, watchlist and breach chunks, lease put + lease delete + run record
    const nightItems =
      perLoanItems + (history.bookkeeping ?? 0) + watchReport.written + breachReport.written + 3;
    return {
      loans,
      loansToday: states2.length,
      changedLoans,
      changedShare: Number((changedLoans / states2.length).toFixed(5)),
      changedByKind: byKind,
      perLoanItemsWritten: perLoanItems,
      perLoanItemsVsChanged: Number((perLoanItems / Math.max(1, changedLoans)).toFixed(4)),
      manifestItems: history.bookkeeping ?? 0,
      watchlistEntries: watchlist.length,
      watchlistItems: watchReport.written,
      breachIndexEntries: breaches.length,
      breachIndexItems: breachReport.written,
      nightItemsWritten: nightItems,
      nightItemsVsChanged: Number((nightItems / Math.max(1, changedLoans)).toFixed(4)),
      historyWriteMs: Math.round(historyMs),
      historyItemsPerSecond: Math.round(history.written / (historyMs / 1000)),
      watchlistWriteMs: Math.round(watchlistMs),
      rerunWritten: rerun.written,
      rerunDeleted: rerun.deleted,
      rerunMs: Math.round(rerunMs),
      scoreFileBytes: scoreFile.byteLength,
      scoreFileBytesPerLoan: Number((scoreFile.byteLength / states2.length).toFixed(2)),
      scoreFileEncodeMs: Math.round(scoreFileMs),
      generateAndScoreMs: Math.round(generateAndScoreMs),
      diffMs: Math.round(diffMs),
      localStackStartupMs: stack.startupMs,
      writeConcurrency: opts.concurrency ?? 8,
      loadAverage1m: os.loadavg()[0],
    };
  } finally {
    doc.destroy();
    ddb.destroy();
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const concurrency = Number(process.argv[3] ?? 8);
  const result = await benchStore({ loans, concurrency });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
