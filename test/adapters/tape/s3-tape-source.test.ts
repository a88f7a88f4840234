import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanTape } from '../../../shared/adapters/tape/read-tape.ts';
import { S3TapeSource } from '../../../shared/adapters/tape/s3-tape-source.ts';
import { partInputs } from '../../../shared/domain/tape/scan.ts';
import { collectSink, csvText, goodRow } from '../../unit/domain/tape/helpers.ts';

const s3 = mockClient(S3Client);

describe('Class: S3TapeSource', () => {
  beforeEach(() => s3.reset());
  afterEach(() => s3.reset());

  it('lists the parts under the date prefix across pages, skipping folders and markers, sorted', async () => {
    // Prepare
    const when = new Date('2026-11-26T01:00:00Z');
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      Contents: [
        { Key: 'snapshots/2026-11-25/part-1.csv', Size: 10, LastModified: when },
        { Key: 'snapshots/2026-11-25/', Size: 0 },
      ],
      IsTruncated: true,
      NextContinuationToken: 'next',
    });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'next' }).resolves({
      Contents: [
        { Key: 'snapshots/2026-11-25/part-0.csv', Size: 20, LastModified: when },
        { Key: 'snapshots/2026-11-25/_SUCCESS', Size: 0 },
      ],
      IsTruncated: false,
    });
    const source = new S3TapeSource({ client: new S3Client({}), bucket: 'tapes' });

    // Act
    const parts = await source.listParts('2026-11-25');

    // Assess
    expect(parts).toEqual([
      { key: 'snapshots/2026-11-25/part-0.csv', bytes: 20, lastModified: when },
      { key: 'snapshots/2026-11-25/part-1.csv', bytes: 10, lastModified: when },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({
      Bucket: 'tapes',
      Prefix: 'snapshots/2026-11-25/',
    });
  });

  it('streams an object, asking S3 for an inclusive byte range when given one', async () => {
    // Prepare
    const text = csvText([goodRow({ loan_id: 'A' }), goodRow({ loan_id: 'B' })]);
    s3.on(GetObjectCommand).callsFake((input: { Range?: string }) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
      const body = m === null ? text : Buffer.from(text).subarray(Number(m[1]), Number(m[2]) + 1);
      // The adapter only iterates the body, which a plain Node stream does like the SDK's.
      return { Body: Readable.from([Buffer.from(body)]) as never };
    });
    const source = new S3TapeSource({
      client: new S3Client({}),
      bucket: 'tapes',
      tapePrefix: (d) => `in/${d}/`,
    });
    const bytes = Buffer.byteLength(text);

    // Act
    const sink = collectSink();
    const stats = await scanTape(
      partInputs(source, [{ key: 'in/2026-11-25/loans.csv', bytes, lastModified: null }]),
      {},
      sink,
    );
    const chunks: Buffer[] = [];
    for await (const c of await source.open('in/2026-11-25/loans.csv', { start: 0, end: 13 }))
      chunks.push(Buffer.from(c));

    // Assess
    expect(sink.loans.map((l) => l.loanId)).toEqual(['A', 'B']);
    expect(stats.parts[0]!.bytes).toBe(bytes);
    expect(Buffer.concat(chunks).toString()).toBe('snapshot_date');
    expect(s3.commandCalls(GetObjectCommand).at(-1)!.args[0].input).toEqual({
      Bucket: 'tapes',
      Key: 'in/2026-11-25/loans.csv',
      Range: 'bytes=0-12',
    });
  });
});
