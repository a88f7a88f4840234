/**
 * Each loan's latest row in a panel export (several rows per loan, e.g. one a month), for a
 * mapping's `latest: { by: ... }`: the row with the largest `by` value wins, the first of equal
 * ones. Filled by a ranking pass over the tape; the reading pass then skips every other row of
 * the loan as superseded, except those tied with the winner, which go on to be quarantined as
 * repeats of its loan id (two rows for the same month are a data problem, not a history).
 * Loans are keyed by the 64-bit hash of their id (engine/hash.ts), 24 bytes a slot.
 */
export class LatestRows {
  private mask: number;
  private hi: Uint32Array;
  private lo: Uint32Array;
  private best: Float64Array;
  private row: Float64Array;
  /** Loans held. */
  public size = 0;

  public constructor(expectedLoans = 1 << 14) {
    let cap = 16;
    while (cap * 3 < expectedLoans * 4) cap *= 2;
    this.mask = cap - 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.best = new Float64Array(cap);
    this.row = new Float64Array(cap);
  }

  private slot(hi: number, lo: number): number {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (this.hi[i] !== 0 || this.lo[i] !== 0) {
      if (this.hi[i] === hi && this.lo[i] === lo) return i;
      i = (i + 1) & this.mask;
    }
    return i;
  }

  /** Ranks row number `row` of the loan (hash hi, lo) with value `by`. */
  public rank(hi: number, lo: number, by: number, row: number): void {
    const i = this.slot(hi, lo);
    if (this.hi[i] === 0 && this.lo[i] === 0) {
      this.hi[i] = hi;
      this.lo[i] = lo;
      this.best[i] = by;
      this.row[i] = row;
      if (++this.size * 4 > (this.mask + 1) * 3) this.grow();
      return;
    }
    if (by > this.best[i]!) {
      this.best[i] = by;
      this.row[i] = row;
    }
  }

  /** Whether a row of a ranked loan is superseded: not the winner and below its value. */
  public isSuperseded(hi: number, lo: number, by: number, row: number): boolean {
    const i = this.slot(hi, lo);
    if (this.hi[i] === 0 && this.lo[i] === 0) return false;
    return row !== this.row[i] && by < this.best[i]!;
  }

  private grow(): void {
    const { hi, lo, best, row } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.best = new Float64Array(cap);
    this.row = new Float64Array(cap);
    for (let j = 0; j < hi.length; j++) {
      if (hi[j] === 0 && lo[j] === 0) continue;
      const i = this.slot(hi[j]!, lo[j]!);
      this.hi[i] = hi[j]!;
      this.lo[i] = lo[j]!;
      this.best[i] = best[j]!;
      this.row[i] = row[j]!;
    }
  }
}
