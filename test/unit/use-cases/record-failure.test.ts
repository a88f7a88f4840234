import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../shared/ports/risk-store.ts';
import { runningSummary } from '../../../shared/use-cases/prepare-run.ts';
import { failureAction } from '../../../shared/use-cases/record-failure.ts';
import { undeliveredReportFindings } from '../../../shared/use-cases/send-report.ts';
import { runIdFor } from '../../../shared/use-cases/workflow-types.ts';

const run = (date: string, runId: string, patch: Partial<RunSummary> = {}): RunSummary => ({
  ...runningSummary(date, runId, 'schedule', new Date('2026-11-25T22:00:00Z')),
  ...patch,
});

describe('Function: runIdFor', () => {
  it('names the date and the start time, and depends only on the execution', () => {
    const execution = { name: '2026-11-25-schedule-mh3k2x1p', startTime: '2026-11-25T22:00:07.412Z' };
    const id = runIdFor('2026-11-25', execution);
    expect(id).toMatch(/^2026-11-25T220007Z-[0-9a-f]{6}$/);
    expect(runIdFor('2026-11-25', { ...execution })).toBe(id);
    // The status-change event gives the start as epoch milliseconds: the same instant, the same id.
    expect(
      runIdFor('2026-11-25', {
        ...execution,
        startTime: new Date(Date.parse(execution.startTime)).toISOString(),
      }),
    ).toBe(id);
    expect(runIdFor('2026-11-25', { ...execution, name: 'another' })).not.toBe(id);
  });
});

describe('Function: failureAction', () => {
  it('records a failure of its own run, of a date never run, or over an earlier failure', () => {
    expect(failureAction(null, 'r1')).toBe('record');
    expect(failureAction(run('2026-11-25', 'r1'), 'r1')).toBe('record');
    expect(failureAction(run('2026-11-25', 'r0', { status: 'failed' }), 'r1')).toBe('record');
  });

  it('keeps a finished audit of its own run (what failed was the report) and another run’s record', () => {
    expect(failureAction(run('2026-11-25', 'r1', { status: 'ok' }), 'r1')).toBe('finished');
    expect(failureAction(run('2026-11-25', 'r1', { status: 'partial' }), 'r1')).toBe('finished');
    expect(failureAction(run('2026-11-25', 'r0'), 'r1')).toBe('keep');
    expect(failureAction(run('2026-11-25', 'r0', { status: 'ok' }), 'r1')).toBe('keep');
  });
});

describe('Function: undeliveredReportFindings', () => {
  const sent = { status: 'sent' as const, at: '2026-11-24T22:10:00Z', messageId: 'm' };
  const failed = (error: string) => ({ status: 'failed' as const, at: '2026-11-25T22:10:00Z', error });

  it('names every finished audit whose report failed since the last one delivered, newest first', () => {
    const runs = [
      run('2026-11-23', 'a', { status: 'ok', delivery: failed('older, before a delivered one') }),
      run('2026-11-24', 'b', { status: 'ok', delivery: sent }),
      run('2026-11-25', 'c', { status: 'partial', delivery: failed('Email address is not verified') }),
      run('2026-11-26', 'd', { status: 'failed', error: 'no tape' }),
      run('2026-11-27', 'e', { status: 'ok', delivery: failed('Throttling') }),
      run('2026-11-28', 'f', { status: 'ok' }),
    ];
    const findings = undeliveredReportFindings(runs, '2026-11-28');
    expect(findings.map((f) => f.value)).toEqual(['2026-11-27', '2026-11-25']);
    expect(findings[1]).toMatchObject({
      category: 'technical',
      code: 'REPORT_NOT_DELIVERED',
      message:
        'the report of 2026-11-25 was not delivered (Email address is not verified); its audit stands and its full report is archived at runs/2026-11-25/report.html',
    });
  });

  it('names nothing when the last report went out', () => {
    expect(
      undeliveredReportFindings([run('2026-11-24', 'b', { status: 'ok', delivery: sent })], '2026-11-25'),
    ).toEqual([]);
  });
});
