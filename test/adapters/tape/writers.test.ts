import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { localTapeParts } from '../../../shared/adapters/tape/local-tape-source.ts';
import { scanTape } from '../../../shared/adapters/tape/read-tape.ts';
import { tapeFileFormat } from '../../../shared/adapters/tape/tape-writer.ts';
import { generateTape, registerGenerate } from '../../../shared/cli/commands/generate.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { collectSink } from '../../unit/domain/tape/helpers.ts';

describe('Function: tapeFileFormat', () => {
  it('chooses the format by extension and refuses others', () => {
    expect(tapeFileFormat('a/b.CSV.GZ')).toBe('csv.gz');
    expect(tapeFileFormat('b.parquet')).toBe('parquet');
    expect(() => tapeFileFormat('b.xlsx')).toThrow(ConfigError);
  });
});

describe('Function: generateTape', () => {
  it('writes a fresh book, then rolls it forward a day from the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gen-'));
    const day1 = join(dir, 'day1.csv.gz');
    const day2 = join(dir, 'day2.jsonl');
    const first = await generateTape({ loans: 3000, date: '2026-11-24', seed: '5', badRows: 4, out: day1 });
    expect(first).toEqual({ out: day1, date: '2026-11-24', loans: 3000, previousLoans: null });
    const second = await generateTape({ from: day1, seed: '5', out: day2 });
    expect(second.date).toBe('2026-11-25');
    expect(second.previousLoans).toBe(2996);
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(day2), { snapshotDate: '2026-11-25' }, sink);
    expect(stats.rowsQuarantined).toBe(0);
    expect(stats.rowsValid).toBe(second.loans);
  });

  it('refuses bad arguments with one sentence', async () => {
    await expect(generateTape({ loans: 0, date: '2026-11-24', out: 'x.csv' })).rejects.toThrow(
      '--loans must be a whole number of at least 1',
    );
    await expect(generateTape({ loans: 5, date: '2026-02-30', out: 'x.csv' })).rejects.toThrow(
      '--date must be a real date',
    );
    await expect(generateTape({ loans: 5, date: '2026-11-24', out: 'x.xlsx' })).rejects.toThrow(ConfigError);
  });

  it('registers `generate` with help text', () => {
    const program = new Command('risk-audit');
    registerGenerate(program);
    const help = program.commands.find((c) => c.name() === 'generate')!.helpInformation();
    expect(help).toContain('--loans <n>');
    expect(help).toContain('--from <file>');
    expect(help).toContain('--out <file>');
  });
});

describe('Function: generateTape (roll-forward dates)', () => {
  it('refuses a --date that is not after the previous tape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gen-'));
    const day1 = join(dir, 'day1.csv');
    await generateTape({ loans: 50, date: '2026-11-24', out: day1 });
    await expect(generateTape({ from: day1, date: '2026-11-24', out: join(dir, 'x.csv') })).rejects.toThrow(
      "--date 2026-11-24 must be after the previous tape's date 2026-11-24",
    );
  });
});
