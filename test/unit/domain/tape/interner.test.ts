import { describe, expect, it } from 'vitest';
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
