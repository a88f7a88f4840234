import { describe, expect, it } from 'vitest';
import {
  bucketMergeNeedMb,
  estimateLoans,
  finalizeNeedMb,
  memoryRefusal,
  mergeAuditNeedMb,
  type PlanSize,
  planMemory,
  previousIndexMb,
  shardNeedMb,
} from '../../../../shared/domain/plan/memory.ts';

const MiB = 2 ** 20;
const DEPLOYED = {
  'score-shard': 1769,
  'merge-audit': 3008,
  'merge-scores': 1769,
  'finalize-audit': 1024,
} as const;

describe('Function: previousIndexMb', () => {
  it('is 8 bytes a slot, the slots a power of two at most 0.75 full', () => {
    // 1M / 0.75 = 1,333,334 slots -> 2^21 = 2,097,152 x 8 = 16,777,216 bytes.
    expect(previousIndexMb(1_000_000)).toBeCloseTo(16.777216, 6);
    // 10M -> 2^24 = 16,777,216 slots x 8 = 134,217,728 bytes.
    expect(previousIndexMb(10_000_000)).toBeCloseTo(134.217728, 6);
    // 100M -> 2^27 slots x 8 = 1,073,741,824 bytes.
    expect(previousIndexMb(100_000_000)).toBeCloseTo(1073.741824, 6);
    // 0.75 x 2^24 = 12,582,912 loans fill 2^24 slots exactly; one more doubles the table.
    expect(previousIndexMb(12_582_912)).toBeCloseTo(134.217728, 6);
    expect(previousIndexMb(12_582_913)).toBeCloseTo(268.435456, 6);
    expect(previousIndexMb(0)).toBe(0);
  });
});

describe('Function: shardNeedMb', () => {
  it('is 200 MB and 2.4 MB a MiB of tape, plus the drift index it holds', () => {
    // 200 + 2.4 x 128 = 507.2 MB.
    expect(shardNeedMb(128 * MiB, 0)).toBe(508);
    // + 16.78 MB at 1M loans = 523.98; + 134.22 at 10M = 641.42.
    expect(shardNeedMb(128 * MiB, 1_000_000)).toBe(524);
    expect(shardNeedMb(128 * MiB, 10_000_000)).toBe(642);
    // 200 + 2.4 x 512 = 1,428.8 + 134.22 = 1,563.02.
    expect(shardNeedMb(512 * MiB, 10_000_000)).toBe(1564);
  });

  it("counts the index twice while it downloads, once that passes the shard's own share", () => {
    // 100M: 200 + 2 x 1,073.74 = 2,347.48 MB downloading, against 507.2 + 1,073.74 = 1,580.94 scoring.
    expect(shardNeedMb(128 * MiB, 100_000_000)).toBe(2348);
    // 1 GiB shard: 200 + 2,457.6 + 1,073.74 = 3,731.34 scoring, more than the 2,347.48 downloading.
    expect(shardNeedMb(1024 * MiB, 100_000_000)).toBe(3732);
  });
});

describe('Function: estimateLoans', () => {
  it("divides the tape by the previous date's bytes a row, else by 160", () => {
    // 1,869,421,391 bytes at 1,865,321,942 / 10,000,000 = 186.53 bytes a row: 10,021,977.17.
    expect(estimateLoans(1_869_421_391, { tapeBytes: 1_865_321_942, rowsRead: 10_000_000 })).toBe(10_021_978);
    expect(estimateLoans(1_600_000_000)).toBe(10_000_000);
    expect(estimateLoans(1_600_000_000, { tapeBytes: 0, rowsRead: 0 })).toBe(10_000_000);
  });
});

describe('Functions: mergeAuditNeedMb, bucketMergeNeedMb, finalizeNeedMb', () => {
  it('grow with the loans from their measured fixed parts', () => {
    // merge-audit 200 + 210 a million: 410 at 1M, 2,300 at 10M, 21,200 at 100M.
    expect(mergeAuditNeedMb(1_000_000)).toBe(410);
    expect(mergeAuditNeedMb(10_000_000)).toBe(2300);
    expect(mergeAuditNeedMb(100_000_000)).toBe(21_200);
    // A bucket 200 + 215 a million: 415 for 1M, 1,275 for 5M.
    expect(bucketMergeNeedMb(1_000_000)).toBe(415);
    expect(bucketMergeNeedMb(5_000_000)).toBe(1275);
    // finalize 200 + 5 a million.
    expect(finalizeNeedMb(10_000_000)).toBe(250);
  });
});

/** The 10M two-day bench book's second date as prepare plans it: 14 shards, 2 buckets. */
const TEN_MILLION: PlanSize = {
  largestShardBytes: 133_530_100,
  largestShardWhole: false,
  loans: 10_021_978,
  previousLoans: 10_000_000,
  scoreBuckets: 2,
};

describe('Function: planMemory', () => {
  it("puts every step's need beside its function's memory", () => {
    // shard: 200 + 2.4 x 127.344 MiB = 505.63, + 134.22 of index = 639.84.
    // merge-audit: 200 + 210 x 10.021978 = 2,304.62.
    // bucket: 10,021,978 / 2 x 1.05 = 5,261,539 loans: 200 + 215 x 5.261539 = 1,331.23.
    // finalize: 200 + 5 x 10.021978 = 250.11.
    const { 'finalize-audit': _, ...withoutFinalize } = DEPLOYED;
    expect(planMemory(TEN_MILLION, withoutFinalize)).toEqual([
      { step: 'score-shard', needMb: 640, configuredMb: 1769 },
      { step: 'merge-audit', needMb: 2305, configuredMb: 3008 },
      { step: 'merge-scores', needMb: 1332, configuredMb: 1769 },
      { step: 'finalize-audit', needMb: 251, configuredMb: null },
    ]);
  });
});

describe('Function: memoryRefusal', () => {
  it('passes a plan every configured function holds', () => {
    expect(memoryRefusal(TEN_MILLION, DEPLOYED)).toBeNull();
    // Nothing configured (a local run): nothing to refuse.
    expect(memoryRefusal({ ...TEN_MILLION, loans: 100_000_000 }, {})).toBeNull();
  });

  it('names the step, its need, its memory and the setting to raise', () => {
    expect(memoryRefusal(TEN_MILLION, { ...DEPLOYED, 'merge-audit': 2048 })).toBe(
      "the run's merge-audit step would need about 2,305 MB for a book of about 10,021,978 loans, more than the 2,048 MB it is configured with: raise mergeMemoryMb to at least 2305",
    );
    expect(memoryRefusal(TEN_MILLION, { ...DEPLOYED, 'merge-scores': 1024 })).toBe(
      "the run's merge-scores step would need about 1,332 MB for a loan-id bucket of about 5,010,989 loans, more than the 1,024 MB it is configured with: raise bucketMemoryMb to at least 1332",
    );
  });

  it('offers smaller shards when the shard is what fills it, and another delivery for a whole part', () => {
    // 512 MiB: 200 + 1,228.8 + 134.22 = 1,563.02 MB.
    const big = { ...TEN_MILLION, largestShardBytes: 512 * MiB };
    expect(memoryRefusal(big, { ...DEPLOYED, 'score-shard': 1024 })).toBe(
      "the run's score-shard step would need about 1,564 MB for a shard of 512 MiB of tape with the previous date's drift index of 10,000,000 loans, more than the 1,024 MB it is configured with: raise shardMemoryMb to at least 1564 or lower shardBytes",
    );
    expect(memoryRefusal({ ...big, largestShardWhole: true }, { ...DEPLOYED, 'score-shard': 1024 })).toMatch(
      /: raise shardMemoryMb to at least 1564 or deliver that part in smaller or uncompressed parts$/,
    );
  });

  it("offers no smaller shards when the drift index's download is the need", () => {
    // 100M loans: 200 + 2 x 1,073.74 = 2,347.48 MB, whatever the shard's size.
    expect(memoryRefusal({ ...TEN_MILLION, previousLoans: 100_000_000 }, DEPLOYED)).toBe(
      "the run's score-shard step would need about 2,348 MB for a shard of 127 MiB of tape with the previous date's drift index of 100,000,000 loans, more than the 1,769 MB it is configured with: raise shardMemoryMb to at least 2348",
    );
  });

  it('refuses the step furthest over, saying when no Lambda is large enough', () => {
    // 100M loans: merge-audit 21,200 MB against 3,008 (over by 18,192), the shard 2,348 against 1,769 (579).
    const hundred: PlanSize = {
      ...TEN_MILLION,
      loans: 100_000_000,
      previousLoans: 100_000_000,
      scoreBuckets: 32,
    };
    expect(memoryRefusal(hundred, DEPLOYED)).toBe(
      "the run's merge-audit step would need about 21,200 MB for a book of about 100,000,000 loans, more than the 3,008 MB it is configured with: Lambda allows 10,240 MB at most, so this release cannot audit a book this size in one run (README, Scale plan)",
    );
  });
});
