import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeText, gunzipBytes } from '../../../shared/adapters/tape/byte-streams.ts';
import { TapeUnreadableError } from '../../../shared/errors.ts';

async function* pieces(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function text(source: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const s of source) out += s;
  return out;
}

describe('Function: decodeText', () => {
  it('decodes UTF-8 characters split across chunks of any size and drops the BOM', async () => {
    const s = '\uFEFFregion,note\n浙江,€ and 𝄞\n';
    for (let size = 1; size <= 8; size++) {
      expect(await text(decodeText(pieces(Buffer.from(s), size), 'k', undefined)), `size ${size}`).toBe(
        s.slice(1),
      );
    }
  });

  it('refuses invalid UTF-8 that appears after valid chunks', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n'.repeat(100)), Buffer.from([0xff, 0xfe, 0x41])]);
    await expect(text(decodeText(pieces(bytes, 64), 'day.csv', undefined))).rejects.toThrow(
      'tape part day.csv cannot be read: it is not valid UTF-8 text',
    );
  });

  it('refuses a file that ends in the middle of a character', async () => {
    const bytes = Buffer.from('a,浙').subarray(0, 4);
    await expect(text(decodeText(pieces(bytes, 2), 'day.csv', undefined))).rejects.toThrow(
      TapeUnreadableError,
    );
  });

  it('refuses an unknown declared encoding', async () => {
    await expect(text(decodeText(pieces(Buffer.from('x'), 1), 'day.csv', 'klingon'))).rejects.toThrow(
      'unknown encoding klingon',
    );
  });
});

describe('Function: gunzipBytes', () => {
  it('reads multi-member gzip (what the tape writer produces) as one stream', async () => {
    const bytes = Buffer.concat([gzipSync('first\n'), gzipSync('second\n')]);
    const parts: Buffer[] = [];
    for await (const c of gunzipBytes(pieces(bytes, 5), 'k')) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).toString()).toBe('first\nsecond\n');
  });
});

describe('Function: decodeText (UTF-16)', () => {
  it('names a UTF-16 export and decodes it when declared', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    await expect(text(decodeText(pieces(bytes, 4), 'day.csv', undefined))).rejects.toThrow(
      'tape part day.csv cannot be read: it is UTF-16LE text (declare `encoding: utf-16le` in the column mapping, or export UTF-8)',
    );
    expect(await text(decodeText(pieces(bytes, 3), 'day.csv', 'utf-16le'))).toBe('a,b\n1,2\n');
  });
});
