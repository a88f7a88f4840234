import { afterEach, describe, expect, it, vi } from 'vitest';
import { stepTimer } from '../../../shared/use-cases/step-timer.ts';

describe('Function: stepTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times each part from the end of the one before, after the parts it was given', () => {
    // Prepare
    vi.useFakeTimers({ now: 1_000 });
    const { timings, lap } = stepTimer({ shards: 40 });

    // Act: 25 ms, then 100 ms, then 0 ms.
    vi.advanceTimersByTime(25);
    lap('read');
    vi.advanceTimersByTime(100);
    lap('merge');
    lap('write');

    // Assess
    expect(timings).toEqual({ shards: 40, read: 25, merge: 100, write: 0 });
  });
});
