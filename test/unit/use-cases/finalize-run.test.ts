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
});
