import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { comparedWith } from '../../../shared/cli/commands/run.ts';
import { localRunDate } from '../../../shared/cli/peek.ts';
import type { RunPlan } from '../../../shared/use-cases/workflow-types.ts';

describe('Function: localRunDate', () => {
  it('takes --date, else the tape date, else for an unreadable file the date in its name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-date-'));
    const bad = join(dir, 'loans-2026-11-25.csv.gz');
    await writeFile(bad, 'not gzip');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await localRunDate(bad, '2026-11-20')).toBe('2026-11-20');
      expect(await localRunDate(bad, undefined)).toBe('2026-11-25');
      expect(String(err.mock.calls[0]![0])).toContain('it is audited as 2026-11-25 (the date in its name)');
      const unnamed = join(dir, 'loans.csv.gz');
      await writeFile(unnamed, 'not gzip');
      // No date anywhere: the date tonight's run audits (the day before, in Shanghai).
      expect(await localRunDate(unnamed, undefined, new Date('2026-12-02T01:00:00Z'))).toBe('2026-12-01');
    } finally {
      err.mockRestore();
    }
  });
});

describe('Function: comparedWith', () => {
  const plan = (previous: string | null, warnings: RunPlan['warnings'] = []) =>
    ({ snapshotDate: '2026-11-25', previousSnapshotDate: previous, warnings }) as RunPlan;

  it('names the previous tape compared against, or why none was', () => {
    expect(comparedWith(plan('2026-11-23'), '2026-11-23')).toBe('compared with: the tape of 2026-11-23');
    expect(
      comparedWith(
        plan(null, [
          { code: 'PREVIOUS_TAPE_UNREADABLE', message: 'drift not computed: tape part x cannot be read' },
        ]),
        '2026-11-23',
      ),
    ).toBe(
      'compared with: nothing (the previous tape of 2026-11-23 was not usable: drift not computed: tape part x cannot be read)',
    );
    expect(comparedWith(plan(null), null)).toBe(
      'compared with: nothing (no tape for the day before 2026-11-25; give one with --previous)',
    );
  });
});
