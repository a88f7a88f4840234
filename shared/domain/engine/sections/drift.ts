/**
 * The drift section against the previous tape: the population stability index of the credit score
 * bands, products and days-past-due buckets (null when either tape has no loans), the roll rates
 * from each previous bucket to today's buckets or closed, and the loans new since. Without a
 * previous tape every figure is null and the finding DRIFT_NO_PREVIOUS_TAPE says so.
 */

import { DPD_BUCKETS, type DriftSection, type Finding } from '../../audit-result.ts';
import type { PartialAudit, PreviousSummary } from '../accumulator.ts';

/** Today's counts drift compares: loans, and loans per credit band, product and dpd bucket. */
export type TodayCounts = Pick<PartialAudit, 'loans' | 'creditBandCount' | 'productCount' | 'dpdCount'>;

/**
 * The previous tape's side of drift: its counts (null without a previous tape), today's loans
 * per (previous bucket, today's bucket), and how many of today's loans it held. A shard fills
 * them from the previous tape's index (a partial has these fields); the loan-id buckets from the
 * join of the two dates' score files (drift-counts.ts).
 */
export interface DriftCounts {
  previous: PreviousSummary | null;
  /** transitions[from * 7 + to]: loans in previous bucket `from` now in bucket `to`. */
  transitions: readonly number[];
  matched: number;
}

function psi(
  today: readonly number[],
  todayTotal: number,
  before: readonly number[],
  beforeTotal: number,
): number {
  let sum = 0;
  for (let i = 0; i < today.length; i++) {
    const a0 = today[i]!;
    const e0 = before[i] ?? 0;
    if (a0 === 0 && e0 === 0) continue; // outside the union of categories
    const a = Math.max(a0 / todayTotal, 0.0001);
    const e = Math.max(e0 / beforeTotal, 0.0001);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Builds the drift section from today's counts and the previous tape's, with its finding when there is none. */
export function driftSection(
  partial: TodayCounts,
  drift: DriftCounts,
): { section: DriftSection; findings: Finding[] } {
  const prev = drift.previous;
  if (prev === null) {
    return {
      section: { psi: null, rollRates: null, newLoans: null },
      findings: [
        {
          category: 'technical',
          severity: 'info',
          code: 'DRIFT_NO_PREVIOUS_TAPE',
          message: 'no previous tape to compare with: drift and roll rates not computed',
          value: null,
          threshold: null,
        },
      ],
    };
  }
  const psiSection =
    partial.loans > 0 && prev.validCount > 0
      ? {
          creditScore: psi(partial.creditBandCount, partial.loans, prev.creditBandCounts, prev.validCount),
          product: psi(partial.productCount, partial.loans, prev.productCounts, prev.validCount),
          dpdBucket: psi(partial.dpdCount, partial.loans, prev.dpdCounts, prev.validCount),
        }
      : null;
  const rollRates: Record<string, Record<string, number>> = {};
  DPD_BUCKETS.forEach((from, f) => {
    const n = prev.dpdCounts[f]!;
    if (n === 0) return;
    const row: Record<string, number> = {};
    let stayed = 0;
    DPD_BUCKETS.forEach((to, t) => {
      const c = drift.transitions[f * 7 + t]!;
      stayed += c;
      if (c > 0) row[to] = c / n;
    });
    if (n - stayed > 0) row.closed = (n - stayed) / n;
    rollRates[from] = row;
  });
  return { section: { psi: psiSection, rollRates, newLoans: partial.loans - drift.matched }, findings: [] };
}
