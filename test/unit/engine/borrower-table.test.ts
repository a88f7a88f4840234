import { describe, expect, it } from 'vitest';
import { BorrowerTable, TYPE_INDIVIDUAL } from '../../../shared/domain/engine/borrower-table.ts';
import { hash64, hashOut } from '../../../shared/domain/engine/hash.ts';

/** The slot holding a borrower id (its 64-bit hash), or -1. */
function slotOf(t: BorrowerTable, id: string): number {
  hash64(id);
  for (let i = 0; i < t.capacity; i++) {
    if (t.used(i) && t.keyHi(i) === hashOut.hi && t.keyLo(i) === hashOut.lo) return i;
  }
  return -1;
}

describe('Class: BorrowerTable (purposes and breaches)', () => {
  it('splits a borrower by purpose and counts its loan-level breaches by purpose', () => {
    const t = new BorrowerTable(4);
    const add = (id: string, fen: number, consumption: boolean, breach = false) => {
      hash64(id);
      t.addLoan(fen, null, TYPE_INDIVIDUAL, 0, consumption, breach);
    };
    add('C', 100, true);
    add('C', 50, true);
    add('B', 70, false);
    add('M', 10, true);
    add('M', 20, false);
    add('M', 5, true, true);
    add('X', 8, false, true);
    const split = (id: string) => ({ ...t.split(slotOf(t, id)) });
    expect(split('C')).toEqual({
      consumptionLoans: 2,
      consumptionFen: 150,
      breachConsumption: 0,
      breachBusiness: 0,
    });
    expect(split('B')).toEqual({
      consumptionLoans: 0,
      consumptionFen: 0,
      breachConsumption: 0,
      breachBusiness: 0,
    });
    expect(split('M')).toEqual({
      consumptionLoans: 2,
      consumptionFen: 15,
      breachConsumption: 1,
      breachBusiness: 0,
    });
    expect(split('X')).toEqual({
      consumptionLoans: 0,
      consumptionFen: 0,
      breachConsumption: 0,
      breachBusiness: 1,
    });
    expect(t.loans(slotOf(t, 'M'))).toBe(3);
    expect(t.exposure(slotOf(t, 'M'))).toBe(35);
  });

  it('merges two single-purpose halves of a borrower into a mixed one, exactly', () => {
    const a = new BorrowerTable(4);
    const b = new BorrowerTable(4);
    hash64('P');
    a.addLoan(300, null, TYPE_INDIVIDUAL, 0, true);
    hash64('P');
    b.addLoan(40, null, TYPE_INDIVIDUAL, 0, false, true);
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const merged = new BorrowerTable(4);
      merged.mergeTable(x);
      merged.mergeTable(y);
      expect({ ...merged.split(slotOf(merged, 'P')) }).toEqual({
        consumptionLoans: 1,
        consumptionFen: 300,
        breachConsumption: 0,
        breachBusiness: 1,
      });
      expect(merged.loans(slotOf(merged, 'P'))).toBe(2);
    }
  });
});

describe('Class: BorrowerTable (moved between threads)', () => {
  it('keeps every borrower through toTransfer / fromTransfer, and stays usable', () => {
    const t = new BorrowerTable(4);
    for (const [id, fen, income] of [
      ['B1', 100, 5000],
      ['B2', 250, null],
      ['B1', 50, 7000],
    ] as const) {
      hash64(id);
      t.addLoan(fen, income, TYPE_INDIVIDUAL, 0);
    }
    const moved = BorrowerTable.fromTransfer(structuredClone(t.toTransfer()));
    expect(moved.size).toBe(2);
    const b1 = slotOf(moved, 'B1');
    expect(moved.exposure(b1)).toBe(150);
    expect(moved.loans(b1)).toBe(2);
    expect(moved.income(b1)).toBe(7000);
    expect(moved.income(slotOf(moved, 'B2'))).toBe(-1);
    hash64('B3');
    moved.addLoan(10, null, TYPE_INDIVIDUAL, 0);
    expect(moved.size).toBe(3);
  });

  it('refuses storage that is not a table of the size it claims', () => {
    expect(() => BorrowerTable.fromTransfer({ buffer: new ArrayBuffer(64 * 3), size: 1 })).toThrow(
      /invalid borrower table/,
    );
    expect(() => BorrowerTable.fromTransfer({ buffer: new ArrayBuffer(64 * 4), size: 4 })).toThrow(
      /invalid borrower table/,
    );
  });
});
