import { DriftTally } from '../domain/engine/drift-counts.ts';
import { borrowerRefFromKey } from '../domain/engine/hash.ts';
import { breachOrder, riskOrder, TopN } from '../domain/engine/ranking.ts';
import { closedLoanChange } from '../domain/store/loan-change.ts';
import { bucketOfId, previousBucketsOf } from '../domain/store/score-buckets.ts';
import { readScores, type ScoredLoan, ScoreFileWriter } from '../domain/store/score-file.ts';
import { joinScores, mergeSortedScores, withRuleCodes } from '../domain/store/score-merge.ts';
import type { BreachEntry } from '../ports/risk-store.ts';
import { type BucketContext, BucketContextSchema, type BucketOutcome } from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps, LoanChange } from './deps.ts';
import { loanState } from './loan-history.ts';
import { readArtifact } from './read-artifact.ts';
import { stepTimer } from './step-timer.ts';
import type { BucketResult, BucketSpec } from './workflow-types.ts';

export type { BucketOutcome } from '../schema/artifacts.ts';

async function* noScores(): AsyncGenerator<ScoredLoan[]> {}

/**
 * The aggregate rules' codes that concern a scored loan (null when none): its borrower's on all
 * its loans and on its purpose's, and, when co-lent, its partner's and the portfolio rules'.
 */
export function aggregateCodes(context: Pick<BucketContext, 'borrowerHits' | 'partnerHits' | 'coLentHits'>) {
  const borrowers = new Map(context.borrowerHits);
  const partners = new Map(context.partnerHits);
  const coLent = context.coLentHits;
  return (s: Pick<ScoredLoan, 'borrowerKey' | 'loanPurpose' | 'partnerId' | 'coLent'>): string[] | null => {
    const b = borrowers.get(s.borrowerKey);
    const p = s.coLent === true && s.partnerId != null ? partners.get(s.partnerId) : undefined;
    if (b === undefined && p === undefined && (coLent.length === 0 || s.coLent !== true)) return null;
    const codes: string[] = [];
    if (b !== undefined) codes.push(...b.all, ...(s.loanPurpose === 'business' ? b.business : b.consumption));
    if (s.coLent === true) codes.push(...(p ?? []), ...coLent);
    return codes.length === 0 ? null : [...new Set(codes)];
  };
}

/** A score file's loans in batches; a missing file fails the bucket, naming `what` it is. */
async function* scoresAt(deps: AuditDeps, key: string, what: string): AsyncGenerator<ScoredLoan[]> {
  const stream = await deps.artifacts.stream(key);
  if (stream === null) throw new Error(`${what} is missing (${key})`);
  yield* readScores(stream, deps.gzip, `${what} ${key}`);
}

/** Keeps the loans of `bucket` only (a previous file split into fewer buckets holds others too). */
async function* inBucket(
  source: AsyncIterable<ScoredLoan[]>,
  bucket: number,
  buckets: number,
): AsyncGenerator<ScoredLoan[]> {
  for await (const batch of source) {
    const mine = batch.filter((s) => bucketOfId(s.loanId, buckets) === bucket);
    if (mine.length > 0) yield mine;
  }
}

/** Drops the source index a merge tags each loan with. */
async function* loansOnly(source: AsyncIterable<[ScoredLoan, number][]>): AsyncGenerator<ScoredLoan[]> {
  for await (const batch of source) yield batch.map(([s]) => s);
}

/**
 * The previous date's loans of this bucket, sorted by loan id, or null when the previous date has
 * no score file (the book's baseline).
 */
async function previousLoans(spec: BucketSpec, deps: AuditDeps): Promise<AsyncIterable<ScoredLoan[]> | null> {
  const prev = spec.previousScores;
  if (prev === null || spec.previousSnapshotDate === null) return null;
  const date = spec.previousSnapshotDate;
  const { buckets, filter } = previousBucketsOf(spec.bucket, spec.buckets, prev.buckets);
  const sources = buckets.map((b) =>
    scoresAt(deps, KEYS.scores(date, prev.runId, b, prev.buckets), "the previous date's score file"),
  );
  const merged = sources.length === 1 ? sources[0]! : loansOnly(mergeSortedScores(sources));
  return filter ? inBucket(merged, spec.bucket, spec.buckets) : merged;
}

/**
 * Step 4, once per loan-id bucket (the second map): merges the shards' sorted score files of the
 * bucket into the date's file of the bucket, adds borrower-level rule hits, joins it with the
 * previous date's loans of the bucket to write the history items of the loans whose risk state
 * changed, and keeps the bucket's riskiest loans and largest breaches for finalize. One streaming
 * pass; memory bounded by the bucket's changes.
 */
export async function mergeScoreBucket(spec: BucketSpec, deps: AuditDeps): Promise<BucketResult> {
  const { timings, lap } = stepTimer();
  const context = await readArtifact(
    deps.artifacts,
    spec.contextKey,
    BucketContextSchema,
    'merge context of the run',
  );
  const breachCodes = new Set(context.breachCodes);
  const attach = aggregateCodes(context);
  const refKey = await deps.secrets.current('borrowerRefKey');
  const shardFiles = Array.from({ length: spec.shards }, (_, shard) =>
    scoresAt(
      deps,
      KEYS.partialScores(spec.snapshotDate, spec.runId, shard, spec.bucket),
      'the scores of a shard',
    ),
  );
  const merged = mergeSortedScores(shardFiles);
  async function* withBorrowerHits(): AsyncGenerator<ScoredLoan[]> {
    let last: string | null = null;
    for await (const batch of merged) {
      const out: ScoredLoan[] = [];
      for (const [s] of batch) {
        // merge-audit had every repeat across shards scored again as one pass scores it: two
        // shards' copies of one loan id here would count a loan twice.
        if (s.loanId === last)
          throw new Error(
            'two shards scored the same loan id after merge-audit settled the repeats across shards: the bucket stops rather than count a loan twice',
          );
        last = s.loanId;
        const extra = attach(s);
        out.push(extra === null ? s : withRuleCodes(s, [...s.ruleCodes, ...extra].sort()));
      }
      if (out.length > 0) yield out;
    }
  }
  const before = await previousLoans(spec, deps);
  // With no earlier score file this run is the book's baseline: its score file is the starting
  // state, and history items begin with the first change after it (a 1M-loan book would otherwise
  // write 1M "new" items on its first night).
  const baseline = before === null;
  const changes: LoanChange[] = [];
  const top = new TopN<ScoredLoan>(deps.config.WATCHLIST_LIMIT, riskOrder);
  // Per breach rule, the largest exposures; their borrower references are made for those kept only.
  const breaches = new Map<string, TopN<ScoredLoan>>();
  // The date's file of the bucket is gzipped as it is merged: only its compressed bytes are held.
  const scoreFile = new ScoreFileWriter(deps.gzip);
  // The breach codes of a list of rule codes, once per distinct list (lists read from a score file are shared).
  const breachedByList = new Map<readonly string[], string[]>();
  const breachedOf = (codes: readonly string[]): string[] => {
    let breached = breachedByList.get(codes);
    if (breached === undefined) {
      breached = codes.filter((c) => breachCodes.has(c));
      if (Object.isFrozen(codes)) breachedByList.set(codes, breached);
    }
    return breached;
  };
  // Drift's counts, when the bucket counts them: every previous loan of the bucket once, and each
  // loan on both dates as a transition from its previous dpd bucket.
  const drift = spec.drift === true ? new DriftTally() : null;
  if (drift !== null && before === null)
    throw new Error(
      `the bucket counts drift but the previous date ${spec.previousSnapshotDate} has no score files`,
    );
  let scoredLoans = 0;
  for await (const steps of joinScores(withBorrowerHits(), before ?? noScores())) {
    for (const step of steps) {
      if (drift !== null) {
        if (step.kind === 'closed') drift.previous(step.before);
        else if (step.kind !== 'new') drift.both(step.before, step.today);
      }
      if (step.kind === 'closed') {
        const b = step.before;
        changes.push(closedLoanChange(b.loanId, borrowerRefFromKey(b.borrowerKey, refKey), b));
        continue;
      }
      const t = step.today;
      const behind = scoreFile.add(t);
      if (behind !== null) await behind;
      scoredLoans++;
      const breached = breachedOf(t.ruleCodes);
      if (t.grade === 'D' || t.grade === 'E' || breached.length > 0) top.offer(t);
      for (const ruleCode of breached) {
        let rule = breaches.get(ruleCode);
        if (rule === undefined) {
          rule = new TopN<ScoredLoan>(deps.config.WATCHLIST_LIMIT, breachOrder);
          breaches.set(ruleCode, rule);
        }
        rule.offer(t);
      }
      if (step.kind === 'same' || baseline) continue;
      changes.push(
        loanState(
          t,
          step.kind,
          borrowerRefFromKey(t.borrowerKey, refKey),
          step.kind === 'changed' ? step.before : null,
        ),
      );
    }
  }
  await deps.artifacts.put(
    KEYS.scores(spec.snapshotDate, spec.runId, spec.bucket, spec.buckets),
    await scoreFile.finish(),
    'application/gzip',
  );
  lap('scoreFile');
  await deps.store.writeLoanChanges(spec.snapshotDate, spec.runId, spec.bucket, changes);
  lap('loanChanges');
  const outcome: BucketOutcome = {
    bucket: spec.bucket,
    watchlist: top.result(),
    breaches: [...breaches].flatMap(([ruleCode, rule]) =>
      rule.result().map(
        (s): BreachEntry => ({
          ruleCode,
          loanId: s.loanId,
          borrowerRef: borrowerRefFromKey(s.borrowerKey, refKey),
          grade: s.grade,
          outstanding: s.outstanding,
        }),
      ),
    ),
    scoredLoans,
    changes: changes.length,
    baseline,
    drift: drift?.result() ?? null,
    timings,
  };
  const resultKey = KEYS.bucketResult(spec.snapshotDate, spec.runId, spec.bucket);
  await deps.artifacts.put(resultKey, JSON.stringify(outcome), 'application/json');
  deps.logger.info('bucket merged', {
    snapshotDate: spec.snapshotDate,
    runId: spec.runId,
    bucket: spec.bucket,
    buckets: spec.buckets,
    loans: scoredLoans,
    loanChanges: changes.length,
    timings,
  });
  return { bucket: spec.bucket, resultKey, loans: scoredLoans, changes: changes.length };
}
