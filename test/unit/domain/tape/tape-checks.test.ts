import { describe, expect, it } from 'vitest';
import { REQUIRED_COLUMNS } from '../../../../shared/domain/loan.ts';
import { emptyIntakeStats, type IntakeStats } from '../../../../shared/domain/tape/intake.ts';
import {
  checkDuplicateLoanIds,
  checkQuarantine,
  checkRequiredColumns,
  checkRowCountChange,
  checkSchemaDrift,
  checkTape,
  checkTapeNotEmpty,
  checkTapeOnTime,
  checkTapePresent,
  rowCountChange,
} from '../../../../shared/domain/tape/tape-checks.ts';

const settings = { cutoff: '05:30', timeZone: 'Asia/Shanghai' };

function stats(over: Partial<IntakeStats>): IntakeStats {
  return { ...emptyIntakeStats(), columns: [...REQUIRED_COLUMNS], ...over };
}

describe('Function: checkTapePresent', () => {
  it('is critical when no part landed', () => {
    expect(checkTapePresent([], '2026-11-25')).toEqual([
      {
        category: 'technical',
        severity: 'critical',
        code: 'TAPE_MISSING',
        message: 'no tape landed for 2026-11-25',
        value: 0,
        threshold: 1,
      },
    ]);
    expect(checkTapePresent([{ key: 'k', bytes: 1, lastModified: null }], '2026-11-25')).toEqual([]);
  });
});

describe('Function: checkTapeOnTime', () => {
  // 05:30 in Shanghai on 2026-11-26 is 21:30 UTC on 2026-11-25.
  it('passes a tape that landed by the cutoff of the following local day', () => {
    const parts = [{ key: 'k', bytes: 1, lastModified: new Date('2026-11-25T21:30:00Z') }];
    expect(checkTapeOnTime(parts, '2026-11-25', settings)).toEqual([]);
  });

  it('flags a late tape with the minutes late', () => {
    const parts = [
      { key: 'a', bytes: 1, lastModified: new Date('2026-11-25T20:00:00Z') },
      { key: 'b', bytes: 1, lastModified: new Date('2026-11-25T22:15:00Z') },
    ];
    const [f] = checkTapeOnTime(parts, '2026-11-25', settings);
    expect(f).toMatchObject({
      severity: 'medium',
      code: 'TAPE_LATE',
      value: '2026-11-25T22:15:00.000Z',
      threshold: '2026-11-25T21:30:00.000Z',
    });
    expect(f!.message).toBe('the tape arrived 45 minutes after the 05:30 Asia/Shanghai cutoff');
  });

  it('says hours or days when the tape is very late', () => {
    const at = (iso: string) => [{ key: 'a', bytes: 1, lastModified: new Date(iso) }];
    // Deadline 2026-11-25T21:30Z: 12 h 36 min later, then 3 days 12 h later.
    expect(checkTapeOnTime(at('2026-11-26T10:06:00Z'), '2026-11-25', settings)[0]!.message).toBe(
      'the tape arrived 12.6 hours after the 05:30 Asia/Shanghai cutoff',
    );
    expect(checkTapeOnTime(at('2026-11-29T09:30:00Z'), '2026-11-25', settings)[0]!.message).toBe(
      'the tape arrived 3.5 days after the 05:30 Asia/Shanghai cutoff',
    );
  });
});

describe('Function: checkTapeNotEmpty', () => {
  it('is critical for a tape without rows or without valid rows', () => {
    expect(checkTapeNotEmpty({ rowsRead: 0, rowsValid: 0 })[0]!.message).toBe('the tape has no rows');
    expect(checkTapeNotEmpty({ rowsRead: 5, rowsValid: 0 })[0]!.message).toBe('the tape has no valid rows');
    expect(checkTapeNotEmpty({ rowsRead: 5, rowsValid: 1 })).toEqual([]);
  });
});

describe('Function: checkRequiredColumns', () => {
  it('names each missing required column', () => {
    const cols = REQUIRED_COLUMNS.filter((c) => c !== 'annual_rate' && c !== 'term_months');
    expect(checkRequiredColumns(cols).map((f) => f.value)).toEqual(['annual_rate', 'term_months']);
  });
});

describe('Function: checkSchemaDrift', () => {
  it('reports columns removed (medium) and added (low) since the previous tape', () => {
    const f = checkSchemaDrift(['a', 'b', 'd'], ['a', 'b', 'c']);
    expect(f.map((x) => [x.code, x.severity, x.value])).toEqual([
      ['SCHEMA_COLUMNS_REMOVED', 'medium', 'c'],
      ['SCHEMA_COLUMNS_ADDED', 'low', 'd'],
    ]);
    expect(checkSchemaDrift(['a'], ['a'])).toEqual([]);
    expect(checkSchemaDrift(['a'], null)).toEqual([]);
  });
});

describe('Function: checkRowCountChange', () => {
  it('computes the change and flags moves beyond the share', () => {
    expect(rowCountChange(1250, 1000)).toBe(0.25);
    expect(rowCountChange(10, null)).toBeNull();
    expect(checkRowCountChange(1250, 1000, 0.2)[0]).toMatchObject({
      severity: 'high',
      value: 0.25,
      threshold: 0.2,
    });
    expect(checkRowCountChange(1250, 1000, 0.2)[0]!.message).toBe(
      'valid rows changed by +25.0% since the previous tape (1000 -> 1250)',
    );
    expect(checkRowCountChange(700, 1000, 0.2)[0]!.value).toBeCloseTo(-0.3, 12);
    expect(checkRowCountChange(1200, 1000, 0.2)).toEqual([]);
  });
});

describe('Function: checkDuplicateLoanIds', () => {
  it('flags duplicate rows', () => {
    expect(checkDuplicateLoanIds({ duplicateLoanIds: 3 })[0]).toMatchObject({
      code: 'DUPLICATE_LOAN_IDS',
      value: 3,
    });
    expect(checkDuplicateLoanIds({ duplicateLoanIds: 0 })).toEqual([]);
  });
});

describe('Function: checkQuarantine', () => {
  it('grades by quarantine rate and names the top codes', () => {
    const s = { rowsRead: 1000, rowsQuarantined: 20, quarantineByCode: { NEGATIVE: 5, INVALID_DATE: 15 } };
    expect(checkQuarantine(s, 0.01)[0]).toMatchObject({
      severity: 'high',
      value: 0.02,
      message: '20 of 1000 rows quarantined (INVALID_DATE 15, NEGATIVE 5)',
    });
    expect(checkQuarantine({ ...s, rowsQuarantined: 5 }, 0.01)[0]!.severity).toBe('medium');
  });
});

describe('Function: checkTape', () => {
  it('runs every check and orders findings by severity', () => {
    const f = checkTape(
      {
        snapshotDate: '2026-11-25',
        parts: [{ key: 'k', bytes: 10, lastModified: new Date('2026-11-25T23:00:00Z') }],
        stats: stats({
          rowsRead: 100,
          rowsValid: 60,
          rowsQuarantined: 40,
          duplicateLoanIds: 40,
          quarantineByCode: { DUPLICATE_LOAN_ID: 40 },
          parts: [{ key: 'k', sha256: 'abc', bytes: 10, rowsRead: 100 }],
        }),
        previous: { columns: [...REQUIRED_COLUMNS, 'region'], rowsValid: 100 },
      },
      settings,
    );
    expect(f.map((x) => x.code)).toEqual([
      'ROW_COUNT_CHANGE',
      'ROWS_QUARANTINED',
      'TAPE_LATE',
      'SCHEMA_COLUMNS_REMOVED',
      'DUPLICATE_LOAN_IDS',
      'TAPE_DIGEST',
    ]);
    expect(f.at(-1)).toMatchObject({ severity: 'info', value: 'abc' });
  });

  it('reports a missing tape alone', () => {
    const f = checkTape({ snapshotDate: '2026-11-25', parts: [], stats: null, previous: null }, settings);
    expect(f.map((x) => x.code)).toEqual(['TAPE_MISSING']);
  });

  it('reports an unreadable tape with its sentence', () => {
    const f = checkTape(
      {
        snapshotDate: '2026-11-25',
        parts: [{ key: 'k', bytes: 1, lastModified: null }],
        stats: null,
        unreadable: 'tape part k cannot be read: it is empty (0 bytes)',
        previous: null,
      },
      settings,
    );
    expect(f).toEqual([
      {
        category: 'technical',
        severity: 'critical',
        code: 'TAPE_UNREADABLE',
        message: 'tape part k cannot be read: it is empty (0 bytes)',
        value: null,
        threshold: null,
      },
    ]);
  });
});
