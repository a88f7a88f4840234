import { describe, expect, it } from 'vitest';
import { createAccumulator } from '../../../../shared/domain/engine/accumulator.ts';
import { amountParts, amountValue, microOf, splitAmount } from '../../../../shared/domain/engine/amounts.ts';
import { finalizeAudit } from '../../../../shared/domain/engine/finalize.ts';
import { emptyIntakeStats } from '../../../../shared/domain/tape/intake.ts';
import { defaultPolicy, makeLoan } from './helpers.ts';

describe('Module: amounts', () => {
  it('splits an amount into whole fen and the millionths beyond them, exactly', () => {
    splitAmount(39969.675);
    expect([amountParts.fen, amountParts.sub]).toEqual([3996968, -5000]);
    splitAmount(12.34);
    expect([amountParts.fen, amountParts.sub]).toEqual([1234, 0]);
    splitAmount(0.000001);
    expect([amountParts.fen, amountParts.sub]).toEqual([0, 1]);
    expect(microOf(3996968, -5000)).toBe(39969675000);
  });

  it('turns summed parts back into the exact decimal, rounded once', () => {
    expect(amountValue(3996968 + 3996968, -10000)).toBe(79939.35);
    expect(amountValue(1234, 0)).toBe(12.34);
    expect(amountValue(-1, -5000)).toBe(-0.015);
    // 0.1 + 0.2 as the tape gives them is 0.3, not 0.30000000000000004.
    splitAmount(0.1);
    const a = { ...amountParts };
    splitAmount(0.2);
    expect(amountValue(a.fen + amountParts.fen, a.sub + amountParts.sub)).toBe(0.3);
  });
});

describe('Exact amounts in the audit', () => {
  it('sums three-decimal amounts as given, never rounded to the fen first', () => {
    const policy = defaultPolicy();
    const acc = createAccumulator(policy, null);
    // Each 0.005 rounds to 0.01 on its own: three of them made 0.03 where the tape says 0.015.
    for (let i = 0; i < 3; i++) {
      acc.accumulate(
        makeLoan({ loanId: `L${i}`, borrowerId: 'B1', principal: 1.005, outstandingPrincipal: 0.005 }),
      );
    }
    acc.accumulate(
      makeLoan({ loanId: 'L9', borrowerId: 'B2', principal: 100, outstandingPrincipal: 99.995 }),
    );
    const intake = { ...emptyIntakeStats(), rowsRead: 4, rowsValid: 4 };
    const audit = finalizeAudit(acc.toPartial(), intake, {
      snapshotDate: '2026-11-25',
      previousSnapshotDate: null,
      previousIntake: null,
      policy,
      borrowerRefKey: 'k',
    });
    expect(audit.portfolio.totalOutstanding).toBe(100.01);
    expect(audit.portfolio.totalPrincipal).toBe(103.015);
    expect(audit.concentration.topBorrowers.map((b) => b.exposure)).toEqual([99.995, 0.015]);
    expect(audit.concentration.largestBorrowerShare).toBeCloseTo(99.995 / 100.01, 15);
  });
});
