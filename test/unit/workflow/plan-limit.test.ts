import { describe, expect, it } from 'vitest';
import { scoreBucketsFor } from '../../../shared/domain/store/score-buckets.ts';
import { WorkflowLimitError } from '../../../shared/errors.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import {
  assertPlanFits,
  planShards,
  STATE_LIMIT_BYTES,
  tapeBytesEstimate,
  workflowStateBytes,
} from '../../../shared/use-cases/prepare-run.ts';
import type {
  BucketResult,
  BucketSpec,
  RunPlan,
  ShardResult,
} from '../../../shared/use-cases/workflow-types.ts';

const DATE = '2026-11-25';
const RUN_ID = '2026-11-25T0630Z-k3x9';
const MiB = 1024 * 1024;

/** A delivery of `count` parts of `bytes` each, listed as a plan keeps them. */
function delivery(count: number, bytes: number): RunPlan['parts'] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${KEYS.tapePrefix(DATE)}loans-part-${String(i).padStart(5, '0')}.csv`,
    bytes,
    lastModified: '2026-11-25T21:58:03.000Z',
  }));
}

function plan(parts: RunPlan['parts']) {
  const scoreBuckets = scoreBucketsFor(
    parts.reduce((n, p) => n + tapeBytesEstimate(p), 0),
    1024 * MiB,
  );
  const shards = planShards(
    parts.map((p) => ({ key: p.key, bytes: p.bytes, lastModified: new Date(p.lastModified!) })),
    { runId: RUN_ID, snapshotDate: DATE, previousSnapshotDate: '2026-11-24', scoreBuckets },
    128 * MiB,
  );
  return { parts, shards, scoreBuckets };
}

/** The largest state the workflow holds for this plan: what Finalize's state carries, as JSON. */
function finalState(p: ReturnType<typeof plan>): string {
  const runPlan: RunPlan = {
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    trigger: 'schedule',
    startedAt: '2026-11-25T22:00:01.123Z',
    parts: p.parts,
    shards: p.shards,
    scoreBuckets: p.scoreBuckets,
    warnings: [],
  };
  const shardResults: ShardResult[] = p.shards.map((s) => ({
    index: s.index,
    partialKey: KEYS.partial(DATE, RUN_ID, s.index),
    rowsRead: 812_345,
    rowsQuarantined: 12,
  }));
  const buckets: BucketSpec[] = Array.from({ length: p.scoreBuckets }, (_, bucket) => ({
    runId: RUN_ID,
    snapshotDate: DATE,
    previousSnapshotDate: '2026-11-24',
    bucket,
    buckets: p.scoreBuckets,
    shards: p.shards.length,
    previousScores: { runId: '2026-11-24T0630Z-ab12', buckets: p.scoreBuckets },
    contextKey: KEYS.bucketContext(DATE, RUN_ID),
  }));
  const bucketResults: BucketResult[] = buckets.map((b) => ({
    bucket: b.bucket,
    resultKey: KEYS.bucketResult(DATE, RUN_ID, b.bucket),
    loans: 6_250_000,
    changes: 90_000,
  }));
  const timings = { mergePartials: 168_000, audit: 30_000, carriedIndex: 70_000 };
  return JSON.stringify({
    trigger: 'schedule',
    scheduledTime: '2026-11-25T22:00:00Z',
    plan: runPlan,
    shardResults,
    merged: { draftKey: KEYS.auditDraft(DATE, RUN_ID), buckets, timings },
    bucketResults,
    outcome: { runId: RUN_ID, snapshotDate: DATE, status: 'partial', auditKey: KEYS.audit(DATE) },
  });
}

describe('Function: assertPlanFits', () => {
  it('lets a 100M-loan book through: one 16.8 GB CSV in 126 shards and 16 buckets', () => {
    const p = plan(delivery(1, 16_800_000_000));
    expect(p.shards).toHaveLength(126);
    expect(p.scoreBuckets).toBe(16);
    expect(() => assertPlanFits(p.parts, p.shards, p.scoreBuckets)).not.toThrow();
    const real = Buffer.byteLength(finalState(p));
    // The estimate is not below the real state, and both are far under the limit.
    expect(workflowStateBytes(p.parts, p.shards, p.scoreBuckets)).toBeGreaterThanOrEqual(real);
    expect(real).toBeLessThan(STATE_LIMIT_BYTES / 3);
  });

  it('estimates at or above the real state for the same book in many parts, up to where it refuses (about 450)', () => {
    for (const count of [10, 200, 450]) {
      const p = plan(delivery(count, Math.round(16_800_000_000 / count)));
      // Parts above 128 MiB split into byte ranges: 10 parts of 1.68 GB make 130 shards.
      expect(p.shards).toHaveLength(count === 10 ? 130 : count);
      expect(workflowStateBytes(p.parts, p.shards, p.scoreBuckets), `${count} parts`).toBeGreaterThanOrEqual(
        Buffer.byteLength(finalState(p)),
      );
    }
    const fits = plan(delivery(450, Math.round(16_800_000_000 / 450)));
    expect(() => assertPlanFits(fits.parts, fits.shards, fits.scoreBuckets)).not.toThrow();
  });

  it('refuses the same book in 1,000 parts in one sentence naming the parts, the shards and the limit', () => {
    const p = plan(delivery(1000, 16_800_000));
    expect(() => assertPlanFits(p.parts, p.shards, p.scoreBuckets)).toThrow(WorkflowLimitError);
    expect(() => assertPlanFits(p.parts, p.shards, p.scoreBuckets)).toThrow(
      /^the tape's 1000 part\(s\) make 1000 shards, more than one audit run can carry \(its workflow state would be about \d+ KB; Step Functions allows 256 KB\): deliver the tape in fewer, larger parts$/,
    );
    // And the real state would indeed not fit.
    expect(Buffer.byteLength(finalState(p))).toBeGreaterThan(STATE_LIMIT_BYTES);
  });
});
