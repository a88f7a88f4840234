import { describe, expect, it } from 'vitest';
import { datesToRun } from '../../../shared/cli/commands/invoke.ts';

describe('Function: datesToRun', () => {
  it('runs one date', () => {
    expect(datesToRun({ date: '2026-11-25' })).toEqual(['2026-11-25']);
  });

  it('backfills every date of a range in date order, across a month end', () => {
    expect(datesToRun({ from: '2026-11-29', to: '2026-12-02' })).toEqual([
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
    ]);
  });

  it('refuses impossible dates, reversed ranges and mixed options with one sentence', () => {
    expect(() => datesToRun({ date: '2026-02-30' })).toThrow(
      '--date must be a real date as YYYY-MM-DD, got 2026-02-30',
    );
    expect(() => datesToRun({ from: '2026-12-02', to: '2026-11-29' })).toThrow(
      '--from 2026-12-02 is after --to 2026-11-29',
    );
    expect(() => datesToRun({ date: '2026-11-25', from: '2026-11-01' })).toThrow(
      'give either --date or --from/--to, not both',
    );
    expect(() => datesToRun({})).toThrow('give --date D, or --from D1 --to D2 for a backfill');
  });
});
