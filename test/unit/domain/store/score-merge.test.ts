import { describe, expect, it } from 'vitest';
import { riskStateChanged } from '../../../../shared/domain/engine/scorecard.ts';
import type { ScoredLoan } from '../../../../shared/domain/store/score-file.ts';
import { joinScores, mergeSortedScores } from '../../../../shared/domain/store/score-merge.ts';

function loan(loanId: string, grade: ScoredLoan['grade'] = 'B'): ScoredLoan {
  return {
    loanId,
    borrowerKey: '00ff00ff00ff00ff',
    product: 'credit_loan',
    region: null,
    industry: null,
    loanPurpose: 'consumption',
    partnerId: null,
    coLent: false,
    relatedPartyGroup: null,
    reportedClassification: null,
    outstanding: 1,
    score: 650,
    grade,
    pd: 0.01,
    el: 0.001,
    dpdBucket: '0',
    classification: 'normal',
    stage: '1',
    creditBand: '700-749',
    ruleCodes: [],
    flags: [],
    reasons: [],
  };
}

/** A seeded split of `items` into batches of 0 to 4 items (empty batches included). */
function batches<T>(items: T[], seed: number): AsyncIterable<T[]> {
  let x = seed;
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = x % 5;
    out.push(items.slice(i, i + n));
    i += n;
  }
  return (async function* () {
    yield* out;
  })();
}

async function flat<T>(source: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of source) out.push(...b);
  return out;
}

const id = (i: number) => `L${String(i).padStart(4, '0')}`;

describe('Function: mergeSortedScores', () => {
  it('merges sorted batch streams in loan id order, ties from the earlier stream first, whatever the batches', async () => {
    const sources = [
      [1, 4, 5, 9].map((i) => loan(id(i))),
      [2, 4, 7].map((i) => loan(id(i))),
      [],
      [0, 5, 9, 11].map((i) => loan(id(i))),
    ];
    const expected = sources
      .flatMap((s, src) => s.map((l) => [l.loanId, src] as const))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    for (const seed of [1, 2, 3, 99]) {
      const merged = await flat(mergeSortedScores(sources.map((s, k) => batches(s, seed + k))));
      expect(merged.map(([l, src]) => [l.loanId, src])).toEqual(expected);
    }
    expect(await flat(mergeSortedScores([]))).toEqual([]);
  });
});

describe('Function: joinScores', () => {
  it('pairs each loan of today with the day before: new, changed, same, closed, whatever the batches', async () => {
    const before = [1, 2, 3, 5, 8].map((i) => loan(id(i), i === 3 ? 'D' : 'B'));
    const today = [2, 3, 4, 5, 9].map((i) => loan(id(i)));
    const want = [
      ['closed', id(1)],
      ['same', id(2)],
      ['changed', id(3)],
      ['new', id(4)],
      ['same', id(5)],
      ['closed', id(8)],
      ['new', id(9)],
    ];
    for (const seed of [1, 7, 42]) {
      const steps = await flat(joinScores(batches(today, seed), batches(before, seed + 1)));
      expect(steps.map((s) => [s.kind, s.kind === 'closed' ? s.before.loanId : s.today.loanId])).toEqual(
        want,
      );
    }
    expect(riskStateChanged(before[2]!, today[1]!)).toBe(true);
    expect(await flat(joinScores(batches([], 1), batches(before, 2)))).toHaveLength(5);
  });
});
