import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { localTapeParts } from '../../../shared/adapters/tape/local-tape-source.ts';
import { scanTape } from '../../../shared/adapters/tape/read-tape.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { generateBook } from '../../../shared/domain/generator/book.ts';
import { TAPE_COLUMNS } from '../../../shared/domain/loan.ts';
import { parseMapping } from '../../../shared/domain/tape/mapping.ts';
import { loanToJsonLine } from '../../../shared/domain/tape/tape-row.ts';
import { TapeUnreadableError } from '../../../shared/errors.ts';
import { collectSink, csvText, goodRow, memoryPart } from '../../unit/domain/tape/helpers.ts';

const rows = [
  goodRow({ loan_id: 'L1', region: 'Zhe,jiang' }),
  goodRow({ loan_id: 'L2', industry: 'note with "quotes"\nand a line break' }),
  goodRow({ loan_id: 'L3', principal: 'oops' }),
  goodRow({ loan_id: 'L1' }),
];

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('Function: scanTape', () => {
  it('reads a CSV with BOM and CRLF, quarantining bad rows with physical line numbers and raw text', async () => {
    const text = `\uFEFF${csvText(rows, '\r\n')}`;
    const sink = collectSink();
    const stats = await scanTape([memoryPart('t.csv', text, 7)], { snapshotDate: '2026-11-25' }, sink);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['L1', 'L2']);
    expect(sink.loans[0]!.region).toBe('Zhe,jiang');
    expect(sink.loans[1]!.industry).toBe('note with "quotes"\nand a line break');
    expect(sink.quarantined.map((q) => [q.line, q.codes])).toEqual([
      [5, ['UNPARSEABLE_NUMBER']],
      [6, ['DUPLICATE_LOAN_ID']],
    ]);
    expect(sink.quarantined[0]!.raw).toBe(text.split('\r\n')[3]);
    const bytes = Buffer.from(text);
    expect(stats).toMatchObject({
      rowsRead: 4,
      rowsValid: 2,
      rowsQuarantined: 2,
      snapshotDate: '2026-11-25',
    });
    expect(stats.parts).toEqual([{ key: 't.csv', sha256: sha(bytes), bytes: bytes.byteLength, rowsRead: 4 }]);
    expect(stats.columns).toEqual([...TAPE_COLUMNS].sort());
  });

  it('reads gzip-compressed CSV (detected by magic bytes) and hashes the compressed bytes', async () => {
    const gz = gzipSync(csvText(rows));
    const sink = collectSink();
    const stats = await scanTape([memoryPart('snapshots/2026-11-25/loans', gz, 5)], {}, sink);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['L1', 'L2']);
    expect(stats.parts[0]).toEqual({
      key: 'snapshots/2026-11-25/loans',
      sha256: sha(gz),
      bytes: gz.byteLength,
      rowsRead: 4,
    });
  });

  it('reads JSON Lines (plain and gzip), quarantining a line that is not JSON', async () => {
    const loans = [...generateBook({ loans: 3, date: '2026-11-25', seed: 3 })];
    const text = `${loanToJsonLine(loans[0]!)}\n{broken\n\n${loanToJsonLine(loans[1]!)}\r\n${loanToJsonLine(loans[2]!)}`;
    for (const part of [memoryPart('t.jsonl', text, 11), memoryPart('t.jsonl.gz', gzipSync(text))]) {
      const sink = collectSink();
      const stats = await scanTape([part], {}, sink);
      expect(sink.loans).toEqual(loans);
      expect(sink.quarantined).toEqual([
        {
          part: part.key,
          line: 2,
          raw: '{broken',
          codes: ['MALFORMED_ROW'],
          detail: 'line is not valid JSON',
        },
      ]);
      expect(stats.rowsRead).toBe(4);
    }
  });

  it('reads Parquet and every written format back to the same loans', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tape-'));
    const loans = [...generateBook({ loans: 2500, date: '2026-11-25', seed: 11 })];
    for (const name of ['t.csv', 't.csv.gz', 't.jsonl', 't.jsonl.gz', 't.parquet']) {
      const path = join(dir, name);
      await writeTape(path, loans);
      const sink = collectSink();
      const stats = await scanTape(await localTapeParts(path), {}, sink);
      expect(sink.quarantined, name).toEqual([]);
      expect(sink.loans, name).toEqual(loans);
      expect(stats.rowsValid, name).toBe(2500);
    }
  });

  it('treats several parts as one tape: duplicates across parts, per-part digests and row counts', async () => {
    const a = csvText([goodRow({ loan_id: 'A' }), goodRow({ loan_id: 'B' })]);
    const b = csvText([goodRow({ loan_id: 'C' }), goodRow({ loan_id: 'A' })]);
    const sink = collectSink();
    const stats = await scanTape([memoryPart('p/part-0.csv', a), memoryPart('p/part-1.csv', b)], {}, sink);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['A', 'B', 'C']);
    expect(sink.quarantined.map((q) => [q.part, q.line, q.codes[0]])).toEqual([
      ['p/part-1.csv', 3, 'DUPLICATE_LOAN_ID'],
    ]);
    expect(stats.parts.map((p) => [p.key, p.rowsRead, p.sha256])).toEqual([
      ['p/part-0.csv', 2, sha(Buffer.from(a))],
      ['p/part-1.csv', 2, sha(Buffer.from(b))],
    ]);
  });

  it('finds a quoted field that appears only after many plain rows', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => goodRow({ loan_id: `L${i}` }));
    many.push(goodRow({ loan_id: 'LAST', region: 'He, "Nan"' }));
    const sink = collectSink();
    await scanTape([memoryPart('t.csv', csvText(many), 4096)], {}, sink);
    expect(sink.loans).toHaveLength(3001);
    expect(sink.loans[3000]!.region).toBe('He, "Nan"');
  });

  it('lists source columns nobody reads', async () => {
    const text = csvText([goodRow()])
      .replace('\n', ',extra_col\n')
      .replace(/\n(.+)\n$/, '\n$1,x\n');
    const stats = await scanTape([memoryPart('t.csv', text)], {}, collectSink());
    expect(stats.unknownColumns).toEqual(['extra_col']);
  });

  describe('unreadable input', () => {
    const expectUnreadable = async (
      part: ReturnType<typeof memoryPart>,
      message: string,
      mapping?: string,
    ) => {
      const run = scanTape(
        [part],
        mapping === undefined ? {} : { mapping: parseMapping(mapping) },
        collectSink(),
      );
      await expect(run).rejects.toThrow(TapeUnreadableError);
      await expect(run).rejects.toThrow(message);
    };

    it('names a truncated gzip', async () => {
      const gz = gzipSync(csvText(Array.from({ length: 200 }, (_, i) => goodRow({ loan_id: `L${i}` }))));
      await expectUnreadable(
        memoryPart('day.csv.gz', gz.subarray(0, gz.byteLength >> 1)),
        'tape part day.csv.gz cannot be read: its gzip data is truncated',
      );
    });

    it('names a corrupt gzip', async () => {
      const gz = Buffer.from(
        gzipSync(csvText(Array.from({ length: 200 }, (_, i) => goodRow({ loan_id: `L${i}` })))),
      );
      for (let i = 20; i < 60; i++) gz[i] = 0xff;
      await expectUnreadable(
        memoryPart('day.csv.gz', gz),
        'tape part day.csv.gz cannot be read: its gzip data is corrupt',
      );
    });

    it('refuses a .gz name on data that is not gzip', async () => {
      await expectUnreadable(
        memoryPart('day.csv.gz', csvText([goodRow()])),
        'it is named .gz but is not gzip data',
      );
    });

    it('names a binary file', async () => {
      const png = Buffer.from([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
      ]);
      await expectUnreadable(
        memoryPart('day.csv', png),
        'tape part day.csv cannot be read: it is a binary file',
      );
    });

    it('detects a GBK tape and says how to declare it', async () => {
      const gbk = iconv.encode(
        csvText([goodRow({ region: '浙江省杭州市', industry: '批发和零售业' })]),
        'gbk',
      );
      await expectUnreadable(
        memoryPart('day.csv', gbk),
        'looks like GBK/GB18030-encoded Chinese text (declare `encoding: gbk` in the column mapping)',
      );
    });

    it('decodes a GBK tape when the mapping declares it', async () => {
      const gbk = iconv.encode(csvText([goodRow({ region: '浙江省杭州市' })]), 'gbk');
      const sink = collectSink();
      await scanTape(
        [memoryPart('day.csv', gbk, 3)],
        { mapping: parseMapping('encoding: gbk\ncolumns: {}\n') },
        sink,
      );
      expect(sink.loans[0]!.region).toBe('浙江省杭州市');
    });

    it('names a header-only file', async () => {
      await expectUnreadable(
        memoryPart('day.csv', `${TAPE_COLUMNS.join(',')}\n`),
        'tape part day.csv cannot be read: it has a header but no rows',
      );
    });

    it('names an empty file', async () => {
      await expectUnreadable(
        memoryPart('day.csv', ''),
        'tape part day.csv cannot be read: it is empty (0 bytes)',
      );
    });

    it('names the required column a header lacks', async () => {
      const text = csvText([goodRow()]).replace('annual_rate', 'apr');
      await expectUnreadable(
        memoryPart('day.csv', text),
        'tape part day.csv cannot be read: its header lacks the required column annual_rate',
      );
    });

    it('names a mapped source column the header lacks', async () => {
      await expectUnreadable(
        memoryPart('day.csv', csvText([goodRow()])),
        'its header lacks the required column principal (mapped from "放款金额")',
        'columns:\n  principal: 放款金额\n',
      );
    });

    it('names a JSON Lines file whose first line is not JSON', async () => {
      await expectUnreadable(memoryPart('day.jsonl', 'hello\n{}\n'), 'its first line (line 1) is not JSON');
    });
  });

  describe('byte ranges', () => {
    const tape = csvText(
      Array.from({ length: 50 }, (_, i) =>
        goodRow({ loan_id: `L${i}`, principal: i === 33 ? 'bad' : '10000' }),
      ),
    );

    it('reads each row exactly once across shards cut anywhere, with physical line numbers', async () => {
      const size = Buffer.byteLength(tape);
      for (const cuts of [
        [0, 700, 1900, size],
        [0, 1, 2, 3, size],
        [0, size >> 1, size],
      ]) {
        const seen: string[] = [];
        const lines: number[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          const sink = collectSink();
          const part = { ...memoryPart('t.csv', tape, 64), range: { start: cuts[i]!, end: cuts[i + 1]! } };
          await scanTape([part], {}, sink);
          seen.push(...sink.loans.map((l) => l.loanId));
          lines.push(...sink.quarantined.map((q) => q.line));
        }
        expect(seen, String(cuts)).toEqual(
          Array.from({ length: 50 }, (_, i) => `L${i}`).filter((id) => id !== 'L33'),
        );
        expect(lines, String(cuts)).toEqual([35]);
      }
    });

    it('counts the lines before a range only when the range quarantines a row', async () => {
      const size = Buffer.byteLength(tape);
      const bad = tape.indexOf('bad');
      const opened = async (start: number, end: number) => {
        const base = memoryPart('t.csv', tape, 64);
        const reads: { start: number; end: number }[] = [];
        const part = {
          ...base,
          open: (r?: { start: number; end: number }) => {
            reads.push(r ?? { start: 0, end: size });
            return base.open(r);
          },
          range: { start, end },
        };
        const sink = collectSink();
        await scanTape([part], {}, sink);
        return { reads, lines: sink.quarantined.map((q) => q.line) };
      };
      // A range past the bad row: the bytes before it are not read to count its lines.
      const clean = await opened(bad + 200, size);
      expect(clean.lines).toEqual([]);
      expect(clean.reads.some((r) => r.start === 0 && r.end === bad + 200)).toBe(false);
      expect(clean.reads).toContainEqual({ start: bad + 199, end: bad + 200 });
      // A range holding the bad row: the prefix is counted, and the line number is physical.
      const dirty = await opened(bad - 100, size);
      expect(dirty.lines).toEqual([35]);
      expect(dirty.reads.some((r) => r.start === 0 && r.end === bad - 100)).toBe(true);
    });

    it("reads the ranges of a semicolon tape and of a headerless one by the mapping's delimiter and names", async () => {
      // Prepare: the same 50 rows with `;` between cells, with and without the header line.
      const semicolon = tape.replaceAll(',', ';');
      const headerless = semicolon.slice(semicolon.indexOf('\n') + 1);
      const delimited = parseMapping('delimiter: ";"\ncolumns: {}\n');
      const named = parseMapping(`delimiter: ";"\ncolumnNames: [${TAPE_COLUMNS.join(', ')}]\ncolumns: {}\n`);
      for (const [text, mapping, badLine] of [
        [semicolon, delimited, 35],
        [headerless, named, 34],
      ] as const) {
        const size = Buffer.byteLength(text);
        const seen: string[] = [];
        const lines: number[] = [];
        for (const [start, end] of [
          [0, 900],
          [900, 2100],
          [2100, size],
        ] as const) {
          const sink = collectSink();
          const part = { ...memoryPart('t.csv', text, 64), range: { start, end } };

          // Act
          await scanTape([part], { mapping }, sink);
          seen.push(...sink.loans.map((l) => l.loanId));
          lines.push(...sink.quarantined.map((q) => q.line));
        }

        // Assess: every row once, the bad one (L33) quarantined at its physical line.
        expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `L${i}`).filter((id) => id !== 'L33'));
        expect(lines).toEqual([badLine]);
      }
    });

    it('refuses ranges of a tape with line breaks inside quoted fields', async () => {
      const quoted = csvText([goodRow({ loan_id: 'A', industry: 'two\nlines' }), goodRow({ loan_id: 'B' })]);
      const part = { ...memoryPart('t.csv', quoted), range: { start: 0, end: Buffer.byteLength(quoted) } };
      await expect(scanTape([part], {}, collectSink())).rejects.toThrow(
        'it has line breaks inside quoted fields',
      );
    });

    it('refuses ranges of a compressed part', async () => {
      const gz = gzipSync(tape);
      const part = { ...memoryPart('t.csv.gz', gz), range: { start: 0, end: 100 } };
      await expect(scanTape([part], {}, collectSink())).rejects.toThrow(
        'byte ranges apply to uncompressed CSV and JSON Lines only',
      );
    });
  });

  it('reads local files through LocalTapeSource-style parts, a folder being one multi-part tape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parts-'));
    await writeFile(join(dir, 'part-0.csv'), csvText([goodRow({ loan_id: 'A' })]));
    await writeFile(join(dir, 'part-1.csv'), csvText([goodRow({ loan_id: 'B' })]));
    await writeFile(join(dir, '_SUCCESS'), '');
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(dir), {}, sink);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['A', 'B']);
    expect(stats.parts.map((p) => p.key)).toEqual([join(dir, 'part-0.csv'), join(dir, 'part-1.csv')]);
  });
});
