import { riskStateChanged } from '../engine/scorecard.ts';
import type { ScoredLoan } from './score-file.ts';

/**
 * Sorted score streams merged and joined by loan id: the bucket stage's k-way merge of its
 * shards' files, and the day-over-day join that finds what changed.
 */

/** A loan with other rule codes. */
export function withRuleCodes(s: ScoredLoan, ruleCodes: string[]): ScoredLoan {
  return { ...s, ruleCodes };
}

/**
 * A read position in a stream of batches: the item under it is read synchronously, and the
 * stream is awaited only when a batch runs out (once per batch, not per item).
 */
class BatchCursor<T> {
  private batch: T[] = [];
  private at = 0;
  private readonly it: AsyncIterator<T[]>;

  public constructor(source: AsyncIterable<T[]>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The current item; only after `ready()` answered true. */
  public get head(): T {
    return this.batch[this.at]!;
  }

  /** Moves past the current item; call `ready()` before reading `head` again. */
  public advance(): void {
    this.at++;
  }

  /** Whether an item is under the cursor, reading the next non-empty batch if needed. */
  public async ready(): Promise<boolean> {
    while (this.at >= this.batch.length) {
      const r = await this.it.next();
      if (r.done) return false;
      this.batch = r.value;
      this.at = 0;
    }
    return true;
  }

  /** `ready()` without a promise while the current batch lasts. */
  public hasBuffered(): boolean {
    return this.at < this.batch.length;
  }
}

/** Items gathered per yielded batch by the merge and the join. */
const OUT_BATCH = 4096;

/**
 * Merges sorted batch streams of scored loans into one sorted batch stream, each loan with the
 * index of the stream it came from; equal loan ids (a loan repeated across shards) come from the
 * earliest stream first.
 */
export async function* mergeSortedScores(
  sources: AsyncIterable<ScoredLoan[]>[],
): AsyncGenerator<[ScoredLoan, number][]> {
  const cursors = sources.map((s) => new BatchCursor(s));
  const live = await Promise.all(cursors.map((c) => c.ready()));
  let out: [ScoredLoan, number][] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < cursors.length; i++) {
      if (!live[i]) continue;
      if (best < 0 || cursors[i]!.head.loanId < cursors[best]!.head.loanId) best = i;
    }
    if (best < 0) break;
    const c = cursors[best]!;
    out.push([c.head, best]);
    c.advance();
    if (!c.hasBuffered()) {
      if (out.length > 0) {
        yield out;
        out = [];
      }
      live[best] = await c.ready();
    } else if (out.length >= OUT_BATCH) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/** One step of the day-over-day join of two sorted score streams. */
export type ScoreChange =
  | { kind: 'new'; today: ScoredLoan }
  | { kind: 'changed'; today: ScoredLoan; before: ScoredLoan }
  | { kind: 'same'; today: ScoredLoan; before: ScoredLoan }
  | { kind: 'closed'; before: ScoredLoan };

/** Merge-joins today's and the previous day's sorted scores (batch streams) by loan id. */
export async function* joinScores(
  today: AsyncIterable<ScoredLoan[]>,
  before: AsyncIterable<ScoredLoan[]>,
): AsyncGenerator<ScoreChange[]> {
  const t = new BatchCursor(today);
  const b = new BatchCursor(before);
  let tLive = await t.ready();
  let bLive = await b.ready();
  let out: ScoreChange[] = [];
  while (tLive || bLive) {
    const tr = tLive ? t.head : null;
    const br = bLive ? b.head : null;
    if (br === null || (tr !== null && tr.loanId < br.loanId)) {
      out.push({ kind: 'new', today: tr! });
      t.advance();
    } else if (tr === null || br.loanId < tr.loanId) {
      out.push({ kind: 'closed', before: br });
      b.advance();
    } else {
      // A change in the risk state a risk officer watches makes a history item.
      const kind = riskStateChanged(br, tr) ? 'changed' : 'same';
      out.push({ kind, today: tr, before: br });
      t.advance();
      b.advance();
    }
    const tMore = !tLive || t.hasBuffered();
    const bMore = !bLive || b.hasBuffered();
    if (!tMore || !bMore || out.length >= OUT_BATCH) {
      if (out.length > 0) {
        yield out;
        out = [];
      }
      if (!tMore) tLive = await t.ready();
      if (!bMore) bLive = await b.ready();
    }
  }
  if (out.length > 0) yield out;
}
