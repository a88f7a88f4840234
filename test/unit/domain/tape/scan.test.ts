import { describe, expect, it } from 'vitest';
import { scanTapeWith, surveyTapeDateWith } from '../../../../shared/domain/tape/scan.ts';
import { TapeUnreadableError } from '../../../../shared/errors.ts';
import type { ParquetReadOptions, TapeDecoder, TapePartInput } from '../../../../shared/ports/tape-source.ts';
import { collectSink, csvText, goodRow, memoryPart } from './helpers.ts';

/**
 * A decoder of plain UTF-8 (TextDecoder), recording what the scan asks of it: the domain's row
 * loop runs on any decoder, without Node's zlib, iconv-lite or hyparquet.
 */
function recordingDecoder(
  parquet?: (options: ParquetReadOptions) => void,
): TapeDecoder & { calls: string[] } {
  const calls: string[] = [];
  // Each call is recorded when the scan makes it, before any byte flows.
  return {
    calls,
    tally(source, tally, digest) {
      calls.push(`tally ${digest ? 'digest' : 'count'}`);
      return (async function* () {
        for await (const chunk of source) {
          tally.bytes += chunk.byteLength;
          yield chunk;
        }
        if (digest) tally.sha256 = 'digest';
      })();
    },
    gunzip(source, key) {
      calls.push(`gunzip ${key}`);
      // "Compressed" here is the text behind gzip's two magic bytes.
      return (async function* () {
        let first = true;
        for await (const chunk of source) {
          yield first ? chunk.subarray(2) : chunk;
          first = false;
        }
      })();
    },
    decodeText(source, key, encoding) {
      calls.push(`decode ${key} ${encoding ?? 'utf-8'}`);
      return (async function* () {
        const decoder = new TextDecoder('utf-8', { fatal: true });
        for await (const chunk of source) yield decoder.decode(chunk, { stream: true });
      })();
    },
    async readParquet(part, options) {
      calls.push(`parquet ${part.key}`);
      parquet?.(options);
    },
  };
}

const rows = [
  goodRow({ loan_id: 'A' }),
  goodRow({ loan_id: 'B', principal: 'x' }),
  goodRow({ loan_id: 'C' }),
];

describe('Function: scanTapeWith', () => {
  it('reads a CSV part through the decoder, digesting the whole part', async () => {
    // Prepare
    const text = csvText(rows);
    const decoder = recordingDecoder();
    const sink = collectSink();

    // Act
    const stats = await scanTapeWith(
      decoder,
      [memoryPart('t.csv', text, 50)],
      { snapshotDate: '2026-11-25' },
      sink,
    );

    // Assess
    expect(decoder.calls).toEqual(['tally digest', 'decode t.csv utf-8']);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['A', 'C']);
    expect(sink.quarantined.map((q) => [q.line, q.codes])).toEqual([[3, ['UNPARSEABLE_NUMBER']]]);
    expect(stats.parts).toEqual([
      { key: 't.csv', sha256: 'digest', bytes: Buffer.byteLength(text), rowsRead: 3 },
    ]);
  });

  it('hands gzip data (by its magic number) to the decoder to inflate, and names a .gz part that is not', async () => {
    // Prepare
    const gz = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(csvText(rows))]);
    const decoder = recordingDecoder();
    const sink = collectSink();

    // Act
    await scanTapeWith(decoder, [memoryPart('t', gz)], { snapshotDate: '2026-11-25' }, sink);
    const notGzip = scanTapeWith(
      decoder,
      [memoryPart('t.csv.gz', csvText(rows))],
      { snapshotDate: '2026-11-25' },
      collectSink(),
    );

    // Assess
    await expect(notGzip).rejects.toThrow(
      new TapeUnreadableError('tape part t.csv.gz cannot be read: it is named .gz but is not gzip data'),
    );
    expect(decoder.calls).toEqual(['tally digest', 'gunzip t', 'decode t utf-8', 'tally digest']);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['A', 'C']);
  });

  it('reads a Parquet part (by its magic number) from the rows the decoder hands over', async () => {
    // Prepare: two rows of cell text, the second with a structure in a column the plan reads.
    const columns = Object.keys(goodRow());
    const decoder = recordingDecoder((options) => {
      options.onHeader(columns.map((name) => ({ name, text: (v) => (typeof v === 'string' ? v : null) })));
      options.onRow(Object.values(goodRow({ loan_id: 'P1' })), 1);
      options.onRow(
        Object.values(goodRow({ loan_id: 'P2' })).map((v, i) => (columns[i] === 'region' ? { x: 1 } : v)),
        2,
      );
    });
    const sink = collectSink();
    const part: TapePartInput = memoryPart('t.bin', Buffer.from('PAR1....PAR1'));

    // Act
    await scanTapeWith(decoder, [part], { snapshotDate: '2026-11-25' }, sink);

    // Assess
    expect(decoder.calls).toEqual(['tally digest', 'parquet t.bin']);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['P1']);
    expect(sink.quarantined.map((q) => [q.line, q.detail])).toEqual([
      [2, 'column "region" holds a structure (an object or a list), not a value'],
    ]);
  });

  it('counts a byte range without a digest and reads its header from the part start', async () => {
    // Prepare: the range starts inside row A's line, so its first whole row is B's.
    const text = csvText(rows);
    const start = text.indexOf('\n') + 5;
    const decoder = recordingDecoder();
    const sink = collectSink();
    const part = { ...memoryPart('t.csv', text), range: { start, end: Buffer.byteLength(text) } };

    // Act
    const stats = await scanTapeWith(decoder, [part], { snapshotDate: '2026-11-25' }, sink);

    // Assess
    expect(decoder.calls).toEqual(['decode t.csv utf-8', 'tally count', 'decode t.csv utf-8']);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['C']);
    expect(sink.quarantined.map((q) => q.line)).toEqual([3]);
    expect(stats.parts[0]).toMatchObject({ sha256: '', rowsRead: 2 });
  });
});

describe('Function: surveyTapeDateWith', () => {
  it('is the date most of the first rows carry', async () => {
    // Prepare
    const text = csvText([
      goodRow({ loan_id: 'A', snapshot_date: '2026-11-24' }),
      goodRow({ loan_id: 'B' }),
      goodRow({ loan_id: 'C' }),
    ]);

    // Act
    const date = await surveyTapeDateWith(recordingDecoder(), [memoryPart('t.csv', text)], {});

    // Assess
    expect(date).toBe('2026-11-25');
  });
});
