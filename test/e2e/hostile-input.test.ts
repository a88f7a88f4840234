import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTape } from '../../shared/adapters/tape/tape-writer.ts';
import { main } from '../../shared/cli/main.ts';
import type { AuditResult } from '../../shared/domain/audit-result.ts';
import { generateBook } from '../../shared/domain/generator/book.ts';
import { TAPE_COLUMNS } from '../../shared/domain/loan.ts';
import { loanToCsvLine, TAPE_CSV_HEADER } from '../../shared/domain/tape/tape-row.ts';
import { cells, goodRow } from '../unit/domain/tape/helpers.ts';

// Files nobody should send, made here (nothing large is committed), through the CLI as a user
// runs it. Each case asserts its outcome: one sentence and exit 1, or exact counts with
// rows read = valid + quarantined and quarantine.csv holding every quarantined row.

let dir: string;
const at = (name: string): string => join(dir, name);

/** Runs the CLI in this process; returns the exit code and what it wrote. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  const before = process.exitCode;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}

/** Exit 1 with one readable line on stderr, no stack frames; returns that line. */
async function fails(...args: string[]): Promise<string> {
  const r = await cli(...args);
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
  return lines[0]!;
}

/** score on a file; the audit with the quarantine file's data lines. */
async function scored(
  tape: string,
  ...more: string[]
): Promise<{ audit: AuditResult; quarantine: string[] }> {
  const out = at(`out-${tape.replace(/[^a-z0-9]/gi, '_')}-${Math.random().toString(36).slice(2, 6)}`);
  const r = await cli('score', '--snapshot', at(tape), '--out', out, ...more);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const audit = JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')) as AuditResult;
  const quarantine = readFileSync(join(out, 'quarantine.csv'), 'utf8').trimEnd().split('\n').slice(1);
  expect(audit.input.rowsRead).toBe(audit.input.rowsValid + audit.input.rowsQuarantined);
  expect(quarantine).toHaveLength(audit.input.rowsQuarantined);
  return { audit, quarantine };
}

const csv = (rows: Record<string, string>[]): string =>
  `${[TAPE_COLUMNS.join(','), ...rows.map((r) => cells(r).join(','))].join('\n')}\n`;
const ids = (n: number, over: Partial<Record<(typeof TAPE_COLUMNS)[number], string>> = {}) =>
  Array.from({ length: n }, (_, i) => goodRow({ loan_id: `L${i}`, borrower_id: `B${i % 97}`, ...over }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-hostile-'));
  await writeTape(at('day1.csv'), generateBook({ loans: 500, date: '2026-11-24', seed: 4 }));
  await writeTape(at('day2.csv'), generateBook({ loans: 500, date: '2026-11-25', seed: 4 }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Hostile input: dates that disagree', () => {
  it('quarantines one wrongly dated first row instead of re-dating the audit', async () => {
    const rows = ids(50);
    rows[0] = { ...rows[0]!, snapshot_date: '2026-11-24', origination_date: '2026-01-01' };
    await writeFile(at('first-row-wrong.csv'), csv(rows));
    const { audit, quarantine } = await scored('first-row-wrong.csv');
    expect(audit.snapshotDate).toBe('2026-11-25');
    expect([audit.input.rowsRead, audit.input.rowsValid, audit.input.rowsQuarantined]).toEqual([50, 49, 1]);
    expect(quarantine[0]).toMatch(/^2,.*SNAPSHOT_DATE_MISMATCH/);
  });

  it('fails a tape most of whose rows carry another date than --date, naming both', async () => {
    const today = ids(10).map((r, i) => ({ ...r, loan_id: `M${i}` }));
    await writeFile(at('mostly-other.csv'), csv([...ids(30, { snapshot_date: '2026-11-24' }), ...today]));
    const line = await fails(
      'score',
      '--snapshot',
      at('mostly-other.csv'),
      '--date',
      '2026-11-25',
      '--out',
      at('o-mo'),
    );
    expect(line).toBe(
      "risk-audit: the tape is not for 2026-11-25: 30 of its 40 rows carry snapshot_date 2026-11-24, while the run's date is 2026-11-25 (given with --date); deliver the tape under its own date, or give that date",
    );
    const audit = JSON.parse(readFileSync(at('o-mo/audit.json'), 'utf8'));
    expect(audit.status).toBe('failed');
    // The rows read are all in the quarantine file still (the 30 of another date), not lost.
    expect(readFileSync(at('o-mo/quarantine.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(31);
  });

  it('refuses --previous when it is the snapshot itself, or not earlier', async () => {
    expect(
      await fails('score', '--snapshot', at('day2.csv'), '--previous', at('day2.csv'), '--out', at('o-p1')),
    ).toBe(
      `risk-audit: --previous ${at('day2.csv')} is the same file as --snapshot: give the previous date's tape`,
    );
    await copyFile(at('day2.csv'), at('day2-copy.csv'));
    expect(
      await fails(
        'score',
        '--snapshot',
        at('day2.csv'),
        '--previous',
        at('day2-copy.csv'),
        '--out',
        at('o-p2'),
      ),
    ).toBe(
      `risk-audit: --previous ${at('day2-copy.csv')} is dated 2026-11-25, the same date as the tape it should precede (2026-11-25): give an earlier date's tape`,
    );
    expect(
      await fails('score', '--snapshot', at('day1.csv'), '--previous', at('day2.csv'), '--out', at('o-p3')),
    ).toContain('is dated 2026-11-25, after the tape it should precede (2026-11-24)');
  });

  it('refuses a drift index of a later date as --previous', async () => {
    const r = await cli(
      'score',
      '--snapshot',
      at('day2.csv'),
      '--out',
      at('o-ix'),
      '--index-out',
      at('day2.index'),
    );
    expect(r.code).toBe(0);
    expect(
      await fails(
        'score',
        '--snapshot',
        at('day1.csv'),
        '--previous',
        at('day2.index'),
        '--out',
        at('o-ix2'),
      ),
    ).toContain('is dated 2026-11-25, after the tape it should precede (2026-11-24)');
  });

  it('names a corrupt drift index given as --previous', async () => {
    await writeFile(
      at('bad.index'),
      Buffer.concat([readFileSync(at('day2.index')).subarray(0, 12), Buffer.from('{"size": ')]),
    );
    expect(
      await fails('score', '--snapshot', at('day2.csv'), '--previous', at('bad.index'), '--out', at('o-bi')),
    ).toMatch(/^risk-audit: drift index .*bad\.index cannot be read: it is not a valid drift index \(/);
  });
});

describe('Hostile input: headers', () => {
  it('refuses a required column named twice, and reads it when the mapping picks one', async () => {
    const header = [...TAPE_COLUMNS, 'principal'];
    const row = [...cells(goodRow()), '99999'];
    await writeFile(at('twice.csv'), `${header.join(',')}\n${row.join(',')}\n`);
    expect(await fails('score', '--snapshot', at('twice.csv'), '--out', at('o-tw'))).toBe(
      `risk-audit: tape part ${at('twice.csv')} cannot be read: its header names the column "principal" 2 times (columns 6, ${header.length}) and principal reads it: say which one with \`from: "principal", occurrence: N\` in the column mapping`,
    );
    await writeFile(at('second.yaml'), 'columns:\n  principal: { from: principal, occurrence: 2 }\n');
    const { audit } = await scored('twice.csv', '--mapping', at('second.yaml'));
    expect(audit.portfolio.totalPrincipal).toBe(99999);
  });
});

describe('Hostile input: records and bytes', () => {
  it('says a quoted field is never closed when that is what ran past the record limit', async () => {
    const big = `${TAPE_COLUMNS.join(',')}\n${cells(goodRow()).join(',')}\n"${'x'.repeat(5 << 20)}\n`;
    await writeFile(at('open-quote.csv'), big);
    expect(await fails('score', '--snapshot', at('open-quote.csv'), '--out', at('o-oq'))).toBe(
      `risk-audit: tape part ${at('open-quote.csv')} cannot be read: a quoted field opened in the record starting on line 3 is never closed (the record runs past 4 Mi characters)`,
    );
  });

  it('says a line is too long when it has no line break and no quote', async () => {
    await writeFile(at('long-line.csv'), `${TAPE_COLUMNS.join(',')}\n${'y'.repeat(5 << 20)}\n`);
    expect(await fails('score', '--snapshot', at('long-line.csv'), '--out', at('o-ll'))).toBe(
      `risk-audit: tape part ${at('long-line.csv')} cannot be read: line 2 is longer than 4 Mi characters with no line break`,
    );
  });

  it('gives JSON Lines the same line limit', async () => {
    const first = JSON.stringify(goodRow());
    await writeFile(at('long.jsonl'), `${first}\n{"loan_id": "${'z'.repeat(5 << 20)}"}\n`);
    expect(await fails('score', '--snapshot', at('long.jsonl'), '--out', at('o-lj'))).toBe(
      `risk-audit: tape part ${at('long.jsonl')} cannot be read: line 2 is longer than 4 Mi characters with no line break`,
    );
  });

  it('quarantines a JSON object or array in a text column instead of stringifying it', async () => {
    const lines = [
      JSON.stringify(goodRow({ loan_id: 'A' })),
      JSON.stringify({ ...goodRow({ loan_id: 'B' }), region: { province: 'Zhejiang' } }),
      JSON.stringify({ ...goodRow({ loan_id: 'C' }), industry: ['retail', 'food'] }),
      JSON.stringify({ ...goodRow({ loan_id: 'D' }), notes: { free: 'text' } }),
    ];
    await writeFile(at('nested.jsonl'), `${lines.join('\n')}\n`);
    const { audit, quarantine } = await scored('nested.jsonl');
    expect([audit.input.rowsRead, audit.input.rowsValid, audit.input.rowsQuarantined]).toEqual([4, 2, 2]);
    expect(quarantine[0]).toContain('column ""region"" holds a structure');
    expect(quarantine[1]).toContain('column ""industry"" holds a structure');
  });

  it('treats a NUL byte the same near the start of a file and far into it: its row is quarantined', async () => {
    const rows = ids(3000).map((r) => cells(r).join(','));
    rows[1] = rows[1]!.replace('Zhejiang', 'Zhe\u0000jiang');
    rows[2900] = rows[2900]!.replace('Zhejiang', 'Zhe\u0000jiang');
    await writeFile(at('nul.csv'), `${TAPE_COLUMNS.join(',')}\n${rows.join('\n')}\n`);
    const { audit, quarantine } = await scored('nul.csv');
    expect([audit.input.rowsRead, audit.input.rowsValid, audit.input.rowsQuarantined]).toEqual([
      3000, 2998, 2,
    ]);
    expect(audit.input.quarantineByCode).toEqual({ MALFORMED_ROW: 2 });
    expect(quarantine.map((l) => l.split(',')[0])).toEqual(['3', '2902']);
    expect(quarantine[0]).toContain('the row holds a NUL byte');
  });

  it('still refuses a binary file, and a spreadsheet, in one sentence', async () => {
    await writeFile(at('zip.csv'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0]));
    expect(await fails('score', '--snapshot', at('zip.csv'), '--out', at('o-zip'))).toContain(
      'it is a ZIP archive (an .xlsx workbook is one), not CSV or JSON Lines text: export the sheet as CSV',
    );
    await writeFile(at('utf16.csv'), Buffer.from(`${TAPE_COLUMNS.join(',')}\n`, 'utf16le'));
    expect(await fails('score', '--snapshot', at('utf16.csv'), '--out', at('o-u16'))).toContain(
      'it looks like UTF-16LE text without a byte order mark',
    );
  });

  it('fails a truncated Parquet file in one sentence naming it', async () => {
    await writeTape(at('t.parquet'), generateBook({ loans: 200, date: '2026-11-25', seed: 2 }));
    await truncate(at('t.parquet'), 3000);
    expect(
      await fails('score', '--snapshot', at('t.parquet'), '--date', '2026-11-25', '--out', at('o-tp')),
    ).toMatch(/^risk-audit: tape part .*t\.parquet cannot be read: its Parquet footer is corrupt \(/);
  });
});

describe('Hostile input: a tape whose rows are all quarantined', () => {
  it('writes every row to quarantine.csv and says every row was quarantined, with the counts by reason', async () => {
    const rows = [
      ...ids(6, { principal: '-5' }),
      ...ids(4, { term_months: 'x' }).map((r, i) => ({ ...r, loan_id: `T${i}` })),
    ];
    await writeFile(at('all-bad.csv'), csv(rows));
    expect(await fails('score', '--snapshot', at('all-bad.csv'), '--out', at('o-ab'))).toBe(
      'risk-audit: every row was quarantined (10 rows: NEGATIVE 6, UNPARSEABLE_NUMBER 4); quarantine.csv lists each with its line and reasons',
    );
    const lines = readFileSync(at('o-ab/quarantine.csv'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(JSON.parse(readFileSync(at('o-ab/audit.json'), 'utf8')).status).toBe('failed');
  });

  it('streams many quarantined rows with exact counts, in order', async () => {
    const n = 20_000;
    const header = TAPE_CSV_HEADER;
    const good = generateBook({ loans: 100, date: '2026-11-25', seed: 9 });
    const body: string[] = [header];
    for (const loan of good) body.push(loanToCsvLine(loan));
    for (let i = 0; i < n; i++) body.push(cells(goodRow({ loan_id: `Q${i}`, annual_rate: 'n/a' })).join(','));
    await writeFile(at('many-bad.csv'), `${body.join('\n')}\n`);
    const { audit, quarantine } = await scored('many-bad.csv', '--shards', '3', '--workers', '2');
    expect([audit.input.rowsRead, audit.input.rowsValid, audit.input.rowsQuarantined]).toEqual([
      n + 100,
      100,
      n,
    ]);
    expect(quarantine[0]!.split(',')[0]).toBe('102');
    expect(quarantine[n - 1]!.split(',')[0]).toBe(String(n + 101));
  }, 60_000);
});
