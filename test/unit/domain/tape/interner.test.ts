import { describe, expect, it } from 'vitest';
import { IdSet } from '../../../../shared/domain/tape/id-set.ts';
import { Interner } from '../../../../shared/domain/tape/interner.ts';

describe('Class: Interner', () => {
  it('returns the cell text, sharing one string for repeats', () => {
    const i = new Interner(4);
    const text = 'Zhejiang,Henan,Zhejiang';
    const a = i.get(text, 0, 8);
    const b = i.get(text, 15, 23);
    expect(a).toBe('Zhejiang');
    expect(b).toBe(a);
    expect(i.get(text, 9, 14)).toBe('Henan');
  });

  it('stays exact when many values share few slots', () => {
    const i = new Interner(2);
    const values = Array.from(
      { length: 200 },
      (_, k) => `2026-${String((k % 12) + 1).padStart(2, '0')}-${String((k % 28) + 1).padStart(2, '0')}`,
    );
    const text = values.join('|');
    let at = 0;
    for (const v of values) {
      expect(i.get(text, at, at + v.length)).toBe(v);
      at += v.length + 1;
    }
  });
});

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
