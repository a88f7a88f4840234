import { isAscii, isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import iconv from 'iconv-lite';
import { TapeUnreadableError } from '../../errors.ts';
import type { ByteTally } from '../../ports/tape-source.ts';

/**
 * Passes bytes through while counting and hashing them, so the digest costs no second read.
 * With `digest` false only the size is kept (sha256 stays '').
 */
export async function* tallyBytes(
  source: AsyncIterable<Uint8Array>,
  tally: ByteTally,
  digest = true,
): AsyncIterable<Uint8Array> {
  const hash = digest ? createHash('sha256') : null;
  for await (const chunk of source) {
    hash?.update(chunk);
    tally.bytes += chunk.byteLength;
    yield chunk;
  }
  if (hash !== null) tally.sha256 = hash.digest('hex');
}

/**
 * Joins small chunks (S3 bodies arrive in ~16 KB pieces) into ~64 KB ones: big enough that
 * per-chunk costs vanish, small enough that each decoded string stays in V8's young generation.
 * Measured on a 1M-row CSV: 1 MB chunks cost ~30% more CPU (large-object pages faulted in for
 * every chunk) and 128 KB ones ~50% more.
 */
export async function* coalesce(
  source: AsyncIterable<Uint8Array>,
  minBytes = 1 << 16,
): AsyncIterable<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    size += chunk.byteLength;
    if (size >= minBytes) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}

/** Decompresses gzip, turning zlib's terse errors into one sentence naming the file. */
export async function* gunzipBytes(
  source: AsyncIterable<Uint8Array>,
  key: string,
): AsyncIterable<Uint8Array> {
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  const done = pipeline(Readable.from(source, { objectMode: false }), gunzip).catch(() => undefined);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const problem = /unexpected end/i.test(message)
      ? 'its gzip data is truncated (unexpected end of file)'
      : `its gzip data is corrupt (${message})`;
    throw new TapeUnreadableError(`tape part ${key} cannot be read: ${problem}`, { cause: error });
  }
  await done;
}

/** Share of CJK characters in a decoded sample; high for Chinese text decoded with the right codec. */
function cjkShare(text: string): number {
  let cjk = 0;
  let letters = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c > 0x7f) {
      letters++;
      if (c >= 0x4e00 && c <= 0x9fff) cjk++;
    }
  }
  return letters === 0 ? 0 : cjk / letters;
}

/** Names what a non-UTF-8 sample most likely is, for the error sentence. */
export function describeNonUtf8(sample: Uint8Array): string {
  const gb = iconv.decode(Buffer.from(sample), 'gb18030');
  if (!gb.includes('\ufffd') && cjkShare(gb) > 0.9) {
    return 'it is not UTF-8 and looks like GBK/GB18030-encoded Chinese text (declare `encoding: gbk` in the column mapping)';
  }
  const big5 = iconv.decode(Buffer.from(sample), 'big5');
  if (!big5.includes('\ufffd') && cjkShare(big5) > 0.9) {
    return 'it is not UTF-8 and looks like Big5-encoded Chinese text (declare `encoding: big5` in the column mapping)';
  }
  return 'it is not valid UTF-8 text (declare its `encoding` in the column mapping, e.g. latin1)';
}

/**
 * Says what a file is when its first bytes show it is not text: a spreadsheet or other known
 * binary format, UTF-16 without a byte order mark, or binary data (NUL bytes in more than 1% of
 * the sample). A stray NUL in a text tape is not the file's problem but its row's: the readers
 * quarantine a row holding one, wherever it appears.
 */
export function describeBinary(sample: Uint8Array): string | null {
  const b = sample;
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04)
    return 'it is a ZIP archive (an .xlsx workbook is one), not CSV or JSON Lines text: export the sheet as CSV';
  if (b.length >= 4 && b[0] === 0xd0 && b[1] === 0xcf && b[2] === 0x11 && b[3] === 0xe0)
    return 'it is a legacy Office file (.xls), not CSV or JSON Lines text: export the sheet as CSV';
  if (b.length >= 4 && b[0] === 0x25 && b[1] === 0x50 && b[2] === 0x44 && b[3] === 0x46)
    return 'it is a PDF document, not CSV or JSON Lines text';
  let nul = 0;
  let even = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) {
      nul++;
      if ((i & 1) === 0) even++;
    }
  }
  if (nul === 0) return null;
  const pairs = Math.floor(b.length / 2);
  if (pairs > 8 && (even > pairs * 0.3 || nul - even > pairs * 0.3) && (even === 0 || nul - even === 0)) {
    const le = even === 0;
    return `it looks like UTF-16${le ? 'LE' : 'BE'} text without a byte order mark (declare \`encoding: utf-16${le ? 'le' : 'be'}\` in the column mapping, or export UTF-8)`;
  }
  if (nul > b.length / 100) return 'it is a binary file, not CSV or JSON Lines text';
  return null;
}

/** Length of the prefix of `b` that ends on a UTF-8 character boundary (a split character waits for the next chunk). */
function completeUtf8Length(b: Uint8Array): number {
  const end = b.byteLength;
  let i = end - 1;
  let back = 0;
  while (i >= 0 && back < 3 && (b[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return end;
  const lead = b[i]!;
  const need =
    lead < 0x80
      ? 1
      : (lead & 0xe0) === 0xc0
        ? 2
        : (lead & 0xf0) === 0xe0
          ? 3
          : (lead & 0xf8) === 0xf0
            ? 4
            : 1;
  return end - i < need ? i : end;
}

/**
 * Decodes bytes to text: UTF-8 (strictly validated, BOM dropped) unless `encoding` names another
 * codec for iconv-lite. Refuses binary data with a sentence naming the file. UTF-8 is checked
 * with buffer.isUtf8 and decoded with Buffer#toString: TextDecoder is as strict but yields
 * strings that the CSV scanner walks about 30% slower (measured).
 */
export async function* decodeText(
  source: AsyncIterable<Uint8Array>,
  key: string,
  encoding: string | undefined,
): AsyncIterable<string> {
  const enc = (encoding ?? 'utf-8').toLowerCase();
  const utf8 = enc === 'utf-8' || enc === 'utf8';
  if (!utf8 && !iconv.encodingExists(enc)) {
    throw new TapeUnreadableError(`tape part ${key} cannot be read: unknown encoding ${encoding}`);
  }
  const legacy = utf8 ? null : iconv.getDecoder(enc, { stripBOM: true });
  let first = true;
  let sniffed = false;
  let carry: Buffer | null = null;
  for await (const chunk of source) {
    if (chunk.byteLength === 0) continue;
    if (!sniffed) {
      sniffed = true;
      const b0 = chunk[0];
      const b1 = chunk[1];
      if (utf8 && ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff))) {
        const le = b0 === 0xff;
        throw new TapeUnreadableError(
          `tape part ${key} cannot be read: it is UTF-16${le ? 'LE' : 'BE'} text (declare \`encoding: utf-16${le ? 'le' : 'be'}\` in the column mapping, or export UTF-8)`,
        );
      }
      const binary = legacy === null ? describeBinary(chunk.subarray(0, 8192)) : null;
      if (binary !== null) throw new TapeUnreadableError(`tape part ${key} cannot be read: ${binary}`);
    }
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (legacy !== null) {
      yield legacy.write(bytes);
      continue;
    }
    const b: Buffer = carry === null ? bytes : Buffer.concat([carry, bytes]);
    // Cut after the last line break (a 0x0A byte is never inside a UTF-8 character): each text
    // then ends a line, so the CSV scanner rarely joins a chunk to the previous one's tail, and
    // the row loop reads flat strings instead of concatenations.
    let cut = b.lastIndexOf(10) + 1;
    if (cut === 0) cut = completeUtf8Length(b);
    carry = cut < b.byteLength ? Buffer.from(b.subarray(cut)) : null;
    const text = decodeUtf8(b.subarray(0, cut), key, first);
    if (text.length > 0) {
      first = false;
      yield text;
    }
  }
  if (legacy !== null) {
    const tail = legacy.end() ?? '';
    if (tail.length > 0) yield tail;
  } else if (carry !== null) {
    if (completeUtf8Length(carry) < carry.byteLength) {
      throw new TapeUnreadableError(
        `tape part ${key} cannot be read: it ends in the middle of a UTF-8 character`,
      );
    }
    const text = decodeUtf8(carry, key, first);
    if (text.length > 0) yield text;
  }
}

/** Decodes whole UTF-8 characters (dropping a byte order mark at the start of the part). */
function decodeUtf8(body: Buffer, key: string, first: boolean): string {
  let text: string;
  // ASCII is UTF-8 and latin1 at once, and latin1 decoding is several times faster (measured).
  if (isAscii(body)) text = body.toString('latin1');
  else if (isUtf8(body)) text = body.toString('utf8');
  else {
    throw new TapeUnreadableError(
      `tape part ${key} cannot be read: ${describeNonUtf8(body.subarray(0, 65536))}`,
    );
  }
  if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** Reads a whole (small) stream into one buffer: parquet footers and page ranges only. */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}
