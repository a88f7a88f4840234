/**
 * Drift's counts from the join of two dates' score files, one loan-id bucket at a time: the
 * previous date's loans per dpd bucket, credit band and product, and today's loans per (previous
 * bucket, today's bucket). Each bucket holds a disjoint set of loan ids, so the buckets' counts
 * add up to the counts of one pass over the two tapes: the ones a shard fills from the previous
 * tape's index (sections/drift.ts reads either).
 */

import { CREDIT_SCORE_BANDS, DPD_BUCKETS } from '../audit-result.ts';
import { PRODUCTS } from '../loan.ts';
import type { DriftCounts } from './sections/drift.ts';

/** What drift reads of a scored loan. */
export interface DriftFields {
  dpdBucket: string;
  creditBand: string;
  product: string;
}

/** One bucket's drift counts, as its outcome stores them (plain JSON, added by `addBucketDrift`). */
export interface BucketDrift {
  /** The previous date's loans in the bucket. */
  validCount: number;
  dpdCounts: number[];
  creditBandCounts: number[];
  productCounts: number[];
  /** transitions[from * 7 + to]: today's loans in previous bucket `from` now in bucket `to`. */
  transitions: number[];
  /** Today's loans the previous date also held. */
  matched: number;
}

function indexIn(list: readonly string[], value: string, what: string): number {
  const i = list.indexOf(value);
  if (i < 0) throw new Error(`a scored loan's ${what} ${JSON.stringify(value)} is not one drift counts`);
  return i;
}

/** Counts one bucket's join as it goes: every previous loan once, and each loan on both dates. */
export class DriftTally {
  private readonly counts: BucketDrift = emptyBucketDrift();

  /** A loan of the previous date (closed since, or still on today's tape); gives its dpd bucket's index. */
  public previous(before: DriftFields): number {
    const c = this.counts;
    const dpd = indexIn(DPD_BUCKETS, before.dpdBucket, 'dpd bucket');
    c.validCount++;
    c.dpdCounts[dpd]!++;
    c.creditBandCounts[indexIn(CREDIT_SCORE_BANDS, before.creditBand, 'credit band')]!++;
    c.productCounts[indexIn(PRODUCTS, before.product, 'product')]!++;
    return dpd;
  }

  /** A loan on both dates: counted as a previous loan and as a transition. */
  public both(before: DriftFields, today: DriftFields): void {
    const from = this.previous(before);
    const to = indexIn(DPD_BUCKETS, today.dpdBucket, 'dpd bucket');
    this.counts.transitions[from * DPD_BUCKETS.length + to]!++;
    this.counts.matched++;
  }

  public result(): BucketDrift {
    const c = this.counts;
    return {
      validCount: c.validCount,
      dpdCounts: [...c.dpdCounts],
      creditBandCounts: [...c.creditBandCounts],
      productCounts: [...c.productCounts],
      transitions: [...c.transitions],
      matched: c.matched,
    };
  }
}

/** Counts of a bucket with no loans. */
export function emptyBucketDrift(): BucketDrift {
  return {
    validCount: 0,
    dpdCounts: new Array<number>(DPD_BUCKETS.length).fill(0),
    creditBandCounts: new Array<number>(CREDIT_SCORE_BANDS.length).fill(0),
    productCounts: new Array<number>(PRODUCTS.length).fill(0),
    transitions: new Array<number>(DPD_BUCKETS.length * DPD_BUCKETS.length).fill(0),
    matched: 0,
  };
}

/**
 * The drift counts of a run from every bucket's (in any order: they are sums), against the
 * previous date `previousDate`.
 */
export function addBucketDrift(previousDate: string, buckets: readonly BucketDrift[]): DriftCounts {
  const sum = emptyBucketDrift();
  const add = (to: number[], from: readonly number[], what: string): void => {
    if (from.length !== to.length)
      throw new Error(`a bucket's ${what} counts have ${from.length} entries, not ${to.length}`);
    for (let i = 0; i < to.length; i++) to[i]! += from[i]!;
  };
  for (const b of buckets) {
    sum.validCount += b.validCount;
    sum.matched += b.matched;
    add(sum.dpdCounts, b.dpdCounts, 'dpd bucket');
    add(sum.creditBandCounts, b.creditBandCounts, 'credit band');
    add(sum.productCounts, b.productCounts, 'product');
    add(sum.transitions, b.transitions, 'transition');
  }
  return {
    previous: {
      snapshotDate: previousDate,
      validCount: sum.validCount,
      dpdCounts: sum.dpdCounts,
      creditBandCounts: sum.creditBandCounts,
      productCounts: sum.productCounts,
    },
    transitions: sum.transitions,
    matched: sum.matched,
  };
}
