/**
 * Loan-id buckets of the score files. A book's loans are split by the hash of their id into a
 * power-of-two number of buckets, each merged and joined with the previous date on its own (one
 * Distributed Map item each), so no single step has to pass over every loan of a 100M-loan book.
 * A loan's bucket is the low bits of the high half of its id's 64-bit hash (engine/hash.ts), so
 * the bucket of a loan under B buckets determines its bucket under any B' <= B: books can change
 * their bucket count from one date to the next and still be joined bucket by bucket.
 */
import { hash64, hashOut } from '../engine/hash.ts';

/** Most buckets a date's score file is split into. */
export const MAX_SCORE_BUCKETS = 256;

/** Buckets for a tape of `tapeBytes`: the power of two giving each at most `bucketBytes` of tape. */
export function scoreBucketsFor(tapeBytes: number, bucketBytes: number): number {
  const wanted = Math.max(1, Math.ceil(tapeBytes / bucketBytes));
  let buckets = 1;
  while (buckets < wanted && buckets < MAX_SCORE_BUCKETS) buckets *= 2;
  return buckets;
}

/** The bucket of a loan whose id hashes to (hi, ·) among `buckets` (a power of two). */
export function bucketOfHash(hi: number, buckets: number): number {
  return hi & (buckets - 1);
}

/** The bucket of a loan id among `buckets`. */
export function bucketOfId(loanId: string, buckets: number): number {
  hash64(loanId);
  return bucketOfHash(hashOut.hi, buckets);
}

/**
 * The previous date's buckets (of `previousBuckets`) that hold the loans of today's `bucket` (of
 * `buckets`): one bucket holding them and others when the previous date had fewer buckets (its
 * loans must then be filtered by `bucketOfId`), several when it had more.
 */
export function previousBucketsOf(
  bucket: number,
  buckets: number,
  previousBuckets: number,
): { buckets: number[]; filter: boolean } {
  if (previousBuckets <= buckets)
    return { buckets: [bucket & (previousBuckets - 1)], filter: previousBuckets < buckets };
  const out: number[] = [];
  for (let b = bucket; b < previousBuckets; b += buckets) out.push(b);
  return { buckets: out, filter: false };
}
