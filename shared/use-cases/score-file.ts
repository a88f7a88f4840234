import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import type { ScoredLoan } from './audit-engine.ts';

/**
 * The score file: every valid loan's scored state as gzip JSON Lines sorted by loan id. Shards
 * write one each; finalize merges them (k-way, streaming) into the date's file, which the next
 * day reads back as its baseline for "what changed".
 */

/** Gzips JSON lines (a shard's sorted scores) into one buffer. */
export async function gzipLines(lines: Iterable<string>): Promise<Uint8Array> {
  const gzip = createGzip({ level: 6 });
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  let pending: string[] = [];
  let size = 0;
  for (const line of lines) {
    pending.push(line);
    size += line.length + 1;
    if (size > 1 << 20) {
      if (!gzip.write(`${pending.join('\n')}\n`)) await new Promise((r) => gzip.once('drain', r));
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) gzip.write(`${pending.join('\n')}\n`);
  gzip.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** Encodes scored loans as JSON lines. */
export function* scoreLines(scores: Iterable<ScoredLoan>): Generator<string> {
  for (const s of scores) yield JSON.stringify(s);
}

/** Reads a gzip JSON Lines stream of scored loans, one at a time. */
export async function* readScores(stream: AsyncIterable<Uint8Array>): AsyncGenerator<ScoredLoan> {
  const lines = createInterface({
    input: Readable.from(stream).pipe(createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as ScoredLoan;
  }
}

/** Decodes a small gzip JSON Lines buffer at once (tests, small shards). */
export function decodeScores(bytes: Uint8Array): ScoredLoan[] {
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ScoredLoan);
}

/** Merges sorted streams of scored loans into one sorted stream (loan ids are unique across shards). */
export async function* mergeSortedScores(sources: AsyncIterable<ScoredLoan>[]): AsyncGenerator<ScoredLoan> {
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
    yield heads[best]!;
    const r = await its[best]!.next();
    heads[best] = r.done ? null : r.value;
  }
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
