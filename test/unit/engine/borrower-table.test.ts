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
    expect(() => BorrowerTable.fromTransfer({ buffer: new ArrayBuffer(32 * 3), size: 1 })).toThrow(
      /invalid borrower table/,
    );
    expect(() => BorrowerTable.fromTransfer({ buffer: new ArrayBuffer(32 * 4), size: 4 })).toThrow(
      /invalid borrower table/,
    );
  });
});
