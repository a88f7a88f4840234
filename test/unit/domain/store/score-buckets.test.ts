import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketOfId,
  MAX_SCORE_BUCKETS,
  previousBucketsOf,
  scoreBucketsFor,
} from '../../../../shared/domain/store/score-buckets.ts';
import { tapeBytesEstimate } from '../../../../shared/use-cases/prepare-run.ts';

const GiB = 1024 ** 3;

describe('Function: scoreBucketsFor', () => {
  it('gives the power of two that keeps each bucket within its bytes', () => {
    expect(scoreBucketsFor(0, GiB)).toBe(1);
    expect(scoreBucketsFor(GiB, GiB)).toBe(1);
    expect(scoreBucketsFor(GiB + 1, GiB)).toBe(2);
    expect(scoreBucketsFor(3 * GiB, GiB)).toBe(4);
    // A 100M-loan tape (about 16.5 GB of CSV) in 1 GiB buckets.
    expect(scoreBucketsFor(16.5e9, GiB)).toBe(16);
  });

  it(`stops at ${MAX_SCORE_BUCKETS}`, () => {
    expect(scoreBucketsFor(1e15, GiB)).toBe(MAX_SCORE_BUCKETS);
  });
});

describe('Function: tapeBytesEstimate', () => {
  it('counts a gzip or Parquet part as four times its bytes, a plain CSV or JSON Lines part as its bytes', () => {
    expect(tapeBytesEstimate({ key: 'snapshots/d/loans.csv', bytes: 1000 })).toBe(1000);
    expect(tapeBytesEstimate({ key: 'snapshots/d/loans.jsonl', bytes: 1000 })).toBe(1000);
    expect(tapeBytesEstimate({ key: 'snapshots/d/loans.csv.gz', bytes: 1000 })).toBe(4000);
    expect(tapeBytesEstimate({ key: 'snapshots/d/loans.parquet', bytes: 1000 })).toBe(4000);
    // A 100M-loan book delivered gzipped (about 4.4 GB) still gets buckets of about 1 GiB of CSV.
    expect(scoreBucketsFor(tapeBytesEstimate({ key: 'x.csv.gz', bytes: 4.4e9 }), GiB)).toBe(32);
  });
});

describe('Function: bucketOfId', () => {
  it('spreads ids evenly: 40,000 sequential ids over 16 buckets within 10% of the mean', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 40_000; i++) counts[bucketOfId(`L${String(i).padStart(9, '0')}`, 16)]!++;
    for (const n of counts) expect(Math.abs(n - 2500)).toBeLessThan(250);
  });

  it('puts every id in bucket 0 of 1', () => {
    expect(bucketOfId('anything', 1)).toBe(0);
  });
});

describe('Function: previousBucketsOf', () => {
  it('names exactly the previous buckets that hold a bucket’s loans, for any pair of bucket counts', () => {
    const pow2 = fc.integer({ min: 0, max: 8 }).map((k) => 2 ** k);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), pow2, pow2, (id, buckets, previous) => {
        const today = bucketOfId(id, buckets);
        const before = bucketOfId(id, previous);
        // The id's previous bucket is among those its bucket reads...
        const read = previousBucketsOf(today, buckets, previous);
        expect(read.buckets).toContain(before);
        // ...and no other bucket of today reads it.
        for (let b = 0; b < buckets; b++)
          if (b !== today && !read.filter)
            expect(previousBucketsOf(b, buckets, previous).buckets).not.toContain(before);
        // A filter is needed exactly when the previous date had fewer buckets.
        expect(read.filter).toBe(previous < buckets);
      }),
      { numRuns: 300 },
    );
  });

  it('reads one previous bucket when there were fewer, several when there were more', () => {
    expect(previousBucketsOf(5, 8, 2)).toEqual({ buckets: [1], filter: true });
    expect(previousBucketsOf(3, 4, 4)).toEqual({ buckets: [3], filter: false });
    expect(previousBucketsOf(1, 2, 8)).toEqual({ buckets: [1, 3, 5, 7], filter: false });
  });
});
