import { describe, expect, it } from 'vitest';
import { historyRows } from '../../../shared/cli/commands/history.ts';
import { formatTable, runRows } from '../../../shared/cli/commands/runs.ts';
import { watchlistRows } from '../../../shared/cli/commands/watchlist.ts';
import { parseWholeNumber } from '../../../shared/cli/options.ts';
import { ConfigError } from '../../../shared/errors.ts';
import type { LoanHistoryItem, RunSummary } from '../../../shared/ports/risk-store.ts';

describe('Function: formatTable', () => {
  it('aligns text left and numbers right under a rule line', () => {
    expect(
      formatTable(
        ['date', 'loans'],
        [
          ['2026-01-02', '1,200'],
          ['2026-01-01', '95'],
        ],
      ),
    ).toBe(['date        loans', '----------  -----', '2026-01-02  1,200', '2026-01-01     95'].join('\n'));
  });
});

describe('Function: parseWholeNumber', () => {
  it('accepts whole numbers in range', () => {
    expect(parseWholeNumber('--last', '7', 1, 1000)).toBe(7);
  });

  it('refuses anything else with one sentence naming the option', () => {
    expect(() => parseWholeNumber('--last', 'x', 1, 1000)).toThrow(
      new ConfigError('--last must be a whole number from 1 to 1000, got x'),
    );
    expect(() => parseWholeNumber('--last', '0', 1, 1000)).toThrow(ConfigError);
    expect(() => parseWholeNumber('--last', '2.5', 1, 1000)).toThrow(ConfigError);
  });
});

describe('Function: runRows', () => {
  const run: RunSummary = {
    snapshotDate: '2026-01-02',
    runId: 'r2',
    status: 'ok',
    trigger: 'schedule',
    startedAt: '2026-01-02T22:00:00Z',
    finishedAt: '2026-01-02T22:01:12Z',
    error: null,
    inputSha256: 'x',
    rowsRead: 50_000,
    rowsQuarantined: 12,
    loanCount: 49_988,
    totalOutstanding: 1_234_567_890.4,
    nplRatio: 0.0312,
    pastDue30Share: 0.05,
    expectedLoss: 2_345_678,
    overall: 'amber',
    loansInBreach: 321,
    rulesBreached: 2,
    largestPsi: 0.01,
    quarantineRate: 12 / 50_000,
    findings: 7,
  };

  it('shows the headline figures and how long the run took', () => {
    expect(runRows([run])).toEqual([
      [
        '2026-01-02',
        'ok',
        'amber',
        '49,988',
        '1,234,567,890',
        '3.12%',
        '2,345,678',
        '321',
        '2',
        '7',
        '12',
        '1.2m',
        'r2',
      ],
    ]);
  });

  it("shows a failed run's sentence and dashes for figures it never had", () => {
    const failed: RunSummary = {
      ...run,
      status: 'failed',
      finishedAt: '2026-01-02T22:00:05Z',
      error: 'no tape landed for 2026-01-02',
      loanCount: null,
      totalOutstanding: null,
      nplRatio: null,
      expectedLoss: null,
      overall: null,
      loansInBreach: null,
      rulesBreached: null,
    };
    const [row] = runRows([failed]);
    expect(row?.slice(2, 9)).toEqual(['-', '-', '-', '-', '-', '-', '-']);
    expect(row?.[11]).toBe('5.0s');
    expect(row?.[12]).toBe('r2: no tape landed for 2026-01-02');
  });
});

describe('Function: historyRows', () => {
  const base: LoanHistoryItem = {
    snapshotDate: '2026-01-01',
    runId: 'r1',
    loanId: 'L1',
    change: 'new',
    borrowerRef: 'ref',
    grade: 'B',
    score: 650,
    pd: 0.05,
    dpdBucket: '0',
    classification: 'normal',
    stage: '1',
    flags: [],
    outstanding: 5_000,
    previousGrade: null,
    previousDpdBucket: null,
  };

  it('shows grade and bucket moves as from->to', () => {
    const changed: LoanHistoryItem = {
      ...base,
      snapshotDate: '2026-01-02',
      change: 'changed',
      grade: 'D',
      dpdBucket: '1-30',
      flags: ['HIGH_DTI'],
      previousGrade: 'B',
      previousDpdBucket: '0',
    };
    expect(historyRows([base, changed])).toEqual([
      ['2026-01-01', 'new', 'B', '0', 'normal', '5.0%', '5,000', '-'],
      ['2026-01-02', 'changed', 'B->D', '0->1-30', 'normal', '5.0%', '5,000', 'HIGH_DTI'],
    ]);
  });

  it('shows a closed loan with its last grade in brackets', () => {
    const closed: LoanHistoryItem = {
      ...base,
      change: 'closed',
      grade: null,
      pd: null,
      dpdBucket: null,
      classification: null,
      outstanding: 0,
      previousGrade: 'E',
      previousDpdBucket: '91-180',
    };
    expect(historyRows([closed])).toEqual([['2026-01-01', 'closed', '(E)', '-', '-', '-', '0', '-']]);
  });

  it("names the state read from the first day's score file the first day", () => {
    expect(historyRows([{ ...base, change: 'baseline' }])[0]?.[1]).toBe('first day');
  });
});

describe('Function: watchlistRows', () => {
  it('lists an entry with its flags and reasons', () => {
    expect(
      watchlistRows([
        {
          rank: 1,
          loanId: 'L9',
          borrowerRef: 'ref',
          grade: 'E',
          score: 451.6,
          pd: 0.4123,
          el: 1_234.5,
          dpdBucket: '91-180',
          classification: 'substandard',
          outstanding: 9_999.5,
          product: 'credit_loan',
          region: null,
          industry: null,
          flags: ['APR_ABOVE_36', 'THIN_FILE'],
          reasons: ['DPD_91_PLUS'],
        },
      ]),
    ).toEqual([
      [
        '1',
        'L9',
        'E',
        '452',
        '41.2%',
        '91-180',
        'substandard',
        '10,000',
        '1,235',
        'credit_loan',
        'APR_ABOVE_36,THIN_FILE',
        'DPD_91_PLUS',
      ],
    ]);
  });
});
