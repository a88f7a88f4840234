import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTape } from '../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../shared/cli/commands/score.ts';
import { generateBook, rollForward } from '../../shared/domain/generator/book.ts';
import type { Loan } from '../../shared/domain/loan.ts';

// `score` runs the whole workflow (report included): more than the unit default on a busy machine.
describe('Command: risk-audit score --shards', { timeout: 60_000 }, () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-shards-'));
    const day1: Loan[] = [...generateBook({ loans: 6000, date: '2026-11-24', seed: 5 })];
    await writeTape(join(dir, 'day1.csv'), day1);
    // A few bad rows too: quarantine must not depend on where the shard boundaries fall.
    await writeTape(join(dir, 'day2.csv'), rollForward(day1, { date: '2026-11-25', seed: 5, badRows: 25 }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The audits of a tape in `dir` read in one pass and in 4 shards on 2 threads. */
  async function onePassAndFourShards(tape: string) {
    const one = await scoreLocal({ snapshot: join(dir, tape), out: join(dir, `${tape}-1`) });
    const four = await scoreLocal({
      snapshot: join(dir, tape),
      out: join(dir, `${tape}-4`),
      shards: 4,
      workers: 2,
    });
    if (one.status === 'failed' || four.status === 'failed') throw new Error('unexpected failed audit');
    return { one, four };
  }

  it('gives an audit.json identical to one shard when the tape is split into 8 shards on workers', async () => {
    const one = await scoreLocal({
      snapshot: join(dir, 'day2.csv'),
      previous: join(dir, 'day1.csv'),
      out: join(dir, 'one'),
    });
    const eight = await scoreLocal({
      snapshot: join(dir, 'day2.csv'),
      previous: join(dir, 'day1.csv'),
      out: join(dir, 'eight'),
      shards: 8,
      workers: 2,
    });
    expect(one.status).toBe('partial');
    expect(await readFile(join(dir, 'eight', 'audit.json'), 'utf8')).toBe(
      await readFile(join(dir, 'one', 'audit.json'), 'utf8'),
    );
    const q1 = (await readFile(join(dir, 'one', 'quarantine.csv'), 'utf8')).trim().split('\n');
    const q8 = (await readFile(join(dir, 'eight', 'quarantine.csv'), 'utf8')).trim().split('\n');
    expect(q8).toEqual(q1);
    expect(q1.length - 1).toBe(eight.status === 'failed' ? -1 : eight.input.rowsQuarantined);
  });

  /** The audit.json and quarantine.csv a run wrote. */
  async function written(out: string) {
    return {
      audit: await readFile(join(dir, out, 'audit.json'), 'utf8'),
      quarantine: await readFile(join(dir, out, 'quarantine.csv'), 'utf8'),
    };
  }

  it('gives the one-pass audit.json and quarantine.csv when loan ids repeat in different shards', async () => {
    // Prepare: the first five loans again at the end (a part exported twice, in short).
    const book: Loan[] = [...generateBook({ loans: 4000, date: '2026-11-25', seed: 8 })];
    await writeTape(join(dir, 'repeats.csv'), [...book, ...book.slice(0, 5)]);

    // Act
    const { one, four } = await onePassAndFourShards('repeats.csv');

    // Assess: one pass sees the repeats itself (the first row wins, the later five are
    // quarantined); four shards are settled to the same, byte for byte.
    expect(one.input.quarantineByCode).toEqual({ DUPLICATE_LOAN_ID: 5 });
    expect(one.portfolio.loanCount).toBe(4000);
    expect(four.input.quarantineByCode).toEqual({ DUPLICATE_LOAN_ID: 5 });
    expect(await written('repeats.csv-4')).toEqual(await written('repeats.csv-1'));
  });

  it('quarantines a valid row in a later shard whose loan id was first seen in a quarantined row, as one pass', async () => {
    // Prepare: the first row of the first loan is broken (principal not a number); a corrected
    // copy of it comes last, as a re-export appended to the file would put it.
    const book: Loan[] = [...generateBook({ loans: 4000, date: '2026-11-25', seed: 8 })];
    await writeTape(join(dir, 'fixed.csv'), book);
    const lines = (await readFile(join(dir, 'fixed.csv'), 'utf8')).trimEnd().split('\n');
    const first = lines[1]!;
    const cells = first.split(',');
    cells[5] = 'abc';
    lines[1] = cells.join(',');
    await writeFile(join(dir, 'fixed.csv'), `${[...lines, first].join('\n')}\n`);

    // Act
    const { one, four } = await onePassAndFourShards('fixed.csv');

    // Assess: the broken first row wins, so the corrected copy is a repeat, in one pass and in four shards.
    expect(one.input.quarantineByCode).toEqual({ UNPARSEABLE_NUMBER: 1, DUPLICATE_LOAN_ID: 1 });
    expect(four.input.quarantineByCode).toEqual({ UNPARSEABLE_NUMBER: 1, DUPLICATE_LOAN_ID: 1 });
    expect(await written('fixed.csv-4')).toEqual(await written('fixed.csv-1'));
  });

  it('fails with one sentence and a failed audit.json when the tape is not a tape', async () => {
    await writeFile(join(dir, 'binary.csv'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 7]));
    const doc = await scoreLocal({ snapshot: join(dir, 'binary.csv'), out: join(dir, 'bad') });
    expect(doc.status).toBe('failed');
    const written = JSON.parse(await readFile(join(dir, 'bad', 'audit.json'), 'utf8'));
    expect(written.status).toBe('failed');
    expect(written.error).toMatch(/binary\.csv/);
    expect(written.error).not.toMatch(/\n|at .*\.ts:/);
  });
});
