/**
 * Gzip helpers and the gzip JSON Lines files of earlier releases' score files (still read; the
 * score file itself is binary now, see use-cases/score-file.ts and docs/score-file.md).
 */
import { Readable } from 'node:stream';
import { createGunzip, createGzip, type Gzip, gunzipSync } from 'node:zlib';

const FLUSH_BYTES = 1 << 20;

/**
 * Gzips text lines (one JSON document each) into one buffer. Lines are written straight into
 * 1 MiB byte chunks (no growing string to re-encode), each chunk handed to zlib when full.
 * `level` 1 suits intermediate files (a shard's scores, merged within the hour): about 3x less
 * compression work than the default 6, for a file about a third bigger.
 */
export async function gzipLines(lines: Iterable<string>, level = 6): Promise<Uint8Array> {
  const writer = new GzipLineWriter(level);
  for (const line of lines) {
    const behind = writer.add(line);
    if (behind !== null) await behind;
  }
  return writer.finish();
}

/**
 * Gzips lines as they are produced: each line (and its newline) is written straight into a byte
 * chunk of about FLUSH_BYTES (no growing string to re-encode), each full chunk handed to zlib, so
 * only the compressed output is held (a night's score file of 1M loans: ~40 MB, not ~330 MB of
 * line strings for the garbage collector to trace).
 */
export class GzipLineWriter {
  private readonly gzip: Gzip;
  private readonly out: Buffer[] = [];
  private readonly ended: Promise<void>;
  private chunk = Buffer.allocUnsafe(FLUSH_BYTES);
  private used = 0;

  public constructor(level = 6) {
    this.gzip = createGzip({ level });
    this.gzip.on('data', (c: Buffer) => this.out.push(c));
    this.ended = new Promise<void>((resolve, reject) => {
      this.gzip.on('end', resolve);
      this.gzip.on('error', reject);
    });
  }

  /** Adds a line; returns a promise to await when zlib is behind (else null). */
  public add(line: string): Promise<void> | null {
    // A UTF-8 line takes at most 3 bytes a UTF-16 unit, plus its newline.
    const worst = line.length * 3 + 1;
    let behind: Promise<void> | null = null;
    if (this.used + worst > this.chunk.byteLength) {
      behind = this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(FLUSH_BYTES, worst));
    }
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = 10;
    return behind;
  }

  /** The whole gzip file. */
  public async finish(): Promise<Uint8Array> {
    await this.flush();
    this.gzip.end();
    await this.ended;
    return new Uint8Array(Buffer.concat(this.out));
  }

  private flush(): Promise<void> | null {
    if (this.used === 0) return null;
    const full = this.chunk.subarray(0, this.used);
    this.used = 0;
    return this.gzip.write(full) ? null : new Promise((r) => this.gzip.once('drain', () => r()));
  }
}

/** Gzips byte chunks, in order, into one buffer. */
export async function gzipChunks(chunks: Iterable<Uint8Array>, level = 6): Promise<Uint8Array> {
  const gzip = createGzip({ level });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  for (const chunk of chunks) {
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

/** Decodes a whole score file at once (small files, tests). */
export function decodeScoreFile<T>(bytes: Uint8Array): T[] {
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

/**
 * Streams the records of a gzip JSON Lines byte stream in batches, one per decompressed chunk
 * (about 16-64 KB of lines): a consumer of millions of records then awaits once per batch, not
 * once per record (a promise per record and per layer dominated finalize's merge). With
 * `lineKey`, each record also carries its own line under that symbol.
 */
export async function* streamScoreBatches<T>(
  stream: AsyncIterable<Uint8Array>,
  lineKey?: symbol,
): AsyncGenerator<T[]> {
  const text = Readable.from(stream).pipe(createGunzip()).setEncoding('utf8');
  let pending = '';
  for await (const chunk of text as AsyncIterable<string>) {
    const buf = pending.length === 0 ? chunk : pending + chunk;
    const batch: T[] = [];
    let from = 0;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n', from)) {
      if (nl > from) {
        const line = buf.slice(from, nl);
        const record = JSON.parse(line);
        // The line itself under `lineKey`: a record passed on unchanged is written back as read.
        if (lineKey !== undefined) record[lineKey] = line;
        batch.push(record as T);
      }
      from = nl + 1;
    }
    pending = buf.slice(from);
    if (batch.length > 0) yield batch;
  }
  if (pending.trim().length > 0) {
    const record = JSON.parse(pending);
    if (lineKey !== undefined) record[lineKey] = pending;
    yield [record as T];
  }
}

/** Streams the records of a gzip JSON Lines byte stream, one at a time. */
export async function* streamScoreFile<T>(stream: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  for await (const batch of streamScoreBatches<T>(stream)) yield* batch;
}
