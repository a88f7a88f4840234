import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDeps } from '../../../shared/adapters/local-deps.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../../../shared/config.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import type { AuditDeps } from '../../../shared/use-cases/deps.ts';
import { finalizeRun } from '../../../shared/use-cases/finalize-run.ts';
import { type FinalizeEvent, RunPlanSchema } from '../../../shared/use-cases/workflow-types.ts';

const date = '2026-11-25';
const runId = 'r2';
const AUDIT_FIXTURE = new URL('../../fixtures/report/audit-2026-11-25.json', import.meta.url);

let root: string;
let deps: AuditDeps;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'risk-audit-finalize-run-'));
  deps = createLocalDeps({
    root,
    tapes: {},
    config: RuntimeConfigSchema.parse({ BUCKET_NAME: 'local', TABLE_NAME: 'local', REPORT_RECIPIENTS: '' }),
    secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A finalize event of one loan-id bucket whose merge succeeded, its result exported as a Map Run leaves it. */
async function oneBucketRun(): Promise<FinalizeEvent> {
  const manifestKey = `results/${runId}/merge/manifest.json`;
  const resultsKey = `results/${runId}/merge/SUCCEEDED_0.json`;
  const bucketResult = { bucket: 0, resultKey: KEYS.bucketResult(date, runId, 0), loans: 2, changes: 0 };
  await deps.artifacts.put(
    manifestKey,
    JSON.stringify({
      DestinationBucket: 'local',
      MapRunArn: 'arn:aws:states:local:0:mapRun:merge',
      ResultFiles: { SUCCEEDED: [{ Key: resultsKey, Size: 1 }] },
    }),
    'application/json',
  );
  await deps.artifacts.put(
    resultsKey,
    JSON.stringify([
      {
        ExecutionArn: 'arn:aws:states:local:0:execution:merge:0',
        Name: '0',
        Status: 'SUCCEEDED',
        Output: JSON.stringify(bucketResult),
      },
    ]),
    'application/json',
  );
  await deps.artifacts.put(
    KEYS.auditDraft(date, runId),
    await readFile(AUDIT_FIXTURE, 'utf8'),
    'application/json',
  );
  return {
    plan: RunPlanSchema.parse({
      runId,
      snapshotDate: date,
      previousSnapshotDate: null,
      trigger: 'on-demand',
      startedAt: '2026-11-26T06:30:12.000Z',
      partsKey: `runs/${date}/parts.json`,
      partCount: 1,
      shardsKey: `runs/${date}/shards.json`,
      shardCount: 1,
      resultsPrefix: `results/${runId}/`,
      scoreBuckets: 1,
    }),
    merged: { draftKey: KEYS.auditDraft(date, runId), bucketsKey: KEYS.bucketList(date, runId), timings: {} },
    bucketResults: {
      MapRunArn: 'arn:aws:states:local:0:mapRun:merge',
      ResultWriterDetails: { Bucket: 'local', Key: manifestKey },
    },
  };
}

describe('Function: finalizeRun', () => {
  it("fails with one sentence naming a bucket's stored result that lacks a field, and its key", async () => {
    // Prepare: bucket 0's outcome as a release that did not write `baseline` would leave it.
    const event = await oneBucketRun();
    const resultKey = KEYS.bucketResult(date, runId, 0);
    await deps.artifacts.put(
      resultKey,
      JSON.stringify({
        bucket: 0,
        watchlist: [],
        breaches: [],
        scoredLoans: 2,
        changes: 0,
        timings: {},
      }),
      'application/json',
    );

    // Act
    const finalized = finalizeRun(event, deps);

    // Assess: the sentence readArtifact gives; nothing of the run was stored.
    await expect(finalized).rejects.toThrow(
      `the result of bucket 0 has an unexpected shape (${resultKey}): at baseline: Invalid input: expected boolean, received undefined`,
    );
    expect(await deps.artifacts.get(KEYS.audit(date))).toBeNull();
    expect(await deps.artifacts.get(KEYS.scoresManifest(date))).toBeNull();
  });

  it("fails with one sentence naming a bucket's stored result that is missing, and its key", async () => {
    // Prepare: the map says bucket 0 merged, its result is not there.
    const event = await oneBucketRun();

    // Act
    const finalized = finalizeRun(event, deps);

    // Assess
    await expect(finalized).rejects.toThrow(
      `the result of bucket 0 is missing (${KEYS.bucketResult(date, runId, 0)})`,
    );
  });

  it("completes the audit with the buckets' drift counts, and refuses counts that miss the previous date's loans", async () => {
    // Prepare: the draft as merge-audit leaves it when the buckets count drift (the fixture's
    // sections; today 4 loans: 3 current, 1 at 31-60); the bucket met 3 loans of the previous
    // date, 2 current (one still current, one closed since) and 1 at 1-30 (now 31-60).
    const event = await oneBucketRun();
    const {
      drift: _d,
      ratings: _r,
      findings: _f,
      ...sections
    } = JSON.parse(await readFile(AUDIT_FIXTURE, 'utf8'));
    const before = {
      sections,
      today: {
        loans: 4,
        creditBandCount: [4, 0, 0, 0, 0, 0, 0],
        productCount: [0, 4, 0],
        dpdCount: [3, 0, 1, 0, 0, 0, 0],
      },
      figures: {
        breaches: { rules: 0, loans: 0, borrowers: 0 },
        totalFen: 400_000,
        fen: {
          stage2: 0,
          stage3: 0,
          watch: 0,
          anyFlag: 0,
          pastMaturity: 0,
          maturing30: 0,
          longDated: 0,
          partnerFunded: 0,
        },
        flagFen: {},
      },
      findings: [],
    };
    await deps.artifacts.put(KEYS.auditDraft(date, runId), JSON.stringify(before), 'application/json');
    const transitions = new Array(49).fill(0);
    transitions[0] = 1; // 0 -> 0
    transitions[9] = 1; // 1-30 -> 31-60
    const outcome = (previousLoans: number) => ({
      bucket: 0,
      watchlist: [],
      breaches: [],
      scoredLoans: 4,
      changes: 0,
      baseline: false,
      drift: {
        validCount: previousLoans,
        dpdCounts: [2, 1, 0, 0, 0, 0, 0],
        creditBandCounts: [3, 0, 0, 0, 0, 0, 0],
        productCounts: [0, 3, 0],
        transitions,
        matched: 2,
      },
      timings: {},
    });
    const plan = {
      ...event.plan,
      previousSnapshotDate: '2026-11-24',
      driftFromScores: { runId: 'r1', buckets: 1, loans: 3 },
    };
    const drifting = { ...event, plan, merged: { ...event.merged, driftInBuckets: true as const } };
    const resultKey = KEYS.bucketResult(date, runId, 0);

    // Act: counts of 2 previous loans where the manifest has 3; then the right counts.
    await deps.artifacts.put(
      resultKey,
      JSON.stringify({ ...outcome(2), drift: { ...outcome(2).drift, dpdCounts: [1, 1, 0, 0, 0, 0, 0] } }),
      'application/json',
    );
    const refused = finalizeRun(drifting, deps);
    await expect(refused).rejects.toThrow(
      "the loan-id buckets read 2 loans of 2026-11-24's score files where its manifest counts 3: drift not counted",
    );
    expect(await deps.artifacts.get(KEYS.audit(date))).toBeNull();
    await deps.artifacts.put(resultKey, JSON.stringify(outcome(3)), 'application/json');
    await finalizeRun(drifting, deps);

    // Assess: of 2 current loans one stayed and one closed; the 1-30 loan rolled to 31-60; 2 of
    // today's 4 loans are new. The sections are the draft's, in audit.json's order.
    const audit = JSON.parse(Buffer.from((await deps.artifacts.get(KEYS.audit(date)))!).toString('utf8'));
    expect(audit.drift.rollRates).toEqual({ '0': { '0': 0.5, closed: 0.5 }, '1-30': { '31-60': 1 } });
    expect(audit.drift.newLoans).toBe(2);
    expect(audit.drift.psi.product).toBe(0);
    expect(audit.portfolio).toEqual(sections.portfolio);
    expect(Object.keys(audit)).toEqual([
      'schemaVersion',
      'snapshotDate',
      'previousSnapshotDate',
      'status',
      'input',
      'portfolio',
      'concentration',
      'compliance',
      'vulnerability',
      'drift',
      'dataQuality',
      'ratings',
      'findings',
    ]);
  });
});
