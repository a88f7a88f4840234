import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { localTapeParts } from '../../../shared/adapters/tape/local-tape-source.ts';
import {
  QuarantineFileWriter,
  QuarantineStreamWriter,
} from '../../../shared/adapters/tape/quarantine-writer.ts';
import { scanTape } from '../../../shared/adapters/tape/read-tape.ts';
import { tapeFileFormat } from '../../../shared/adapters/tape/tape-writer.ts';
import { generateTape, registerGenerate } from '../../../shared/cli/commands/generate.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { collectSink } from '../../unit/domain/tape/helpers.ts';

const row = (line: number, raw: string) => ({
  part: 'p.csv',
  line,
  raw,
  codes: ['NEGATIVE'],
  detail: 'principal: negative',
});

describe('Class: QuarantineFileWriter', () => {
  it('writes the header and one neutralised line per row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'q-'));
    const path = join(dir, 'quarantine.csv');
    const w = new QuarantineFileWriter(path);
    w.add(row(3, '=2+5,x'));
    w.add(row(9, 'a,-1'));
    expect(await w.close()).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe(
      `line,part,codes,detail,raw\n3,p.csv,NEGATIVE,principal: negative,"'=2+5,x"\n9,p.csv,NEGATIVE,principal: negative,"a,-1"\n`,
    );
  });
});

describe('Class: QuarantineStreamWriter', () => {
  it('streams the same CSV for an S3 upload', async () => {
    const w = new QuarantineStreamWriter();
    w.add(row(3, '@x'));
    await w.close();
    let out = '';
    for await (const c of w) out += String(c);
    expect(out).toBe("line,part,codes,detail,raw\n3,p.csv,NEGATIVE,principal: negative,'@x\n");
  });

  it('asks the reader to wait while more than its high-water mark waits for the upload', async () => {
    const w = new QuarantineStreamWriter(false, 100_000);
    for (let i = 0; i < 2_000; i++) w.add(row(i, 'x'.repeat(100)));
    const wait = w.ready();
    expect(wait).not.toBeNull();
    let released = false;
    void wait!.then(() => {
      released = true;
    });
    const it = w[Symbol.asyncIterator]();
    let bytes = 0;
    while (!released) {
      const r = await it.next();
      bytes += r.value!.byteLength;
      await Promise.resolve();
    }
    // Released once the queue fell back under the mark, not before.
    expect(bytes).toBeGreaterThan(2_000 * 100 - 100_000 - 70_000);
    await w.close();
    for (let r = await it.next(); !r.done; r = await it.next()) bytes += r.value.byteLength;
    expect(bytes).toBeGreaterThan(2_000 * 140);
    expect(w.ready()).toBeNull();
  });

  it('fails the reader when the upload failed, instead of waiting for ever', async () => {
    const w = new QuarantineStreamWriter(false, 10);
    w.add(row(1, 'x'.repeat(70_000)));
    const wait = w.ready();
    w.abort(new Error('upload refused'));
    await expect(wait).resolves.toBeUndefined();
    expect(() => w.add(row(2, 'y'))).toThrow('upload refused');
  });
});

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
