import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AuditResult, Finding } from '../domain/audit-result.ts';
import { earlierIdsByShard, type ShardIds } from '../domain/engine/cross-shard.ts';
import { type AuditBeforeDrift, aggregateRuleHits, completeAudit } from '../domain/engine/finalize.ts';
import { encodeIdHashes } from '../domain/engine/id-hashes.ts';
import { carriedIndex } from '../domain/engine/previous-scan.ts';
import { readPreviousIndexHeader } from '../domain/engine/previous-tape.ts';
import {
  combineRangeParts,
  mergeShards,
  shardsBeforeDrift,
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
  type PreviousIndexExtra,
  PreviousIndexExtraSchema,
  ScoreManifestSchema,
  type StoredPartial,
  StoredPartialSchema,
} from '../schema/artifacts.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps } from './deps.ts';
import { itemNumber, readMapResults, succeededItems } from './map-results.ts';
import { mappingFingerprint } from './prepare-run.ts';
import { checkShape, readArtifact, readOptionalArtifact } from './read-artifact.ts';
import { stepTimer } from './step-timer.ts';
import {
  type BucketSpec,
  type MergedRun,
  type MergeEvent,
  type PlannedPart,
  PlannedPartsSchema,
  type RunPlan,
  type SettleRequest,
  ShardOutcomeSchema,
  type ShardResult,
  ShardResultSchema,
  ShardSpecSchema,
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

/**
 * The previous tape's intake counts stored with its index, or null when the index is missing:
 * its header only is read, however large the index.
 */
async function readPreviousIntake(deps: AuditDeps, key: string): Promise<PreviousIndexExtra | null> {
  const stream = await deps.artifacts.stream(key);
  if (stream === null) return null;
  return checkShape(
    await readPreviousIndexHeader(stream),
    key,
    PreviousIndexExtraSchema,
    "previous tape's drift index",
  );
}

/**
 * Stores the date's own tape as a drift index (the shards' entries merged in tape order) with
 * what it was built from, so the next date's run need not read this tape again.
 */
async function writeCarriedIndex(
  plan: RunPlan,
  parts: readonly PlannedPart[],
  ids: readonly ShardIds[],
  intake: TapeScanResult,
  deps: AuditDeps,
): Promise<void> {
  await deps.artifacts.put(
    KEYS.carriedIndex(plan.snapshotDate),
    carriedIndex(
      plan.snapshotDate,
      ids.map((s) => ({ indexEntries: s })),
      intake,
    ),
    'application/octet-stream',
  );
  const info: CarriedIndexInfo = {
    parts: [...parts],
    mapping: mappingFingerprint(await deps.mapping()),
    rules: VALIDATION_RULES_VERSION,
    runId: plan.runId,
  };
  await deps.artifacts.put(
    KEYS.carriedIndexInfo(plan.snapshotDate),
    JSON.stringify(info),
    'application/json',
  );
}

/** Every shard's distinct loan ids (its valid loans' drift-index entries and its quarantined first rows), in shard order. */
async function shardIdsOf(stored: readonly StoredPartial[], deps: AuditDeps): Promise<ShardIds[]> {
  const out: ShardIds[] = [];
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
    out.push({ entries, count: entries.length / 3, quarantinedFirst: s.quarantinedIdHashes ?? [] });
  }
  return out;
}

/**
 * The first pass's shard results with the shards scored again in their place (the second pass
 * of the first map scores only those).
 */
async function withFirstPass(
  settling: NonNullable<RunPlan['settling']>,
  again: readonly ShardResult[],
  deps: AuditDeps,
): Promise<ShardResult[]> {
  const first = await readArtifact(
    deps.artifacts,
    settling.outcomesKey,
    z.array(ShardResultSchema),
    "first pass's shard results",
  );
  const byIndex = new Map(first.map((r) => [r.index, r]));
  for (const r of again) byIndex.set(r.index, r);
  const results = [...byIndex.values()].sort((a, b) => a.index - b.index);
  if (results.length !== settling.shards)
    throw new Error(
      `${results.length} of the run's ${settling.shards} shards have a result after the second pass`,
    );
  return results;
}

/**
 * Plans the first map's second pass: each shard holding ids an earlier shard had gets those ids'
 * hashes and is scored again; the first pass's results are kept for the merge after it.
 */
async function settleRepeats(
  plan: RunPlan,
  results: readonly ShardResult[],
  earlier: readonly (BigUint64Array | null)[],
  deps: AuditDeps,
): Promise<SettleRequest> {
  const specs = await readArtifact(
    deps.artifacts,
    plan.shardsKey,
    z.array(ShardSpecSchema),
    "run's list of shards",
  );
  const byIndex = new Map(results.map((r, i) => [r.index, earlier[i]]));
  const again = [];
  let repeats = 0;
  for (const spec of specs) {
    const ids = byIndex.get(spec.index);
    if (ids === null || ids === undefined) continue;
    const key = KEYS.shardEarlierIds(plan.snapshotDate, plan.runId, spec.index);
    await deps.artifacts.put(key, encodeIdHashes(ids), 'application/octet-stream');
    again.push({ ...spec, earlierIdsKey: key });
    repeats += ids.length;
  }
  const shardsKey = KEYS.settleShardList(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(shardsKey, JSON.stringify(again), 'application/json');
  const outcomesKey = KEYS.firstShardOutcomes(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(outcomesKey, JSON.stringify(results), 'application/json');
  deps.logger.info('shards hold loan ids an earlier shard had: scoring them again with those ids', {
    shards: again.length,
    repeatedIds: repeats,
  });
  return {
    settle: { shardsKey, shardCount: again.length, settling: { outcomesKey, shards: plan.shardCount } },
  };
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

/**
 * The previous date's score files the buckets join: the ones prepare chose for drift, else as the
 * date's manifest names them; null without one (the book's baseline).
 */
async function previousScores(plan: RunPlan, deps: AuditDeps): Promise<BucketSpec['previousScores']> {
  if (plan.previousSnapshotDate === null) return null;
  if (plan.driftFromScores !== undefined)
    return { runId: plan.driftFromScores.runId, buckets: plan.driftFromScores.buckets };
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
 * buckets see: the watchlist and breaches, and drift when the buckets count it (the audit before
 * drift is then the draft).
 */
export async function mergeAudit(event: MergeEvent, deps: AuditDeps): Promise<MergedRun | SettleRequest> {
  const { plan } = event;
  const { timings, lap } = stepTimer();
  const policy = policyInForce(await deps.policy(), plan.snapshotDate, plan.currency);
  // Every shard's outcome, from the first map's exported results (never through the state).
  const outcomes = await readMapResults(deps.artifacts, event.shardResults, {
    what: 'shard',
    expected: plan.shardCount,
    outcome: ShardOutcomeSchema,
    failed: (input, error) => ({ failed: true as const, index: itemNumber(input, 'index'), error }),
  });
  // A shard that failed fails the run here, with its own sentence, once every shard has finished.
  const passed = succeededItems(
    outcomes.sort((a, b) => a.index - b.index),
    { what: 'shard', key: 'index' },
  );
  const results = plan.settling === undefined ? passed : await withFirstPass(plan.settling, passed, deps);
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
  // A loan id an earlier shard already held is a repeat no shard could see: the shards holding
  // such ids are scored again with them (once), and then every row is as one pass has it.
  const ids = await shardIdsOf(stored, deps);
  const earlier = earlierIdsByShard(ids);
  if (earlier.some((e) => e !== null)) {
    if (plan.settling !== undefined)
      throw new Error(
        'shards scored again with the loan ids earlier shards held still hold some of them: the run cannot make its figures those of one pass',
      );
    return settleRepeats(plan, results, earlier, deps);
  }
  lap('repeats');
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
  await deps.quarantineSamples.write(plan.snapshotDate, deps);

  const driftInBuckets = plan.driftFromScores !== undefined;
  if (driftInBuckets && previous === null)
    throw new Error(
      `the previous date's drift index this run copied is missing (${KEYS.previousIndex(plan.snapshotDate, plan.runId)})`,
    );
  const before = shardsBeforeDrift(merged, {
    snapshotDate: plan.snapshotDate,
    dateSource: plan.dateSource ?? `its S3 partition ${KEYS.tapePrefix(plan.snapshotDate)}`,
    previousSnapshotDate: previous === null ? null : plan.previousSnapshotDate,
    previousIntake: previous?.intake ?? null,
    policy,
    borrowerRefKey: await deps.secrets.current('borrowerRefKey'),
    tapeFindings,
  });
  if (plan.warnings.length > 0) before.sections.status = 'partial';
  // Drift from the shards' index is complete here; from the buckets' join, finalize completes it.
  const draft: AuditResult | AuditBeforeDrift = driftInBuckets
    ? before
    : completeAudit(before, merged.partial, policy);
  const draftKey = KEYS.auditDraft(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(draftKey, JSON.stringify(draft), 'application/json');
  lap('audit');

  const hits = aggregateRuleHits(merged.partial, policy);
  const context: BucketContext = {
    borrowerHits: [...hits.borrowers],
    partnerHits: [...hits.partners],
    coLentHits: hits.coLent,
    breachCodes: (policy.resolution?.rules ?? [])
      .filter((r) => r.status === 'in_force' && r.severity === 'breach')
      .map((r) => r.rule.code),
  };
  const contextKey = KEYS.bucketContext(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(contextKey, JSON.stringify(context), 'application/json');
  await writeCarriedIndex(plan, parts, ids, merged.intake, deps);
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
    ...(driftInBuckets ? { drift: true as const } : {}),
    contextKey,
  }));
  // The second map reads its items from S3: the state carries their key only.
  const bucketsKey = KEYS.bucketList(plan.snapshotDate, plan.runId);
  await deps.artifacts.put(bucketsKey, JSON.stringify(buckets), 'application/json');
  return { draftKey, bucketsKey, ...(driftInBuckets ? { driftInBuckets: true as const } : {}), timings };
}
