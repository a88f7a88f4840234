import { createHash } from 'node:crypto';
import type { AuditResult, Finding } from '../domain/audit-result.ts';
import { aggregateRuleHits } from '../domain/engine/finalize.ts';
import { carriedIndex } from '../domain/engine/previous-scan.ts';
import { decodePreviousIndex } from '../domain/engine/previous-tape.ts';
import {
  combineRangeParts,
  finalizeShards,
  mergeShards,
  tapeLevelFindings,
} from '../domain/engine/shard-merge.ts';
import { policyInForce } from '../domain/policy/resolve.ts';
import { QUARANTINE_CSV_HEADER } from '../domain/tape/quarantine-csv.ts';
import { VALIDATION_RULES_VERSION } from '../domain/tape/row-validator.ts';
import type { TapeScanResult } from '../domain/tape/scan.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import {
  type BucketContext,
  type CarriedIndexInfo,
  ScoreManifestSchema,
  type StoredPartial,
  StoredPartialSchema,
} from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps } from './deps.ts';
import { itemNumber, readMapResults, succeededItems } from './map-results.ts';
import { mappingFingerprint } from './prepare-run.ts';
import { readArtifact, readOptionalArtifact } from './read-artifact.ts';
import type { PreviousIndexExtra } from './score-shard.ts';
import {
  type BucketSpec,
  type MergedRun,
  type MergeEvent,
  type PlannedPart,
  PlannedPartsSchema,
  type RunPlan,
  ShardOutcomeSchema,
} from './workflow-types.ts';

export type { BucketContext } from '../schema/artifacts.ts';

/**
 * The keys of a date's score file, one per loan-id bucket, as its manifest names them; none when
 * the date has no manifest (no run of it finished).
 */
export async function dateScoreKeys(artifacts: Pick<ArtifactStore, 'get'>, date: string): Promise<string[]> {
  const manifest = await readOptionalArtifact(
    artifacts,
    KEYS.scoresManifest(date),
    ScoreManifestSchema,
    "date's score manifest",
  );
  if (manifest === null) return [];
  return Array.from({ length: manifest.buckets }, (_, b) =>
    KEYS.scores(date, manifest.runId, b, manifest.buckets),
  );
}

/** Triggers whose runs judge whether the tape arrived by the cutoff. */
const ON_TIME_TRIGGERS = new Set(['schedule', 's3-arrival']);

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
  parts: readonly PlannedPart[],
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
  const info: CarriedIndexInfo = {
    parts: [...parts],
    mapping: mappingFingerprint(await deps.mapping()),
    rules: VALIDATION_RULES_VERSION,
  };
  await deps.artifacts.put(
    KEYS.carriedIndexInfo(plan.snapshotDate),
    JSON.stringify(info),
    'application/json',
  );
}

/** The date's quarantine file: the header, then every shard's rows in shard order, streamed. */
async function* joinedQuarantine(
  stored: readonly StoredPartial[],
  deps: AuditDeps,
): AsyncIterable<Uint8Array> {
  yield Buffer.from(`${QUARANTINE_CSV_HEADER}\n`);
  for (const s of stored) {
    const rows = await deps.artifacts.stream(s.quarantineKey);
    if (rows === null) throw new Error(`the quarantined rows of a shard are missing (${s.quarantineKey})`);
    for await (const chunk of rows) yield chunk;
  }
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

/** The previous date's score files as its manifest names them; null without one (the book's baseline). */
async function previousScores(plan: RunPlan, deps: AuditDeps): Promise<BucketSpec['previousScores']> {
  if (plan.previousSnapshotDate === null) return null;
  const manifest = await readOptionalArtifact(
    deps.artifacts,
    KEYS.scoresManifest(plan.previousSnapshotDate),
    ScoreManifestSchema,
    "previous date's score manifest",
  );
  return manifest === null ? null : { runId: manifest.runId, buckets: manifest.buckets };
}

/**
 * Step 3: merges the shards' partials into the audit's figures (exactly the one-pass result),
 * writes the quarantine file and the date's drift index, and hands the loan-id buckets to the
 * second map with what each needs. The audit is a draft until finalize adds what only the
 * buckets see (loan ids repeated across shards).
 */
export async function mergeAudit(event: MergeEvent, deps: AuditDeps): Promise<MergedRun> {
  const { plan } = event;
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string): void => {
    timings[name] = Date.now() - mark;
    mark = Date.now();
  };
  const policy = policyInForce(await deps.policy(), plan.snapshotDate, plan.currency);
  // Every shard's outcome, from the first map's exported results (never through the state).
  const outcomes = await readMapResults(deps.artifacts, event.shardResults, {
    what: 'shard',
    expected: plan.shardCount,
    outcome: ShardOutcomeSchema,
    failed: (input, error) => ({ failed: true as const, index: itemNumber(input, 'index'), error }),
  });
  // A shard that failed fails the run here, with its own sentence, once every shard has finished.
  const results = succeededItems(
    outcomes.sort((a, b) => a.index - b.index),
    { what: 'shard', key: 'index' },
  );
  const parts = await readArtifact(
    deps.artifacts,
    plan.partsKey,
    PlannedPartsSchema,
    "run's list of tape parts",
  );
  const stored: StoredPartial[] = [];
  for (const r of results)
    stored.push(
      await readArtifact(
        deps.artifacts,
        r.partialKey,
        StoredPartialSchema,
        `partial result of shard ${r.index}`,
      ),
    );
  const merged = mergeShards(stored);
  merged.intake = combineRangeParts(merged.intake, await splitPartDigests(merged.intake, deps));
  lap('mergePartials');
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
        parts: parts.map((p) => ({
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
  await deps.artifacts.putStream(
    KEYS.quarantine(plan.snapshotDate),
    joinedQuarantine(stored, deps),
    'text/csv; charset=utf-8',
  );
  await deps.reports.writeQuarantineSample(plan.snapshotDate, deps);

  const audit: AuditResult = finalizeShards(merged, {
    snapshotDate: plan.snapshotDate,
    dateSource: plan.dateSource ?? `its S3 partition ${KEYS.tapePrefix(plan.snapshotDate)}`,
    previousSnapshotDate: previous === null ? null : plan.previousSnapshotDate,
    previousIntake: previous?.intake ?? null,
    policy,
    borrowerRefKey: await deps.secrets.current('borrowerRefKey'),
    tapeFindings,
  });
  if (plan.warnings.length > 0) audit.status = 'partial';
  const draftKey = KEYS.auditDraft(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(draftKey, JSON.stringify(audit), 'application/json');
  lap('audit');

  const quarantinedFirst = new Map<string, number>();
  stored.forEach((s, i) => {
    for (const key of s.quarantinedIdHashes ?? [])
      if (!quarantinedFirst.has(key)) quarantinedFirst.set(key, i);
  });
  const hits = aggregateRuleHits(merged.partial, policy);
  const context: BucketContext = {
    borrowerHits: [...hits.borrowers],
    partnerHits: [...hits.partners],
    coLentHits: hits.coLent,
    breachCodes: (policy.resolution?.rules ?? [])
      .filter((r) => r.status === 'in_force' && r.severity === 'breach')
      .map((r) => r.rule.code),
    quarantinedFirst: [...quarantinedFirst],
  };
  const contextKey = KEYS.bucketContext(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(contextKey, JSON.stringify(context), 'application/json');
  await writeCarriedIndex(plan, parts, stored, merged.intake, deps);
  lap('carriedIndex');

  const previousFiles = await previousScores(plan, deps);
  const buckets: BucketSpec[] = Array.from({ length: plan.scoreBuckets }, (_, bucket) => ({
    runId: plan.runId,
    snapshotDate: plan.snapshotDate,
    previousSnapshotDate: plan.previousSnapshotDate,
    bucket,
    buckets: plan.scoreBuckets,
    shards: stored.length,
    previousScores: previousFiles,
    contextKey,
  }));
  // The second map reads its items from S3: the state carries their key only.
  const bucketsKey = KEYS.bucketList(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(bucketsKey, JSON.stringify(buckets), 'application/json');
  return { draftKey, bucketsKey, timings };
}
