import { describe, expect, it } from 'vitest';
import {
  addDays,
  auditDateForSchedule,
  daysBetween,
  localDate,
  tapeDeadline,
  zonedInstant,
} from '../../../shared/domain/calendar.ts';

describe('Module: calendar', () => {
  it('adds days across month and leap-year ends', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
  });

  it('counts days between dates, negative when the second is earlier', () => {
    expect(daysBetween('2026-11-25', '2026-12-02')).toBe(7);
    expect(daysBetween('2026-11-25', '2026-11-20')).toBe(-5);
  });

  it('reads the local date of an instant in Shanghai (UTC+8)', () => {
    // 2026-11-25 22:30 UTC is already 2026-11-26 06:30 in Shanghai.
    expect(localDate(new Date('2026-11-25T22:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-26');
    expect(localDate(new Date('2026-11-25T22:30:00Z'), 'UTC')).toBe('2026-11-25');
  });

  it('audits the previous local day when the nightly schedule fires at 06:00 Shanghai', () => {
    // 06:00 on 2026-11-26 in Shanghai is 22:00 UTC on 2026-11-25.
    expect(auditDateForSchedule(new Date('2026-11-25T22:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-25');
  });

  it('turns a local wall-clock time into the right instant, also across a DST change', () => {
    expect(zonedInstant('2026-11-26', '05:30', 'Asia/Shanghai').toISOString()).toBe(
      '2026-11-25T21:30:00.000Z',
    );
    // New York: EDT (UTC-4) in July, EST (UTC-5) in December.
    expect(zonedInstant('2026-07-01', '06:00', 'America/New_York').toISOString()).toBe(
      '2026-07-01T10:00:00.000Z',
    );
    expect(zonedInstant('2026-12-01', '06:00', 'America/New_York').toISOString()).toBe(
      '2026-12-01T11:00:00.000Z',
    );
  });

  it('puts the tape deadline at the cutoff on the day after the as-of date', () => {
    expect(tapeDeadline('2026-11-25', '05:30', 'Asia/Shanghai').toISOString()).toBe(
      '2026-11-25T21:30:00.000Z',
    );
  });
});
