import { describe, expect, it } from 'vitest';
import { scoreBucketsFor } from '../../../shared/domain/store/score-buckets.ts';
import { WorkflowLimitError } from '../../../shared/errors.ts';
import type { MapRunOutput } from '../../../shared/schema/map-run.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import {
  assertPlanFits,
  planShards,
  STATE_LIMIT_BYTES,
  tapeBytesEstimate,
  workflowStateBytes,
} from '../../../shared/use-cases/prepare-run.ts';
import type { MergedRun, RunPlan } from '../../../shared/use-cases/workflow-types.ts';

const DATE = '2026-11-25';
const RUN_ID = '2026-11-25T063012Z-3fa9c1';
const MiB = 1024 * 1024;

/** A delivery of `count` parts of `bytes` each, as the plan's parts file lists them. */
function delivery(count: number, bytes: number) {
  return Array.from({ length: count }, (_, i) => ({
    key: `${KEYS.tapePrefix(DATE)}loans-part-${String(i).padStart(6, '0')}.csv`,
    bytes,
    lastModified: new Date('2026-11-25T21:58:03.000Z'),
  }));
}

/** The plan prepare hands on for a delivery (what the state carries), and its shards (what S3 holds). */
function plan(parts: ReturnType<typeof delivery>, warnings: RunPlan['warnings'] = []) {
  const scoreBuckets = scoreBucketsFor(
    parts.reduce((n, p) => n + tapeBytesEstimate(p), 0),
    1024 * MiB,
  );
  const shards = planShards(
    parts,
    { runId: RUN_ID, snapshotDate: DATE, previousSnapshotDate: '2026-11-24', scoreBuckets },
    128 * MiB,
  );
  const runPlan: RunPlan = {
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    currency: 'CNY',
    trigger: 'schedule',
    startedAt: '2026-11-25T22:00:01.123Z',
    partsKey: KEYS.runParts(DATE, RUN_ID),
    partCount: parts.length,
    shardsKey: KEYS.shardList(DATE, RUN_ID),
    shardCount: shards.length,
    resultsPrefix: KEYS.mapResults(DATE, RUN_ID),
    scoreBuckets,
    warnings,
  };
  return { runPlan, shards };
}

/** The largest state the workflow holds: what the failure step's state carries after Finalize, as JSON. */
function finalState(runPlan: RunPlan): string {
  const exported = (map: string): MapRunOutput => ({
    MapRunArn: `arn:aws:states:ap-southeast-1:123456789012:mapRun:RiskAuditWorkflow/${map}:5b3c9d2e-0c1a-4f7e-9a51-2f0d7e5c8b11`,
    ResultWriterDetails: {
      Bucket: 'riskaudit-databucket1a2b3c4d-1q2w3e4r5t6y',
      Key: `${runPlan.resultsPrefix}/5b3c9d2e-0c1a-4f7e-9a51-2f0d7e5c8b11/manifest.json`,
    },
  });
  const merged: MergedRun = {
    draftKey: KEYS.auditDraft(DATE, RUN_ID),
    bucketsKey: KEYS.bucketList(DATE, RUN_ID),
    timings: { mergePartials: 168_000, audit: 30_000, carriedIndex: 70_000 },
  };
  const sentence = 'a sentence of about two hundred characters, the longest our errors carry: '.repeat(3);
  return JSON.stringify({
    trigger: 'schedule',
    scheduledTime: '2026-11-25T22:00:00Z',
    plan: runPlan,
    shardResults: exported('ScoreShards'),
    merged,
    bucketResults: exported('MergeScores'),
    outcome: { runId: RUN_ID, snapshotDate: DATE, status: 'partial', auditKey: KEYS.audit(DATE) },
    error: {
      Error: 'TapeUnreadableError',
      Cause: JSON.stringify({ errorType: 'TapeUnreadableError', errorMessage: sentence, trace: [sentence] }),
    },
    execution: { name: '2026-11-25-schedule-mh3k2x1p', startTime: '2026-11-25T22:00:00.412Z' },
  });
}

describe('Function: assertPlanFits', () => {
  it('lets a 100M-loan book through in one part (126 shards, 16 buckets) with a state far under the limit', () => {
    const { runPlan, shards } = plan(delivery(1, 16_800_000_000));
    expect(shards).toHaveLength(126);
    expect(runPlan.scoreBuckets).toBe(16);
    expect(() => assertPlanFits(runPlan)).not.toThrow();
    const real = Buffer.byteLength(finalState(runPlan));
    // The estimate is not below the real state, and both are far under the limit.
    expect(workflowStateBytes(runPlan)).toBeGreaterThanOrEqual(real);
    expect(real).toBeLessThan(STATE_LIMIT_BYTES / 50);
  });

  it('carries the same book in 450, 1,000 or 100,000 parts in a state of the same size (the old bound was about 450)', () => {
    const sizes = [450, 1_000, 100_000].map((count) => {
      const { runPlan, shards } = plan(delivery(count, Math.round(16_800_000_000 / count)));
      expect(shards, `${count} parts`).toHaveLength(count);
      expect(() => assertPlanFits(runPlan)).not.toThrow();
      expect(workflowStateBytes(runPlan)).toBeGreaterThanOrEqual(Buffer.byteLength(finalState(runPlan)));
      return Buffer.byteLength(finalState(runPlan));
    });
    // Only the digits of the counts differ.
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(8);
  });

  it('refuses, in one sentence naming the parts and the limit, a plan whose own fields pass the limit', () => {
    const warnings = Array.from({ length: 300 }, (_, i) => ({
      code: 'PREVIOUS_TAPE_UNREADABLE',
      message: `drift not computed: ${'x'.repeat(1000)} ${i}`,
    }));
    const { runPlan } = plan(delivery(3, 1_000_000), warnings);
    expect(() => assertPlanFits(runPlan)).toThrow(WorkflowLimitError);
    expect(() => assertPlanFits(runPlan)).toThrow(
      /^the plan of the tape's 3 part\(s\) is more than one audit run can carry \(its workflow state would be about \d+ KB; Step Functions allows 256 KB\)$/,
    );
    expect(Buffer.byteLength(finalState(runPlan))).toBeGreaterThan(STATE_LIMIT_BYTES);
  });
});
