import { describe, expect, it } from 'vitest';
import {
  BorrowerTable,
  mergeSerializedBorrowers,
  serializeBorrowers,
  TYPE_INDIVIDUAL,
} from '../../../../shared/domain/engine/borrower-table.ts';
import { hash64, hashOut } from '../../../../shared/domain/engine/hash.ts';

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
      consumptionMicro: 150,
      breachConsumption: 0,
      breachBusiness: 0,
    });
    expect(split('B')).toEqual({
      consumptionLoans: 0,
      consumptionMicro: 0,
      breachConsumption: 0,
      breachBusiness: 0,
    });
    expect(split('M')).toEqual({
      consumptionLoans: 2,
      consumptionMicro: 15,
      breachConsumption: 1,
      breachBusiness: 0,
    });
    expect(split('X')).toEqual({
      consumptionLoans: 0,
      consumptionMicro: 0,
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
        consumptionMicro: 300,
        breachConsumption: 0,
        breachBusiness: 1,
      });
      expect(merged.loans(slotOf(merged, 'P'))).toBe(2);
    }
  });
});

describe('Function: serializeBorrowers', () => {
  it('packs the split of single-purpose borrowers in bits and the others beside, and reads both back exactly', () => {
    const t = new BorrowerTable(16);
    const loans: [string, number, boolean, boolean][] = [
      ['cons', 100, true, false],
      ['cons', 1, true, false],
      ['bus-all-breach', 7, false, true],
      ['bus-all-breach', 8, false, true],
      ['cons-some-breach', 3, true, true],
      ['cons-some-breach', 4, true, false],
      ['mixed', 10, true, false],
      ['mixed', 20, false, true],
      ['zero', 0, true, false],
    ];
    for (const [id, fen, consumption, breach] of loans) {
      hash64(id);
      t.addLoan(fen, null, TYPE_INDIVIDUAL, 0, consumption, breach);
    }
    const s = JSON.parse(JSON.stringify(serializeBorrowers(t)));
    // Only the borrowers whose split does not follow from two bits are packed beside.
    expect(s.extCount).toBe(2);
    const back = new BorrowerTable(4);
    mergeSerializedBorrowers(back, s);
    for (const id of ['cons', 'bus-all-breach', 'cons-some-breach', 'mixed', 'zero']) {
      const a = slotOf(t, id);
      const b = slotOf(back, id);
      expect({ ...back.split(b), loans: back.loans(b), fen: back.exposure(b) }, id).toEqual({
        ...t.split(a),
        loans: t.loans(a),
        fen: t.exposure(a),
      });
    }
    expect(() =>
      mergeSerializedBorrowers(new BorrowerTable(4), { ...s, extCount: 1, extInts: 'AAAA' }),
    ).toThrow(/borrowers\.extInts holds 3 bytes, expected 12/);
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
