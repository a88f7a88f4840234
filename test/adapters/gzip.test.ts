import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nodeGzip } from '../../shared/adapters/gzip.ts';

/** Bytes that do not compress away: a counter's text, 1 MiB of it. */
const text = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `${i * 7919}`).join(','));

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

describe('Object: nodeGzip', () => {
  it('writes a gzip file zlib reads back, chunk by chunk, waiting when the compressor is behind', async () => {
    // Prepare
    const c = nodeGzip.compressor(1);
    let waits = 0;

    // Act
    for (let i = 0; i < text.byteLength; i += 4096) {
      const behind = c.write(text.subarray(i, i + 4096));
      if (behind !== null) {
        waits++;
        await behind;
      }
    }
    const file = await c.end();

    // Assess
    expect([file[0], file[1]]).toEqual([0x1f, 0x8b]);
    expect(Buffer.from(gunzipSync(file)).equals(text)).toBe(true);
    expect(waits).toBeGreaterThan(0);
  });

  it('gzips chunks into one file and reads a zlib-written file back in pieces', async () => {
    // Act
    const file = await nodeGzip.gzip([text.subarray(0, 1000), text.subarray(1000)]);
    const out: Buffer[] = [];
    for await (const chunk of nodeGzip.gunzip(pieces(gzipSync(text), 777))) out.push(Buffer.from(chunk));

    // Assess
    expect(Buffer.from(gunzipSync(file)).equals(text)).toBe(true);
    expect(Buffer.concat(out).equals(text)).toBe(true);
    expect(Buffer.from(nodeGzip.gunzipSync(gzipSync(text))).equals(text)).toBe(true);
  });

  it('fails on bytes that are not gzip', async () => {
    // Prepare
    const read = async () => {
      for await (const _ of nodeGzip.gunzip(pieces(Buffer.from('not gzip at all'), 4))) {
        // drain
      }
    };

    // Assess
    await expect(read()).rejects.toThrow(/incorrect header check/);
    expect(() => nodeGzip.gunzipSync(Buffer.from('not gzip'))).toThrow(/incorrect header check/);
  });
});
