import type { Product } from '../loan.ts';

/** Index into DPD_BUCKETS of a days-past-due value. */
export function dpdBucketIndex(d: number): number {
  if (d <= 0) return 0;
  if (d <= 30) return 1;
  if (d <= 60) return 2;
  if (d <= 90) return 3;
  if (d <= 180) return 4;
  if (d <= 360) return 5;
  return 6;
}

/**
 * Index into CLASSIFICATIONS (China's five categories) by days past due: the card scale for
 * consumer credit (substandard 91-120, doubtful 121-180, loss > 180), the loan scale otherwise
 * (substandard 91-270, doubtful 271-360, loss > 360).
 */
export function classificationIndex(product: Product, d: number): number {
  if (d <= 0) return 0;
  if (d <= 90) return 1;
  if (product === 'consumer_credit') {
    if (d <= 120) return 2;
    if (d <= 180) return 3;
    return 4;
  }
  if (d <= 270) return 2;
  if (d <= 360) return 3;
  return 4;
}

/** Index into IFRS9_STAGES: stage 1 up to 30 days past due, stage 2 31-90, stage 3 above 90. */
export function stageIndex(d: number): number {
  if (d <= 30) return 0;
  if (d <= 90) return 1;
  return 2;
}

/** Index into CREDIT_SCORE_BANDS (missing, <550, 550-599, ..., 750+). */
export function creditBandIndex(score: number | null): number {
  if (score === null) return 0;
  if (score < 550) return 1;
  if (score < 600) return 2;
  if (score < 650) return 3;
  if (score < 700) return 4;
  if (score < 750) return 5;
  return 6;
}

/** Index into MATURITY_BANDS of the days from the snapshot date to maturity. */
export function maturityBandIndex(days: number): number {
  if (days < 0) return 0;
  if (days <= 7) return 1;
  if (days <= 30) return 2;
  if (days <= 90) return 3;
  if (days <= 365) return 4;
  return 5;
}

/** Index into PRODUCTS. */
export function productIndex(p: Product): number {
  return p === 'order_financing' ? 0 : p === 'credit_loan' ? 1 : 2;
}
