import { describe, expect, it } from 'vitest';
import {
  diffRiskStates,
  diffSortedRiskStates,
  type LoanRiskState,
  type RiskStateDiff,
  riskStateChanged,
  toLoanChange,
} from '../../bench/store-model.ts';

function state(loanId: string, over: Partial<LoanRiskState> = {}): LoanRiskState {
  return {
    loanId,
    borrowerRef: `b-${loanId}`,
    grade: 'B',
    score: 700,
    pd: 0.02,
    dpdBucket: '0',
    classification: 'normal',
    flags: [],
    outstanding: 1_000,
    ...over,
  };
}

async function collect(it: AsyncIterable<RiskStateDiff>): Promise<RiskStateDiff[]> {
  const out: RiskStateDiff[] = [];
  for await (const d of it) out.push(d);
  return out;
}

const yesterday = [
  state('L1'),
  state('L2', { grade: 'C' }),
  state('L3', { dpdBucket: '1-30', classification: 'special_mention' }),
  state('L4', { flags: ['APR_ABOVE_24'] }),
  state('L5'),
];
const today = [
  state('L1', { score: 690, pd: 0.025, outstanding: 950 }), // drift only: no change
  state('L2', { grade: 'D' }), // grade
  state('L3', { dpdBucket: '31-60', classification: 'special_mention' }), // dpd bucket
  state('L4', { flags: ['APR_ABOVE_24', 'HIGH_DTI'] }), // flags
  state('L6'), // new; L5 closed
];

describe('Function: riskStateChanged', () => {
  it('ignores score, pd and balance drift', () => {
    expect(riskStateChanged(state('L1'), state('L1', { score: 1, pd: 0.9, outstanding: 5 }))).toBe(false);
  });

  it('sees grade, dpd bucket, classification and flag changes', () => {
    expect(riskStateChanged(state('L1'), state('L1', { grade: 'E' }))).toBe(true);
    expect(riskStateChanged(state('L1'), state('L1', { dpdBucket: '1-30' }))).toBe(true);
    expect(riskStateChanged(state('L1'), state('L1', { classification: 'substandard' }))).toBe(true);
    expect(riskStateChanged(state('L1'), state('L1', { flags: ['THIN_FILE'] }))).toBe(true);
    expect(riskStateChanged(state('L1', { flags: ['A', 'B'] }), state('L1', { flags: ['A', 'C'] }))).toBe(
      true,
    );
  });
});

describe('Function: diffRiskStates', () => {
  it('finds new, changed and closed loans and nothing else', () => {
    const diff = diffRiskStates(yesterday, today);
    expect(diff.map((d) => `${d.kind}:${d.loanId}`)).toEqual([
      'changed:L2',
      'changed:L3',
      'changed:L4',
      'new:L6',
      'closed:L5',
    ]);
  });

  it('treats every loan as new on the first night', () => {
    expect(diffRiskStates([], today).every((d) => d.kind === 'new')).toBe(true);
    expect(diffRiskStates([], today)).toHaveLength(5);
  });

  it('finds nothing between identical days', () => {
    expect(diffRiskStates(today, today)).toEqual([]);
  });
});

describe('Function: diffSortedRiskStates', () => {
  it('gives the same changes as the map diff, in loan id order', async () => {
    const diff = await collect(diffSortedRiskStates(yesterday, today));
    expect(diff.map((d) => `${d.kind}:${d.loanId}`)).toEqual([
      'changed:L2',
      'changed:L3',
      'changed:L4',
      'closed:L5',
      'new:L6',
    ]);
  });

  it('accepts async inputs', async () => {
    async function* gen(items: LoanRiskState[]): AsyncGenerator<LoanRiskState> {
      yield* items;
    }
    const diff = await collect(diffSortedRiskStates(gen(yesterday), gen(today)));
    expect(diff).toHaveLength(5);
  });

  it('refuses unsorted input instead of giving a wrong diff', async () => {
    await expect(collect(diffSortedRiskStates([state('L2'), state('L1')], []))).rejects.toThrow(
      'previous states are not sorted by loanId (L1 after L2)',
    );
  });
});

describe('Function: toLoanChange', () => {
  it('keeps the previous grade and bucket of a changed loan', () => {
    const [first] = diffRiskStates(
      [state('L2', { grade: 'C' })],
      [state('L2', { grade: 'D', dpdBucket: '1-30' })],
    );
    expect(toLoanChange(first!)).toEqual({
      loanId: 'L2',
      change: 'changed',
      borrowerRef: 'b-L2',
      grade: 'D',
      score: 700,
      pd: 0.02,
      dpdBucket: '1-30',
      classification: 'normal',
      stage: null,
      flags: [],
      outstanding: 1_000,
      previousGrade: 'C',
      previousDpdBucket: '0',
    });
  });

  it('records a closed loan with nothing outstanding', () => {
    const [first] = diffRiskStates([state('L5', { grade: 'E', dpdBucket: '91-180' })], []);
    const change = toLoanChange(first!);
    expect(change.change).toBe('closed');
    expect(change.grade).toBeNull();
    expect(change.outstanding).toBe(0);
    expect(change.previousGrade).toBe('E');
    expect(change.previousDpdBucket).toBe('91-180');
  });
});
