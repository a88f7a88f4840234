import { decodeScoreFile, streamScoreFile } from '../domain/store/score-file.ts';
import type { ScoredLoan } from './audit-engine.ts';

export { gzipLines } from '../domain/store/score-file.ts';

/**
 * The score file: every valid loan's scored state as gzip JSON Lines sorted by loan id. Shards
 * write one each; finalize merges them (k-way, streaming) into the date's file, which the next
 * day reads back as its baseline for "what changed".
 */

const text = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/**
 * `JSON.stringify(s)`, character for character (a test checks it), written out for the fixed
 * shape of a scored loan: about 3x faster, and a shard writes one line per loan. Free text (ids,
 * region, industry) still goes through JSON.stringify; numbers are finite.
 */
export function scoreLine(s: ScoredLoan): string {
  return `{"loanId":${text(s.loanId)},"borrowerKey":${text(s.borrowerKey)},"product":${text(s.product)},"region":${text(s.region)},"industry":${text(s.industry)},"outstanding":${s.outstanding},"score":${s.score},"grade":${text(s.grade)},"pd":${s.pd},"el":${s.el},"dpdBucket":${text(s.dpdBucket)},"classification":${text(s.classification)},"stage":${text(s.stage)},"ruleCodes":${JSON.stringify(s.ruleCodes)},"flags":${JSON.stringify(s.flags)},"reasons":${JSON.stringify(s.reasons)}}`;
}

/** Reads a gzip JSON Lines stream of scored loans, one at a time. */
export function readScores(stream: AsyncIterable<Uint8Array>): AsyncGenerator<ScoredLoan> {
  return streamScoreFile<ScoredLoan>(stream);
}

/** Decodes a small score file at once (tests, small shards). */
export function decodeScores(bytes: Uint8Array): ScoredLoan[] {
  return decodeScoreFile<ScoredLoan>(bytes);
}

/**
 * Merges sorted streams of scored loans into one sorted stream, each loan with the index of the
 * stream it came from; equal loan ids (a loan repeated across shards) come from the earliest
 * stream first.
 */
export async function* mergeSortedScoresFrom(
  sources: AsyncIterable<ScoredLoan>[],
): AsyncGenerator<[ScoredLoan, number]> {
  const its = sources.map((s) => s[Symbol.asyncIterator]());
  const heads: (ScoredLoan | null)[] = await Promise.all(
    its.map(async (it) => {
      const r = await it.next();
      return r.done ? null : r.value;
    }),
  );
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h == null) continue;
      if (best < 0 || h.loanId < heads[best]!.loanId) best = i;
    }
    if (best < 0) return;
    yield [heads[best]!, best];
    const r = await its[best]!.next();
    heads[best] = r.done ? null : r.value;
  }
}

/** Merges sorted streams of scored loans into one sorted stream (see mergeSortedScoresFrom). */
export async function* mergeSortedScores(sources: AsyncIterable<ScoredLoan>[]): AsyncGenerator<ScoredLoan> {
  for await (const [loan] of mergeSortedScoresFrom(sources)) yield loan;
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

/** Merge-joins today's and the previous day's sorted scores by loan id. */
export async function* joinScores(
  today: AsyncIterable<ScoredLoan>,
  before: AsyncIterable<ScoredLoan>,
): AsyncGenerator<ScoreChange> {
  const t = today[Symbol.asyncIterator]();
  const b = before[Symbol.asyncIterator]();
  let tr = await t.next();
  let br = await b.next();
  while (!tr.done || !br.done) {
    if (br.done || (!tr.done && tr.value.loanId < br.value.loanId)) {
      yield { kind: 'new', today: tr.value as ScoredLoan };
      tr = await t.next();
    } else if (tr.done || br.value.loanId < tr.value.loanId) {
      yield { kind: 'closed', before: br.value };
      br = await b.next();
    } else {
      const kind = riskStateKey(tr.value) === riskStateKey(br.value) ? 'same' : 'changed';
      yield { kind, today: tr.value, before: br.value };
      tr = await t.next();
      br = await b.next();
    }
  }
}
