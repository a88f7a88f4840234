/**
 * Exact, order-independent floating-point summation (Shewchuk's algorithm, as in Python's
 * math.fsum). The running sum is a short list of non-overlapping partials that represent it with
 * no rounding error, so adding terms in any order, or merging two shards' lists, yields the same
 * exact sum; `exactSumValue` rounds it once, correctly. Used where terms are not whole fen
 * (rate x outstanding, expected loss, squared shares) so that sharded runs equal one pass bit for bit.
 */

/** Adds x into the partials in place (x must be finite). */
export function exactAdd(partials: number[], x: number): void {
  let i = 0;
  const n = partials.length;
  for (let j = 0; j < n; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  // Resize only when needed: setting an array's length is a slow runtime call.
  if (i < n) {
    partials[i] = x;
    if (i + 1 < n) partials.length = i + 1;
  } else {
    partials.push(x);
  }
}

/** The correctly rounded value of the exact sum the partials represent. */
export function exactSumValue(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  n -= 1;
  let hi = partials[n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    n -= 1;
    const y = partials[n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Round half-even correctly when the remaining partials push the sum past a tie.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

/** A new partials list holding the exact sum of both (neither input changes). */
export function exactMerge(a: readonly number[], b: readonly number[]): number[] {
  const out = a.slice();
  for (const x of b) exactAdd(out, x);
  return out;
}
