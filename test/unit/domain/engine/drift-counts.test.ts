import { describe, expect, it } from 'vitest';
import {
  addBucketDrift,
  DriftTally,
  emptyBucketDrift,
} from '../../../../shared/domain/engine/drift-counts.ts';
import { driftSection } from '../../../../shared/domain/engine/sections/drift.ts';

const fields = (dpdBucket: string, creditBand: string, product: string) => ({
  dpdBucket,
  creditBand,
  product,
});

describe('Class: DriftTally and addBucketDrift', () => {
  it("adds two buckets' counts into the previous tape's and the roll rates one pass gives", () => {
    // Prepare: bucket 0 had A (current, 550-599, order financing), closed since, and B (1-30,
    // 750+, credit loan), now 31-60; bucket 1 had C (current, missing, consumer credit), still
    // current. Today also holds a new loan D (not on the previous date).
    const b0 = new DriftTally();
    b0.previous(fields('0', '550-599', 'order_financing'));
    b0.both(fields('1-30', '750+', 'credit_loan'), fields('31-60', '750+', 'credit_loan'));
    const b1 = new DriftTally();
    b1.both(fields('0', 'missing', 'consumer_credit'), fields('0', 'missing', 'consumer_credit'));

    // Act
    const counts = addBucketDrift('2026-11-24', [b0.result(), b1.result()]);
    const today = {
      loans: 3,
      creditBandCount: [1, 0, 0, 0, 0, 0, 2],
      productCount: [1, 1, 1],
      dpdCount: [2, 0, 1, 0, 0, 0, 0],
    };
    const { section, findings } = driftSection(today, counts);

    // Assess: three previous loans, two of them matched; transitions 1-30 -> 31-60 (1*7+2) and
    // 0 -> 0. Roll rates: of the two current loans one stayed, one closed; the 1-30 loan rolled.
    expect(counts.previous).toEqual({
      snapshotDate: '2026-11-24',
      validCount: 3,
      dpdCounts: [2, 1, 0, 0, 0, 0, 0],
      creditBandCounts: [1, 0, 1, 0, 0, 0, 1],
      productCounts: [1, 1, 1],
    });
    expect(counts.matched).toBe(2);
    expect(counts.transitions.flatMap((n, i) => (n > 0 ? [[i, n]] : []))).toEqual([
      [0, 1],
      [9, 1],
    ]);
    expect(findings).toEqual([]);
    expect(section.rollRates).toEqual({ '0': { '0': 0.5, closed: 0.5 }, '1-30': { '31-60': 1 } });
    expect(section.newLoans).toBe(1);
    // PSI of the products: each is a third on both dates, so 0.
    expect(section.psi?.product).toBe(0);
  });

  it('gives the counts of no previous loans for no buckets, and refuses counts of another length', () => {
    const none = addBucketDrift('2026-11-24', []);
    expect(none.previous?.validCount).toBe(0);
    expect(none.transitions).toHaveLength(49);
    const short = { ...emptyBucketDrift(), transitions: [1, 2, 3] };
    expect(() => addBucketDrift('2026-11-24', [short])).toThrow(
      "a bucket's transition counts have 3 entries, not 49",
    );
  });

  it('refuses a loan whose dpd bucket drift does not know', () => {
    expect(() => new DriftTally().previous(fields('1-29', 'missing', 'credit_loan'))).toThrow(
      'a scored loan\'s dpd bucket "1-29" is not one drift counts',
    );
  });
});
