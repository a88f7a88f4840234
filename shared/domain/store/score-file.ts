/**
 * The per-night score file of scored loans: gzip JSON Lines sorted by loanId, so the next night
 * can merge-join against it (use-cases/score-file.ts joinScores) without holding the book in memory.
 * Encoding is pure computation; the read/write helpers go through the injected ArtifactStore port.
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

/**
 * The lines of a score file as they are produced, kept as UTF-8 bytes in large chunks (no string
 * or object per line to hold: a shard of 800k loans holds about 180 MB of line bytes instead of
 * ~1 GB of objects), sorted by key at the end only if the keys did not arrive in order.
 */
export class SortedLines {
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(SORTED_CHUNK);
  private used = 0;
  /** Per line: chunk index and start offset (the end is the next line's start or the chunk's end). */
  private at = new Float64Array(1024);
  private readonly keys: string[] = [];
  private inOrder = true;

  /** Number of lines. */
  public get size(): number {
    return this.keys.length;
  }

  /** Adds one line (without its newline) under a key unique among the lines. */
  public add(key: string, line: string): void {
    const n = this.keys.length;
    if (n > 0 && key < this.keys[n - 1]!) this.inOrder = false;
    const worst = line.length * 3 + 1;
    if (this.used + worst > this.chunk.byteLength) {
      this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(SORTED_CHUNK, worst));
      this.used = 0;
    }
    if (n * 2 === this.at.length) {
      const grown = new Float64Array(this.at.length * 2);
      grown.set(this.at);
      this.at = grown;
    }
    this.at[n * 2] = this.chunks.length;
    this.at[n * 2 + 1] = this.used;
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = 10;
    this.keys.push(key);
  }

  /** The lines with their newlines, sorted by key, as byte chunks (the chunks themselves when already in order). */
  public *bytes(): Generator<Uint8Array> {
    const chunks = [...this.chunks, this.chunk.subarray(0, this.used)];
    if (this.inOrder) {
      yield* chunks;
      return;
    }
    const keys = this.keys;
    const order = Array.from(keys, (_, i) => i).sort((x, y) => {
      const a = keys[x]!;
      const b = keys[y]!;
      return a < b ? -1 : a > b ? 1 : 0;
    });
    let out = Buffer.allocUnsafe(SORTED_CHUNK);
    let used = 0;
    for (const i of order) {
      const c = this.at[i * 2]!;
      const start = this.at[i * 2 + 1]!;
      const sameChunk = i + 1 < keys.length && this.at[(i + 1) * 2] === c;
      const end = sameChunk ? this.at[(i + 1) * 2 + 1]! : chunks[c]!.byteLength;
      const line = chunks[c]!.subarray(start, end);
      if (used + line.byteLength > out.byteLength) {
        yield out.subarray(0, used);
        out = Buffer.allocUnsafe(Math.max(SORTED_CHUNK, line.byteLength));
        used = 0;
      }
      out.set(line, used);
      used += line.byteLength;
    }
    yield out.subarray(0, used);
  }
}

const SORTED_CHUNK = 4 << 20;

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
