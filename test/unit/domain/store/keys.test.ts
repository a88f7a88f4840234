import { describe, expect, it } from 'vitest';
import {
  breachKey,
  detailExpiry,
  leaseKey,
  loanHistoryKey,
  manifestKey,
  runKey,
  watchlistKey,
} from '../../../../shared/domain/store/keys.ts';

describe('Function: runKey / leaseKey', () => {
  it('puts a date run record and its lease in one partition', () => {
    expect(runKey('2026-03-01')).toEqual({ pk: 'RUN#2026-03-01', sk: 'RUN' });
    expect(leaseKey('2026-03-01')).toEqual({ pk: 'RUN#2026-03-01', sk: 'LEASE' });
  });
});

describe('Function: loanHistoryKey', () => {
  it('keys a loan history by loan then date, so one query reads it in date order', () => {
    expect(loanHistoryKey('LN-7', '2026-03-01')).toEqual({ pk: 'LOAN#LN-7', sk: 'DAY#2026-03-01' });
  });
});

describe('Function: manifestKey', () => {
  it("keeps a run's manifest chunks beside the date's run record", () => {
    expect(manifestKey('2026-03-01', 'run-7', 2, 3)).toEqual({
      pk: 'RUN#2026-03-01',
      sk: 'CHG#run-7#0002#00003',
    });
  });
});

describe('Function: watchlistKey', () => {
  it('pads the chunk number so string order is rank order', () => {
    expect(watchlistKey('2026-03-01', 7)).toEqual({ pk: 'WL#2026-03-01', sk: '00007' });
    expect(watchlistKey('2026-03-01', 10).sk > watchlistKey('2026-03-01', 9).sk).toBe(true);
  });
});

describe('Function: breachKey', () => {
  it("groups a date's breaches by rule, chunks in order", () => {
    expect(breachKey('2026-03-01', 'APR_ABOVE_36', 0)).toEqual({
      pk: 'BR#2026-03-01',
      sk: 'APR_ABOVE_36#00000',
    });
    expect(breachKey('2026-03-01', 'APR_ABOVE_36', 12).sk).toBe('APR_ABOVE_36#00012');
  });
});

describe('Function: detailExpiry', () => {
  it('adds the retention days in seconds', () => {
    // 2026-01-01T00:00:00Z = 1767225600; + 400 * 86400 = 34560000
    expect(detailExpiry(new Date('2026-01-01T00:00:00Z'), 400)).toBe(1_767_225_600 + 34_560_000);
  });
});
