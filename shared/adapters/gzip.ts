import { Readable } from 'node:stream';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import type { Gzip, GzipCompressor } from '../ports/gzip.ts';

/** zlib's output chunks: 256 KiB instead of its 16 KiB default, 16x fewer stream callbacks. */
const ZLIB_CHUNK = 1 << 18;

function compressor(level: number): GzipCompressor {
  const gzip = createGzip({ level, chunkSize: ZLIB_CHUNK });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  // A write refused while an earlier one still waits for 'drain' shares that wait.
  let behind: Promise<void> | null = null;
  return {
    write(bytes) {
      if (!gzip.write(bytes) && behind === null)
        behind = new Promise<void>((r) => gzip.once('drain', () => r())).then(() => {
          behind = null;
        });
      return behind;
    },
    async end() {
      if (behind !== null) await behind;
      gzip.end();
      await ended;
      return new Uint8Array(Buffer.concat(out));
    },
  };
}

/** Gzip on Node's zlib. */
export const nodeGzip: Gzip = {
  compressor,
  async gzip(chunks, level = 6) {
    const c = compressor(level);
    for (const chunk of chunks) {
      const behind = c.write(chunk);
      if (behind !== null) await behind;
    }
    return c.end();
  },
  gunzip: (source) => Readable.from(source).pipe(createGunzip({ chunkSize: ZLIB_CHUNK })),
  gunzipSync: (bytes) => gunzipSync(bytes),
};
