import { decodeScoreFile, streamScoreBatches } from '../domain/store/score-file.ts';
import type { ScoredLoan } from './audit-engine.ts';

export { GzipLineWriter, gzipLines } from '../domain/store/score-file.ts';

/**
 * The score file: every valid loan's scored state as gzip JSON Lines sorted by loan id. Shards
 * write one each; finalize merges them (k-way, streaming) into the date's file, which the next
 * day reads back as its baseline for "what changed".
 */

const text = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** The line a scored loan was read from (readScores), kept while the loan is unchanged. */
const READ_FROM = Symbol('score line read');

/**
 * `JSON.stringify(s)`, character for character (a test checks it), written out for the fixed
 * shape of a scored loan: about 3x faster, and a shard writes one line per loan. Free text (ids,
 * region, industry) still goes through JSON.stringify; numbers are finite. A loan read from a
 * score file and passed on unchanged gets back the line it was read from (the same text: JSON
 * numbers round-trip exactly), so a merge does not serialise every loan again.
 */
export function scoreLine(s: ScoredLoan): string {
  const read = (s as { [READ_FROM]?: string })[READ_FROM];
  if (read !== undefined) return read;
  return `{"loanId":${text(s.loanId)},"borrowerKey":${text(s.borrowerKey)},"product":${text(s.product)},"region":${text(s.region)},"industry":${text(s.industry)},"loanPurpose":${text(s.loanPurpose)},"partnerId":${text(s.partnerId)},"coLent":${s.coLent},"relatedPartyGroup":${text(s.relatedPartyGroup)},"reportedClassification":${text(s.reportedClassification)},"outstanding":${s.outstanding},"score":${s.score},"grade":${text(s.grade)},"pd":${s.pd},"el":${s.el},"dpdBucket":${text(s.dpdBucket)},"classification":${text(s.classification)},"stage":${text(s.stage)},"ruleCodes":${JSON.stringify(s.ruleCodes)},"flags":${JSON.stringify(s.flags)},"reasons":${JSON.stringify(s.reasons)}}`;
}

/** Reads a gzip JSON Lines stream of scored loans, in batches (see streamScoreBatches). */
export function readScores(stream: AsyncIterable<Uint8Array>): AsyncGenerator<ScoredLoan[]> {
  return streamScoreBatches<ScoredLoan>(stream, READ_FROM);
}

/** A loan with other rule codes: a new object (without the line it was read from, so written afresh). */
export function withRuleCodes(s: ScoredLoan, ruleCodes: string[]): ScoredLoan {
  const copy: ScoredLoan & { [READ_FROM]?: string | undefined } = { ...s, ruleCodes };
  // Assigned rather than deleted: the copy keeps its shape (a deleted property makes a slow object).
  copy[READ_FROM] = undefined;
  return copy;
}

/** Decodes a small score file at once (tests, small shards). */
export function decodeScores(bytes: Uint8Array): ScoredLoan[] {
  return decodeScoreFile<ScoredLoan>(bytes);
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

/** The risk state a risk officer watches: a change in any of these makes a history item. */
export function riskStateKey(s: ScoredLoan): string {
  return `${s.grade}|${s.dpdBucket}|${s.classification}|${s.stage}|${s.ruleCodes.join(',')}|${s.flags.join(',')}`;
}

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
      const kind = riskStateKey(tr) === riskStateKey(br) ? 'same' : 'changed';
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
