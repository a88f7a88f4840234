import { describe, expect, it } from 'vitest';
import {
  addMonthsIso,
  daysBetween,
  daysToIso,
  isIsoDate,
  isoToDays,
  NUMBER_MISSING,
  NUMBER_NOT_FINITE,
  NUMBER_OK,
  NUMBER_UNPARSEABLE,
  parseBooleanCell,
  parsedNumber,
  parseNumberCell,
} from '../../../../shared/domain/tape/values.ts';

describe('Function: isIsoDate', () => {
  it('accepts real calendar dates including leap days', () => {
    expect(isIsoDate('2026-11-25')).toBe(true);
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2000-02-29')).toBe(true);
  });

  it('rejects impossible dates and other shapes', () => {
    for (const s of [
      '2026-02-29',
      '1900-02-29',
      '2026-02-30',
      '2026-13-01',
      '2026-00-10',
      '2026-04-31',
      '2026-1-05',
      '26-11-25',
      '2026/11/25',
      '',
    ]) {
      expect(isIsoDate(s), s).toBe(false);
    }
  });
});

describe('Function: parseNumberCell', () => {
  const parse = (s: string): number | string => {
    const status = parseNumberCell(s);
    return status === NUMBER_OK
      ? parsedNumber.value
      : ['ok', 'missing', 'unparseable', 'not finite'][status]!;
  };

  it('parses decimals exactly as Number() does', () => {
    for (const s of [
      '0',
      '12',
      '-3.5',
      '0.18',
      '38223.78',
      '123456789.12',
      '.5',
      '1e3',
      '+7',
      '0.1234567890123456789',
    ]) {
      expect(parse(s), s).toBe(Number(s));
    }
  });

  it('treats empty and blank cells as missing, never zero', () => {
    expect(parseNumberCell('')).toBe(NUMBER_MISSING);
    expect(parseNumberCell('   ')).toBe(NUMBER_MISSING);
  });

  it('separates NaN/Infinity from garbage', () => {
    expect(parseNumberCell('NaN')).toBe(NUMBER_NOT_FINITE);
    expect(parseNumberCell('Infinity')).toBe(NUMBER_NOT_FINITE);
    expect(parseNumberCell('-Infinity')).toBe(NUMBER_NOT_FINITE);
    expect(parseNumberCell('1e999')).toBe(NUMBER_NOT_FINITE);
    expect(parseNumberCell('abc')).toBe(NUMBER_UNPARSEABLE);
    expect(parseNumberCell('1,000')).toBe(NUMBER_UNPARSEABLE);
    expect(parseNumberCell('0x1F')).toBe(NUMBER_UNPARSEABLE);
    expect(parseNumberCell('12.3.4')).toBe(NUMBER_UNPARSEABLE);
  });
});

describe('Function: parseBooleanCell', () => {
  it('accepts the spelled-out forms of loan-tape.md in any case', () => {
    for (const s of ['true', 'TRUE', '1', 'yes', 'Yes', 'Y', 'y']) expect(parseBooleanCell(s), s).toBe(true);
    for (const s of ['false', 'False', '0', 'no', 'NO', 'N', 'n']) expect(parseBooleanCell(s), s).toBe(false);
  });

  it('returns null for anything else', () => {
    for (const s of ['t', 'f', '2', 'maybe', '是']) expect(parseBooleanCell(s), s).toBeNull();
  });
});

describe('Function: addMonthsIso', () => {
  it('clamps to the end of shorter months', () => {
    expect(addMonthsIso('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonthsIso('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonthsIso('2026-11-15', 3)).toBe('2027-02-15');
    expect(addMonthsIso('2026-03-10', -3)).toBe('2025-12-10');
  });
});

describe('Function: isoToDays', () => {
  it('counts days from 1970-01-01 and round-trips', () => {
    expect(isoToDays('1970-01-01')).toBe(0);
    expect(isoToDays('2000-03-01')).toBe(11017);
    expect(daysBetween('2026-02-27', '2026-03-02')).toBe(3);
    for (let d = -800; d < 30000; d += 37) expect(isoToDays(daysToIso(d))).toBe(d);
    expect(daysToIso(isoToDays('2024-02-29') + 1)).toBe('2024-03-01');
  });
});
