import { describe, expect, it } from 'vitest';
import { breachOrder, riskOrder, TopN } from '../../../../shared/domain/engine/ranking.ts';

const loan = (loanId: string, pd: number, outstanding: number) => ({ loanId, pd, outstanding });

describe('Function: riskOrder', () => {
  it('puts the most likely to default first, then the largest exposure, then the loan id', () => {
    // Prepare
    const loans = [loan('L1', 0.1, 100), loan('L2', 0.3, 50), loan('L3', 0.1, 200), loan('L0', 0.1, 100)];

    // Act
    const ids = loans.sort(riskOrder).map((l) => l.loanId);

    // Assess: L2 has the highest pd; of pd 0.1, L3 owes most; L0 and L1 owe the same, L0 sorts first.
    expect(ids).toEqual(['L2', 'L3', 'L0', 'L1']);
  });
});

describe('Function: breachOrder', () => {
  it('puts the largest exposure first, then the loan id, whatever the pd', () => {
    // Prepare
    const loans = [loan('B2', 0.9, 100), loan('B1', 0.1, 100), loan('B3', 0.5, 300)];

    // Act
    const ids = loans.sort(breachOrder).map((l) => l.loanId);

    // Assess
    expect(ids).toEqual(['B3', 'B1', 'B2']);
  });
});

describe('Class: TopN', () => {
  it('keeps the best N of many offers, in order, across its cuts', () => {
    // Prepare: limit 2 cuts at 4 items; the best two are the 0.9 and 0.8 loans, offered 6th and 2nd.
    const top = new TopN(2, riskOrder);
    const offers = [
      loan('A', 0.2, 10),
      loan('B', 0.8, 10),
      loan('C', 0.1, 10),
      loan('D', 0.3, 10),
      loan('E', 0.05, 10),
      loan('F', 0.9, 10),
      loan('G', 0.8, 5),
    ];

    // Act
    for (const o of offers) top.offer(o);

    // Assess
    expect(top.result().map((l) => l.loanId)).toEqual(['F', 'B']);
  });

  it('keeps every offer when there are fewer than N', () => {
    // Prepare
    const top = new TopN(5, breachOrder);

    // Act
    top.offer(loan('X', 0, 1));
    top.offer(loan('Y', 0, 2));

    // Assess
    expect(top.result().map((l) => l.loanId)).toEqual(['Y', 'X']);
  });
});
