import { createHash } from 'node:crypto';
import { logger } from '../adapters/observability.ts';
import type { TapeScanResult } from '../adapters/tape/scan-tape.ts';
import type { AuditResult, Finding } from '../domain/audit-result.ts';
import type { PartialAudit } from '../domain/engine/accumulator.ts';
import { borrowerRuleHits } from '../domain/engine/finalize.ts';
import { borrowerRefFromKey, hash64, hashKey, hashOut } from '../domain/engine/hash.ts';
import { decodePreviousIndex } from '../domain/engine/previous-tape.ts';
import { type Policy, policyInForce } from '../domain/policy/policy.ts';
import { closedLoanChange } from '../domain/store/loan-change.ts';
import { QUARANTINE_CSV_HEADER } from '../domain/tape/quarantine-csv.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import type { BreachEntry } from '../ports/risk-store.ts';
import { KEYS } from '../schema/tables.ts';
import {
  carriedIndex,
  combineRangeParts,
  crossShardRepeatFinding,
  finalizeShards,
  mergeShards,
  type ScoredLoan,
  tapeLevelFindings,
} from './audit-engine.ts';
import type { AuditDeps, LoanChange, RunSummary, WatchlistEntry } from './deps.ts';
import { type CarriedIndexInfo, mappingFingerprint } from './prepare-run.ts';
import { GzipLineWriter, joinScores, mergeSortedScores, readScores, scoreLine } from './score-file.ts';
import type { PreviousIndexExtra, StoredPartial } from './score-shard.ts';
import type { FinalizeEvent, RunOutcome, RunPlan } from './workflow-types.ts';

async function readJson<T>(artifacts: ArtifactStore, key: string): Promise<T | null> {
  const bytes = await artifacts.get(key);
  return bytes === null ? null : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
}

async function* noScores(): AsyncGenerator<ScoredLoan[]> {}

async function* scoresAt(artifacts: ArtifactStore, key: string): AsyncGenerator<ScoredLoan[]> {
  const stream = await artifacts.stream(key);
  if (stream === null) throw new Error(`the scores of a shard are missing (${key})`);
  yield* readScores(stream);
}

/** Triggers whose runs judge whether the tape arrived by the cutoff. */
const ON_TIME_TRIGGERS = new Set(['schedule', 's3-arrival']);

/** A loan id shown to people: its first two and last four characters. */
export function maskLoanId(loanId: string): string {
  return loanId.length <= 8
    ? `${loanId.slice(0, 1)}…${loanId.slice(-2)}`
    : `${loanId.slice(0, 2)}…${loanId.slice(-4)}`;
}

/** Watchlist order: the most likely to default first, then the largest exposure. */
function riskOrder(a: ScoredLoan, b: ScoredLoan): number {
  return b.pd - a.pd || b.outstanding - a.outstanding || (a.loanId < b.loanId ? -1 : 1);
}

/** Bounded best-N keeper (sort-and-cut when twice full): O(n log N) over a whole book. */
class TopN {
  private items: ScoredLoan[] = [];
  public total = 0;
  public constructor(private readonly limit: number) {}
  public offer(s: ScoredLoan): void {
    this.total++;
    this.items.push(s);
    if (this.items.length >= this.limit * 2) this.items = this.items.sort(riskOrder).slice(0, this.limit);
  }
  public result(): ScoredLoan[] {
    return this.items.sort(riskOrder).slice(0, this.limit);
  }
}

interface ScoreOutcome {
  /** Loan ids repeated across shards (each copy entered the aggregates) and their outstanding. */
  crossShardRepeats: { loans: number; outstanding: number };
  changes: LoanChange[];
  breaches: BreachEntry[];
  watchlist: WatchlistEntry[];
  watchlistTotal: number;
  scoredLoans: number;
  baseline: boolean;
}

/**
 * Merges the shards' sorted score files into the date's score file, adds borrower-level rule hits,
 * joins it with the previous date's file to find the loans whose risk state changed, and keeps the
 * riskiest loans for the watchlist: one streaming pass, memory bounded by the changes.
 */
async function mergeScores(
  plan: RunPlan,
  stored: readonly StoredPartial[],
  partial: PartialAudit,
  policy: Policy,
  deps: AuditDeps,
): Promise<ScoreOutcome> {
  const borrowerHits = borrowerRuleHits(partial, policy);
  const breachCodes = new Set(
    policy.rulePack.rules.filter((r) => r.severity === 'breach').map((r) => r.code),
  );
  const refKey = deps.config.BORROWER_REF_KEY;
  const merged = mergeSortedScores(stored.map((s) => scoresAt(deps.artifacts, s.scoresKey)));
  // Ids whose first row in a shard was quarantined, with the earliest such shard (tape order).
  const quarantinedFirst = new Map<string, number>();
  stored.forEach((s, i) => {
    for (const key of s.quarantinedIdHashes ?? [])
      if (!quarantinedFirst.has(key)) quarantinedFirst.set(key, i);
  });
  let repeats = 0;
  let repeatedOutstanding = 0;
  async function* withBorrowerHits(): AsyncGenerator<ScoredLoan[]> {
    let last: string | null = null;
    for await (const batch of merged) {
      const out: ScoredLoan[] = [];
      for (const [s, shard] of batch) {
        // Ties come from the earliest shard first (tape order): a later copy of a loan id in
        // another part or shard is counted here, since no single shard could see it. So is a
        // valid row whose id an earlier shard saw first in a quarantined row (the first row wins).
        if (s.loanId === last) {
          repeats++;
          repeatedOutstanding += s.outstanding;
          continue;
        }
        last = s.loanId;
        if (quarantinedFirst.size > 0) {
          hash64(s.loanId);
          const first = quarantinedFirst.get(hashKey(hashOut.hi, hashOut.lo));
          if (first !== undefined && first < shard) {
            repeats++;
            repeatedOutstanding += s.outstanding;
            continue;
          }
        }
        const extra = borrowerHits.get(s.borrowerKey);
        out.push(extra === undefined ? s : { ...s, ruleCodes: [...s.ruleCodes, ...extra].sort() });
      }
      if (out.length > 0) yield out;
    }
  }
  const previousStream =
    plan.previousSnapshotDate === null
      ? null
      : await deps.artifacts.stream(KEYS.scores(plan.previousSnapshotDate));
  // With no earlier score file this run is the book's baseline: its score file is the starting
  // state, and history items begin with the first change after it (a 1M-loan book would otherwise
  // write 1M "new" items on its first night).
  const baseline = previousStream === null;
  const previous = previousStream === null ? noScores() : readScores(previousStream);
  const changes: LoanChange[] = [];
  const breaches: BreachEntry[] = [];
  const top = new TopN(deps.config.WATCHLIST_LIMIT);
  // The date's score file is gzipped as it is merged: only its compressed bytes are held.
  const scoreFile = new GzipLineWriter();
  let scoredLoans = 0;
  for await (const steps of joinScores(withBorrowerHits(), previous)) {
    for (const step of steps) {
      if (step.kind === 'closed') {
        const b = step.before;
        changes.push(closedLoanChange(b.loanId, borrowerRefFromKey(b.borrowerKey, refKey), b));
        continue;
      }
      const t = step.today;
      const behind = scoreFile.add(scoreLine(t));
      if (behind !== null) await behind;
      scoredLoans++;
      const breached = t.ruleCodes.filter((c) => breachCodes.has(c));
      if (t.grade === 'D' || t.grade === 'E' || breached.length > 0) top.offer(t);
      if (breached.length > 0) {
        const ref = borrowerRefFromKey(t.borrowerKey, refKey);
        for (const ruleCode of breached)
          breaches.push({
            ruleCode,
            loanId: t.loanId,
            borrowerRef: ref,
            grade: t.grade,
            outstanding: t.outstanding,
          });
      }
      if (step.kind === 'same' || baseline) continue;
      changes.push({
        loanId: t.loanId,
        change: step.kind,
        borrowerRef: borrowerRefFromKey(t.borrowerKey, refKey),
        grade: t.grade,
        score: t.score,
        pd: t.pd,
        dpdBucket: t.dpdBucket,
        classification: t.classification,
        stage: t.stage,
        flags: [...t.ruleCodes, ...t.flags],
        outstanding: t.outstanding,
        previousGrade: step.kind === 'changed' ? step.before.grade : null,
        previousDpdBucket: step.kind === 'changed' ? step.before.dpdBucket : null,
      });
    }
  }
  await deps.artifacts.put(KEYS.scores(plan.snapshotDate), await scoreFile.finish(), 'application/gzip');
  const watchlist = top.result().map(
    (s, i): WatchlistEntry => ({
      rank: i + 1,
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
    }),
  );
  // The breach index keeps, per rule, the largest exposures (audit.json has every count).
  const perRule = new Map<string, BreachEntry[]>();
  for (const b of breaches) {
    const list = perRule.get(b.ruleCode);
    if (list) list.push(b);
    else perRule.set(b.ruleCode, [b]);
  }
  const indexed = [...perRule.values()].flatMap((list) =>
    list
      .sort((a, b) => b.outstanding - a.outstanding || (a.loanId < b.loanId ? -1 : 1))
      .slice(0, deps.config.WATCHLIST_LIMIT),
  );
  return {
    crossShardRepeats: { loans: repeats, outstanding: repeatedOutstanding },
    changes,
    breaches: indexed,
    watchlist,
    watchlistTotal: top.total,
    scoredLoans,
    baseline,
  };
}

/** The previous tape's intake counts stored with its index, or null when the index is missing. */
async function readPreviousIntake(deps: AuditDeps, key: string): Promise<PreviousIndexExtra | null> {
  const bytes = await deps.artifacts.get(key);
  return bytes === null ? null : decodePreviousIndex<PreviousIndexExtra>(bytes).extra;
}

/**
 * Stores the date's own tape as a drift index (the shards' entries merged in tape order) with
 * what it was built from, so the next date's run need not read this tape again.
 */
async function writeCarriedIndex(
  plan: RunPlan,
  stored: readonly StoredPartial[],
  intake: TapeScanResult,
  deps: AuditDeps,
): Promise<void> {
  const shards: { indexEntries: { entries: Uint32Array; count: number } }[] = [];
  for (const s of stored) {
    const bytes = await deps.artifacts.get(s.indexEntriesKey);
    if (bytes === null)
      throw new Error(`the drift-index entries of a shard are missing (${s.indexEntriesKey})`);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const entries = new Uint32Array(
      aligned.buffer,
      aligned.byteOffset,
      Math.floor(aligned.byteLength / 12) * 3,
    );
    shards.push({ indexEntries: { entries, count: entries.length / 3 } });
  }
  await deps.artifacts.put(
    KEYS.carriedIndex(plan.snapshotDate),
    carriedIndex(plan.snapshotDate, shards, intake),
    'application/octet-stream',
  );
  const info: CarriedIndexInfo = { parts: plan.parts, mapping: mappingFingerprint(await deps.mapping()) };
  await deps.artifacts.put(
    KEYS.carriedIndexInfo(plan.snapshotDate),
    JSON.stringify(info),
    'application/json',
  );
}

/** Digests of the parts that were split into byte ranges, streamed once here (shards hash only their range). */
async function splitPartDigests(intake: TapeScanResult, deps: AuditDeps): Promise<Map<string, string>> {
  const counts = new Map<string, number>();
  for (const p of intake.parts) counts.set(p.key, (counts.get(p.key) ?? 0) + 1);
  const digests = new Map<string, string>();
  for (const [key, n] of counts) {
    if (n < 2) continue;
    const hash = createHash('sha256');
    for await (const chunk of await deps.tapes.open(key)) hash.update(chunk);
    digests.set(key, hash.digest('hex'));
  }
  return digests;
}

/** The run record of a finished audit. */
export function finishedSummary(plan: RunPlan, audit: AuditResult, finishedAt: Date): RunSummary {
  const breaches = Object.values(audit.compliance.rules)
    .filter((r) => r.severity === 'breach')
    .reduce((n, r) => n + r.loans, 0);
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
    totalOutstanding: audit.portfolio.totalOutstanding,
    nplRatio: audit.portfolio.nplRatio,
    expectedLoss: audit.portfolio.expectedLoss,
    overall: audit.ratings.overall,
    breaches,
    findings: audit.findings.length,
  };
}

/**
 * Step 3: merges the shards into the audit (exactly the one-pass result), writes audit.json, the
 * quarantine file and the score file, stores what changed, the watchlist and the run record,
 * then gives the date's lease back.
 */
export async function finalizeRun(event: FinalizeEvent, deps: AuditDeps): Promise<RunOutcome> {
  const { plan } = event;
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string): void => {
    timings[name] = Date.now() - mark;
    mark = Date.now();
  };
  const policy = policyInForce(await deps.policy(), plan.snapshotDate);
  const results = [...event.shardResults].sort((a, b) => a.index - b.index);
  const stored: StoredPartial[] = [];
  for (const r of results) {
    const s = await readJson<StoredPartial>(deps.artifacts, r.partialKey);
    if (s === null) throw new Error(`the partial result of shard ${r.index} is missing (${r.partialKey})`);
    stored.push(s);
  }
  const merged = mergeShards(stored);
  merged.intake = combineRangeParts(merged.intake, await splitPartDigests(merged.intake, deps));
  const previous =
    plan.previousSnapshotDate === null
      ? null
      : await readPreviousIntake(deps, KEYS.previousIndex(plan.snapshotDate, plan.runId));
  const planFindings: Finding[] = plan.warnings.map((w) => ({
    category: 'technical',
    severity: 'medium',
    code: w.code,
    message: w.message,
    value: null,
    threshold: null,
  }));
  const tapeFindings = [
    ...planFindings,
    ...tapeLevelFindings(
      {
        snapshotDate: plan.snapshotDate,
        // Arrival is judged on the nightly (or arrival-triggered) run only: a re-run or a
        // backfill of an old date would otherwise report the same lateness again.
        parts: plan.parts.map((p) => ({
          key: p.key,
          bytes: p.bytes,
          lastModified:
            p.lastModified === null || !ON_TIME_TRIGGERS.has(plan.trigger) ? null : new Date(p.lastModified),
        })),
        stats: merged.intake,
        previous:
          previous === null
            ? null
            : { columns: previous.intake.columns, rowsValid: previous.intake.rowsValid },
      },
      { cutoff: deps.config.TAPE_CUTOFF, timeZone: deps.config.TIMEZONE },
    ),
  ];

  const quarantine = [QUARANTINE_CSV_HEADER, ...stored.flatMap((s) => s.quarantineLines), ''].join('\n');
  await deps.artifacts.put(KEYS.quarantine(plan.snapshotDate), quarantine, 'text/csv; charset=utf-8');
  const scores = await mergeScores(plan, stored, merged.partial, policy, deps);
  lap('scoreFile');
  if (scores.crossShardRepeats.loans > 0)
    tapeFindings.push(crossShardRepeatFinding(scores.crossShardRepeats));
  const audit = finalizeShards(merged, {
    snapshotDate: plan.snapshotDate,
    previousSnapshotDate: previous === null ? null : plan.previousSnapshotDate,
    previousIntake: previous?.intake ?? null,
    policy,
    borrowerRefKey: deps.config.BORROWER_REF_KEY,
    tapeFindings,
  });
  if (plan.warnings.length > 0 || scores.crossShardRepeats.loans > 0) audit.status = 'partial';
  lap('audit');
  await writeCarriedIndex(plan, stored, merged.intake, deps);
  lap('carriedIndex');

  await deps.store.replaceLoanChanges(plan.snapshotDate, plan.runId, scores.changes);
  lap('loanChanges');
  await deps.store.replaceWatchlist(plan.snapshotDate, plan.runId, scores.watchlist);
  await deps.store.replaceBreaches(plan.snapshotDate, plan.runId, scores.breaches);
  lap('watchlistAndBreaches');
  const auditKey = KEYS.audit(plan.snapshotDate);
  await deps.artifacts.put(auditKey, `${JSON.stringify(audit, null, 2)}\n`, 'application/json');
  await deps.store.recordRun({
    ...finishedSummary(plan, audit, deps.now()),
    timings,
    inputParts: audit.input.parts?.map((p) => ({ key: p.key, sha256: p.sha256, bytes: p.bytes })) ?? [],
  });
  logger.info('run finalized', {
    snapshotDate: plan.snapshotDate,
    runId: plan.runId,
    status: audit.status,
    loanChanges: scores.changes.length,
    baseline: scores.baseline,
    watchlist: scores.watchlist.length,
    breaches: scores.breaches.length,
    timings,
  });
  await deps.store.releaseLease(plan.snapshotDate, plan.runId);
  // Merged now: the shards' files (and the previous index) are no longer needed.
  await deps.artifacts.deletePrefix(`${KEYS.runPrefix(plan.snapshotDate)}partials/${plan.runId}/`);
  return { runId: plan.runId, snapshotDate: plan.snapshotDate, status: audit.status, auditKey };
}
