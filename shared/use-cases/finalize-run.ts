import type { AuditResult } from '../domain/audit-result.ts';
import { addBucketDrift } from '../domain/engine/drift-counts.ts';
import { completeAudit } from '../domain/engine/finalize.ts';
import { borrowerRefFromKey } from '../domain/engine/hash.ts';
import { breachOrder, riskOrder } from '../domain/engine/ranking.ts';
import { policyInForce } from '../domain/policy/resolve.ts';
import { trendFiguresOf } from '../domain/report/trend.ts';
import { SCORE_FILE_VERSION, type ScoredLoan } from '../domain/store/score-file.ts';
import {
  AuditBeforeDriftSchema,
  AuditResultSchema,
  type BucketOutcome,
  type ScoreManifest,
  ScoreManifestSchema,
  StoredBucketOutcomeSchema,
} from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps, RunSummary, WatchlistEntry } from './deps.ts';
import { itemNumber, readMapResults, succeededItems } from './map-results.ts';
import { readArtifact, readOptionalArtifact } from './read-artifact.ts';
import { stepTimer } from './step-timer.ts';
import { BucketOutcomeSchema, type FinalizeEvent, type RunOutcome, type RunPlan } from './workflow-types.ts';

/**
 * The run record of a finished audit: its headline and, under the same names, every figure the
 * report's trend shows (trendFiguresOf), so that a stored run reads as today's audit does.
 */
export function finishedSummary(
  plan: RunPlan,
  audit: AuditResult,
  finishedAt: Date,
  historyBaseline: boolean,
): RunSummary {
  return {
    snapshotDate: plan.snapshotDate,
    runId: plan.runId,
    status: audit.status,
    trigger: plan.trigger,
    startedAt: plan.startedAt,
    finishedAt: finishedAt.toISOString(),
    error: null,
    inputSha256: audit.input.sha256,
    rowsRead: audit.input.rowsRead,
    rowsQuarantined: audit.input.rowsQuarantined,
    loanCount: audit.portfolio.loanCount,
    ...trendFiguresOf(audit),
    overall: audit.ratings.overall,
    findings: audit.findings.length,
    historyBaseline,
  };
}

/** The watchlist entry of a scored loan at a rank. */
function watchlistEntry(s: ScoredLoan, rank: number, refKey: string): WatchlistEntry {
  return {
    rank,
    loanId: s.loanId,
    borrowerRef: borrowerRefFromKey(s.borrowerKey, refKey),
    grade: s.grade,
    score: s.score,
    pd: s.pd,
    el: s.el,
    dpdBucket: s.dpdBucket,
    classification: s.classification,
    outstanding: s.outstanding,
    product: s.product,
    region: s.region,
    industry: s.industry,
    flags: [...s.ruleCodes, ...s.flags],
    reasons: s.reasons,
  };
}

/**
 * The run's audit: merge-audit's draft, or, when the buckets counted drift, the audit before
 * drift completed with the buckets' counts added up (checked against the previous date's loans).
 */
async function completedAudit(
  event: FinalizeEvent,
  outcomes: readonly BucketOutcome[],
  deps: AuditDeps,
): Promise<AuditResult> {
  const { plan, merged } = event;
  if (merged.driftInBuckets !== true)
    return readArtifact(deps.artifacts, merged.draftKey, AuditResultSchema, 'merged audit of the run');
  const before = await readArtifact(
    deps.artifacts,
    merged.draftKey,
    AuditBeforeDriftSchema,
    'merged audit of the run before drift',
  );
  const previous = plan.driftFromScores;
  if (previous === undefined || plan.previousSnapshotDate === null)
    throw new Error("the buckets counted drift but the run's plan names no previous score files");
  const counts = outcomes.map((o) => {
    if (o.drift === null) throw new Error(`loan-id bucket ${o.bucket} did not count drift`);
    return o.drift;
  });
  const drift = addBucketDrift(plan.previousSnapshotDate, counts);
  if (drift.previous?.validCount !== previous.loans)
    throw new Error(
      `the loan-id buckets read ${drift.previous?.validCount} loans of ${plan.previousSnapshotDate}'s score files where its manifest counts ${previous.loans}: drift not counted`,
    );
  const policy = policyInForce(await deps.policy(), plan.snapshotDate, plan.currency);
  return completeAudit(before, drift, policy);
}

/**
 * Step 5: completes the audit with what only the buckets saw (drift, when they counted it),
 * makes the buckets' score files the date's (its scores manifest, written last), completes the
 * history replace, stores the watchlist, the breach index, audit.json and the run record, then
 * gives the date's lease back. Every bucket's best N taken together hold the book's best N: the
 * watchlist and the breach index are what one pass over the book would keep.
 */
export async function finalizeRun(event: FinalizeEvent, deps: AuditDeps): Promise<RunOutcome> {
  const { plan, merged } = event;
  // Every bucket's outcome, from the second map's exported results (never through the state).
  const bucketOutcomes = await readMapResults(deps.artifacts, event.bucketResults, {
    what: 'loan-id bucket',
    expected: plan.scoreBuckets,
    outcome: BucketOutcomeSchema,
    failed: (input, error) => ({ failed: true as const, bucket: itemNumber(input, 'bucket'), error }),
  });
  // A bucket that failed fails the run here, with its own sentence, once every bucket has finished.
  const bucketResults = succeededItems(
    bucketOutcomes.sort((a, b) => a.bucket - b.bucket),
    { what: 'loan-id bucket', key: 'bucket' },
  );
  const { timings, lap } = stepTimer(merged.timings);
  const outcomes: BucketOutcome[] = [];
  for (const r of [...bucketResults].sort((a, b) => a.bucket - b.bucket))
    outcomes.push(
      await readArtifact(
        deps.artifacts,
        r.resultKey,
        StoredBucketOutcomeSchema,
        `result of bucket ${r.bucket}`,
      ),
    );
  if (outcomes.length !== plan.scoreBuckets)
    throw new Error(`${outcomes.length} of the run's ${plan.scoreBuckets} loan-id buckets came back merged`);
  const audit = await completedAudit(event, outcomes, deps);

  const limit = deps.config.WATCHLIST_LIMIT;
  const refKey = await deps.secrets.current('borrowerRefKey');
  const watchlist = outcomes
    .flatMap((o) => o.watchlist)
    .sort(riskOrder)
    .slice(0, limit)
    .map((s, i) => watchlistEntry(s, i + 1, refKey));
  // The breach index keeps, per rule, the largest exposures (audit.json has every count).
  const perRule = new Map<string, BucketOutcome['breaches']>();
  for (const b of outcomes.flatMap((o) => o.breaches)) {
    const list = perRule.get(b.ruleCode);
    if (list) list.push(b);
    else perRule.set(b.ruleCode, [b]);
  }
  const breaches = [...perRule.values()].flatMap((list) => list.sort(breachOrder).slice(0, limit));
  const scoredLoans = outcomes.reduce((n, o) => n + o.scoredLoans, 0);
  const loanChanges = outcomes.reduce((n, o) => n + o.changes, 0);
  const baseline = outcomes.some((o) => o.baseline);
  lap('combineBuckets');

  // The buckets' files become the date's score file; the run they replace is dropped after.
  const earlier = await readOptionalArtifact(
    deps.artifacts,
    KEYS.scoresManifest(plan.snapshotDate),
    ScoreManifestSchema,
    "date's score manifest",
  );
  const manifest: ScoreManifest = {
    runId: plan.runId,
    buckets: plan.scoreBuckets,
    loans: scoredLoans,
    format: SCORE_FILE_VERSION,
  };
  await deps.artifacts.put(
    KEYS.scoresManifest(plan.snapshotDate),
    JSON.stringify(manifest),
    'application/json',
  );
  if (earlier !== null && earlier.runId !== plan.runId)
    await deps.artifacts.deletePrefix(`${KEYS.runPrefix(plan.snapshotDate)}scores/${earlier.runId}/`);
  await deps.store.retireLoanChanges(plan.snapshotDate, plan.runId);
  lap('retireHistory');
  await deps.store.replaceWatchlist(plan.snapshotDate, plan.runId, watchlist);
  await deps.store.replaceBreaches(plan.snapshotDate, plan.runId, breaches);
  lap('watchlistAndBreaches');
  const auditKey = KEYS.audit(plan.snapshotDate);
  await deps.artifacts.put(auditKey, `${JSON.stringify(audit, null, 2)}\n`, 'application/json');
  for (const o of outcomes)
    for (const [name, ms] of Object.entries(o.timings))
      timings[`bucket.${name}`] = Math.max(timings[`bucket.${name}`] ?? 0, ms);
  await deps.store.recordRun({
    ...finishedSummary(plan, audit, deps.now(), baseline),
    timings,
    inputParts: audit.input.parts?.map((p) => ({ key: p.key, sha256: p.sha256, bytes: p.bytes })) ?? [],
  });
  deps.logger.info('run finalized', {
    snapshotDate: plan.snapshotDate,
    runId: plan.runId,
    status: audit.status,
    buckets: plan.scoreBuckets,
    loanChanges,
    baseline,
    watchlist: watchlist.length,
    breaches: breaches.length,
    timings,
  });
  await deps.store.releaseLease(plan.snapshotDate, plan.runId);
  // Merged now: the shards' files, the maps' items and results (and the previous index) are no
  // longer needed. The audit is stored: a cleanup that fails leaves files behind, not a failed run.
  const partials = `${KEYS.runPrefix(plan.snapshotDate)}partials/${plan.runId}/`;
  await deps.artifacts.deletePrefix(partials).catch((error: unknown) => {
    deps.logger.warn("the run's working files were not all deleted", {
      prefix: partials,
      error: String(error),
    });
  });
  return { runId: plan.runId, snapshotDate: plan.snapshotDate, status: audit.status, auditKey };
}
