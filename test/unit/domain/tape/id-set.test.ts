import { describe, expect, it } from 'vitest';
import { hash64, hashOut } from '../../../../shared/domain/engine/hash.ts';
import { IdSet } from '../../../../shared/domain/tape/id-set.ts';

/** The [hi, lo] pairs of the ids' 64-bit hashes, as a seed is given them. */
function pairsOf(ids: readonly string[]): Uint32Array {
  const pairs = new Uint32Array(ids.length * 2);
  ids.forEach((id, k) => {
    hash64(id);
    pairs[k * 2] = hashOut.hi;
    pairs[k * 2 + 1] = hashOut.lo;
  });
  return pairs;
}

describe('Class: IdSet', () => {
  it('adds ids once, across growth', () => {
    const s = new IdSet(4);
    const ids = Array.from({ length: 5000 }, (_, k) => `L${k}`);
    expect(ids.every((id) => s.add(id))).toBe(true);
    expect(ids.every((id) => !s.add(id))).toBe(true);
    expect(s.size).toBe(5000);
    expect(s.has('L4999')).toBe(true);
    expect(s.has('L5000')).toBe(false);
  });
});

describe('Class: IdSet (edge cases)', () => {
  it('tells apart ids that share a prefix, differ in length, or are empty or very long', () => {
    const s = new IdSet(2);
    const long = 'x'.repeat(70_000);
    for (const id of ['', 'a', 'ab', 'abc', long, `${long}y`, '贷款1', '贷款2'])
      expect(s.add(id), id.slice(0, 5)).toBe(true);
    for (const id of ['', 'ab', long, '贷款2']) expect(s.add(id)).toBe(false);
    expect(s.has(`${long}z`)).toBe(false);
    expect(s.size).toBe(8);
  });
});

describe('Class: IdSet (ids in order, then not)', () => {
  it('finds repeats exactly while ids arrive sorted, and after the first id out of order', () => {
    const s = new IdSet(8);
    const sorted = Array.from({ length: 3000 }, (_, k) => `L${String(k).padStart(6, '0')}`);
    // In order: all new, including one that only extends the previous id.
    expect(sorted.every((id) => s.add(id))).toBe(true);
    expect(s.add('L002999x')).toBe(true);
    // A repeat of the last id is not greater than it: found.
    expect(s.add('L002999x')).toBe(false);
    // From here on ids go through the table: early ids are repeats, new ones are not.
    expect(s.add('L000000')).toBe(false);
    expect(s.add('L001500')).toBe(false);
    expect(s.add('A')).toBe(true);
    expect(s.add('Z')).toBe(true);
    expect(s.add('A')).toBe(false);
    expect(s.size).toBe(3003);
    expect(s.has('L002998')).toBe(true);
    expect(s.has('L003000')).toBe(false);
  });

  it('tells a sorted tape with a repeat far back from one without', () => {
    const s = new IdSet(4);
    for (let k = 0; k < 100; k++) expect(s.add(`id${1000 + k}`)).toBe(true);
    expect(s.has('id1000')).toBe(true);
    expect(s.add('id1000')).toBe(false);
    expect(s.add('id0999')).toBe(true);
  });
});

describe("Class: IdSet (seeded with earlier shards' ids)", () => {
  it('refuses a seeded id while the ids come sorted, though it is greater than the last one', () => {
    // Prepare: an earlier shard held L2 and L5.
    const s = new IdSet(8);
    s.seed(pairsOf(['L2', 'L5']));

    // Act: this shard's ids arrive in order.
    const added = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6'].map((id) => s.add(id));

    // Assess: L2 and L5 are repeats; the two seeds and four new ids are held.
    expect(added).toEqual([true, false, true, true, false, true]);
    expect(s.size).toBe(6);
    expect(s.has('L5')).toBe(true);
    expect(s.has('L7')).toBe(false);
  });

  it("refuses a seeded id when the ids come unsorted, and still finds this shard's own repeats", () => {
    // Prepare
    const s = new IdSet(8);
    s.seed(pairsOf(['L7']));

    // Act
    const added = ['L3', 'L1', 'L7', 'L3', 'L9'].map((id) => s.add(id));

    // Assess
    expect(added).toEqual([true, true, false, false, true]);
    expect(s.size).toBe(4);
  });

  it('keeps the ids added in order before the seed', () => {
    // Prepare: L1 and L2 went the in-order way.
    const s = new IdSet(8);
    expect(s.add('L1')).toBe(true);
    expect(s.add('L2')).toBe(true);

    // Act
    s.seed(pairsOf(['L4']));

    // Assess: L2 and L1 are still held, L4 is seeded, L3 and L5 are new: five ids.
    expect(['L3', 'L4', 'L2', 'L1', 'L5'].map((id) => s.add(id))).toEqual([true, false, false, false, true]);
    expect(s.size).toBe(5);
  });

  it('holds many seeds across growth, a seed repeated once', () => {
    // Prepare: 3000 earlier ids into a set sized for 4, L000000 given twice.
    const s = new IdSet(4);
    const earlier = Array.from({ length: 3000 }, (_, k) => `L${String(k).padStart(6, '0')}`);

    // Act
    s.seed(pairsOf([...earlier, 'L000000']));

    // Assess: every earlier id is a repeat, in order or not; the next ones are new.
    expect(s.size).toBe(3000);
    expect(earlier.every((id) => !s.add(id))).toBe(true);
    expect(s.add('L003000')).toBe(true);
    expect(s.add('L003001')).toBe(true);
    expect(s.size).toBe(3002);
  });

  it('changes nothing when seeded with no ids', () => {
    // Prepare
    const s = new IdSet(4);
    s.seed(new Uint32Array(0));

    // Act
    const added = ['L1', 'L2', 'L2', 'L1'].map((id) => s.add(id));

    // Assess
    expect(added).toEqual([true, true, false, false]);
    expect(s.size).toBe(2);
  });

  it('refuses pairs of odd length', () => {
    // Prepare
    const s = new IdSet(4);

    // Act / Assess
    expect(() => s.seed(new Uint32Array(3))).toThrow('id hash pairs have an odd length 3');
  });
});
