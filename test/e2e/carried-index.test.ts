import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTapeParts, readLocalPreviousIndex } from '../../shared/adapters/tape/local-tape-source.ts';
import { nodeTapeDecoder } from '../../shared/adapters/tape/read-tape.ts';
import { writeTape } from '../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../shared/cli/commands/score.ts';
import { loadPreviousTape } from '../../shared/domain/engine/previous-scan.ts';
import { generateBook, rollForward } from '../../shared/domain/generator/book.ts';
import type { Loan } from '../../shared/domain/loan.ts';
import { PreviousIndexExtraSchema } from '../../shared/schema/artifacts.ts';

// `score` runs the whole workflow (report included): more than the unit default on a busy machine.
describe('Command: risk-audit score --index-out, then --previous INDEX', { timeout: 60_000 }, () => {
  let dir: string;
  const at = (name: string): string => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-index-'));
    const day1: Loan[] = [...generateBook({ loans: 5000, date: '2026-11-24', seed: 11, badRows: 30 })];
    await writeTape(at('day1.csv'), day1);
    await writeTape(at('day2.csv'), rollForward(day1, { date: '2026-11-25', seed: 11, badRows: 20 }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gives the same audit.json as reading the previous day's tape, without reading it", async () => {
    const first = await scoreLocal({ snapshot: at('day1.csv'), out: at('d1'), indexOut: at('day1.index') });
    expect(first.status).not.toBe('failed');
    const fromTape = await scoreLocal({
      snapshot: at('day2.csv'),
      previous: at('day1.csv'),
      out: at('tape'),
    });
    const fromIndex = await scoreLocal({
      snapshot: at('day2.csv'),
      previous: at('day1.index'),
      out: at('index'),
    });
    expect(fromIndex.status).not.toBe('failed');
    expect(fromTape.status === 'failed' ? null : fromTape.drift.newLoans).toBeGreaterThan(0);
    expect(await readFile(at('index/audit.json'), 'utf8')).toBe(
      await readFile(at('tape/audit.json'), 'utf8'),
    );
    // The index keeps the tape's own counts: the previous valid rows are the first run's.
    const read = await readLocalPreviousIndex(at('day1.index'), false);
    const { tape } = read;
    const extra = PreviousIndexExtraSchema.parse(read.extra);
    expect(first.status === 'failed' ? -1 : first.input.rowsValid).toBe(extra.intake.rowsValid);
    expect(tape.loanCount).toBe(extra.intake.rowsValid);
    expect(tape.snapshotDate).toBe('2026-11-24');
  });

  it('writes the same index from 4 shards on worker threads as from one pass, and reads it there too', async () => {
    await scoreLocal({ snapshot: at('day1.csv'), out: at('s1'), indexOut: at('one.index') });
    await scoreLocal({
      snapshot: at('day1.csv'),
      out: at('s4'),
      indexOut: at('four.index'),
      shards: 4,
      workers: 2,
    });
    expect(Buffer.compare(await readFile(at('four.index')), await readFile(at('one.index')))).toBe(0);
    await scoreLocal({
      snapshot: at('day2.csv'),
      previous: at('four.index'),
      out: at('s4-day2'),
      shards: 4,
      workers: 2,
    });
    await scoreLocal({ snapshot: at('day2.csv'), previous: at('day1.csv'), out: at('s1-day2') });
    expect(await readFile(at('s4-day2/audit.json'), 'utf8')).toBe(
      await readFile(at('s1-day2/audit.json'), 'utf8'),
    );
  });

  it('keeps a loan id out of the index when its first row was quarantined (the first row wins), as a fresh read does', async () => {
    const header = (await readFile(at('day1.csv'), 'utf8')).split('\n')[0]!;
    // The header decides the column order: rows are built in it from a map.
    const cols = header.split(',');
    const line = (values: Record<string, string>): string => cols.map((c) => values[c] ?? '').join(',');
    const base = {
      snapshot_date: '2026-11-24',
      borrower_id: 'B1',
      borrower_type: 'individual',
      product: 'credit_loan',
      outstanding_principal: '1000',
      annual_rate: '0.2',
      term_months: '12',
      origination_date: '2026-01-01',
      maturity_date: '2027-01-01',
      days_past_due: '0',
    };
    await writeFile(
      at('edge.csv'),
      [
        header,
        line({ ...base, loan_id: 'X', principal: '-5' }), // quarantined: negative principal
        line({ ...base, loan_id: 'X', principal: '5000' }), // valid alone, but repeats X
        line({ ...base, loan_id: 'Y', principal: '5000' }),
        '',
      ].join('\n'),
    );
    const audit = await scoreLocal({ snapshot: at('edge.csv'), out: at('edge'), indexOut: at('edge.index') });
    expect(audit.status === 'failed' ? null : audit.input.rowsValid).toBe(1);
    const read = await readLocalPreviousIndex(at('edge.index'), false);
    const { tape } = read;
    const extra = PreviousIndexExtraSchema.parse(read.extra);
    expect(tape.loanCount).toBe(1);
    expect(tape.lookup('Y')).toBeGreaterThanOrEqual(0);
    expect(tape.lookup('X')).toBe(-1);
    // Reading the tape again as a previous one gives the same index and counts.
    const fresh = await loadPreviousTape(nodeTapeDecoder, await localTapeParts(at('edge.csv')), {});
    expect(fresh.previous.canonical()).toEqual(tape.canonical());
    expect(fresh.intake.rowsValid).toBe(extra.intake.rowsValid);
    expect(fresh.intake.quarantineByCode).toEqual(extra.intake.quarantineByCode);
  });

  it('fails the run with one sentence when the index file is damaged', async () => {
    const bytes = await readFile(at('day1.index'));
    await writeFile(at('cut.index'), bytes.subarray(0, 40));
    const audit = await scoreLocal({ snapshot: at('day2.csv'), previous: at('cut.index'), out: at('cut') });
    expect(audit.status).toBe('failed');
    expect(audit.status === 'failed' ? audit.error : '').toMatch(
      /^drift index .*cut\.index cannot be read: it is not a valid drift index \(/,
    );
  });
});
