/**
 * The orders of the nightly lists and the bounded keeper of their best N: every loan-id bucket
 * keeps its best N, finalize the book's best N of theirs, the store and the bench sort the same way.
 */

/** What the watchlist order reads of a loan. */
export interface RiskRanked {
  pd: number;
  outstanding: number;
  loanId: string;
}

/** What the breach index order reads of a loan. */
export interface BreachRanked {
  outstanding: number;
  loanId: string;
}

/** Watchlist order: the most likely to default first, then the largest exposure, then loan id. */
export function riskOrder(a: RiskRanked, b: RiskRanked): number {
  return b.pd - a.pd || b.outstanding - a.outstanding || (a.loanId < b.loanId ? -1 : 1);
}

/** Breach index order: the largest exposure first, then loan id. */
export function breachOrder(a: BreachRanked, b: BreachRanked): number {
  return b.outstanding - a.outstanding || (a.loanId < b.loanId ? -1 : 1);
}

/**
 * Bounded best-N keeper (sort-and-cut when twice full): O(n log N) over a whole book. The orders
 * are total (loan ids are distinct), so the best N of every bucket's best N is the book's best N.
 */
export class TopN<T> {
  private items: T[] = [];
  /** The last item kept at the latest cut: an item ordered after it can never be kept. */
  private worst: T | null = null;
  public constructor(
    private readonly limit: number,
    private readonly order: (a: T, b: T) => number,
  ) {}
  public offer(item: T): void {
    if (this.worst !== null && this.order(item, this.worst) > 0) return;
    this.items.push(item);
    if (this.items.length >= this.limit * 2) {
      this.items = this.items.sort(this.order).slice(0, this.limit);
      this.worst = this.items[this.limit - 1]!;
    }
  }
  public result(): T[] {
    return this.items.sort(this.order).slice(0, this.limit);
  }
}
