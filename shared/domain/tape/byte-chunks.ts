/**
 * What the tape scan reads from raw bytes itself: a part's magic numbers, and the row boundaries
 * (newline bytes) that cut a byte range to whole rows. Pure functions over Uint8Array chunks.
 */

/** Lets the first chunk be inspected (magic bytes) and then replayed. */
export async function peekFirst(
  source: AsyncIterable<Uint8Array>,
): Promise<{ first: Uint8Array | null; stream: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? null : head.value;
  async function* replay(): AsyncIterable<Uint8Array> {
    if (first !== null) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { first, stream: replay() };
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array | null): boolean {
  return bytes !== null && bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True when the bytes start with the Parquet magic `PAR1`. */
export function isParquet(bytes: Uint8Array | null): boolean {
  return (
    bytes !== null &&
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x41 &&
    bytes[2] === 0x52 &&
    bytes[3] === 0x31
  );
}

/** Counts the newlines of a stream and keeps its last byte (-1 when empty): the prefix before a range. */
export async function countLines(
  source: AsyncIterable<Uint8Array>,
): Promise<{ lines: number; lastByte: number }> {
  let lines = 0;
  let lastByte = -1;
  for await (const chunk of source) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (chunk.byteLength > 0) lastByte = chunk[chunk.byteLength - 1]!;
  }
  return { lines, lastByte };
}

/**
 * Cuts a byte stream to whole rows: drops through the first newline (unless the stream starts
 * a row), stops after the row holding byte `stopAfter` (counted from the stream's start).
 */
export async function* alignToRows(
  source: AsyncIterable<Uint8Array>,
  skipFirst: boolean,
  stopAfter: number,
): AsyncIterable<Uint8Array> {
  let skipping = skipFirst;
  let offset = 0; // bytes of the source seen so far
  for await (const raw of source) {
    let chunk = raw;
    let base = offset;
    offset += raw.byteLength;
    if (skipping) {
      const nl = chunk.indexOf(10);
      if (nl === -1) continue;
      skipping = false;
      chunk = chunk.subarray(nl + 1);
      base += nl + 1;
      // The first whole row starts past the range: it belongs to the next shard.
      if (base > stopAfter) return;
    }
    if (base + chunk.byteLength <= stopAfter) {
      yield chunk;
      continue;
    }
    // The last row owned is the one containing byte stopAfter: end at the first newline at or after it.
    const from = Math.max(0, stopAfter - base);
    const nl = chunk.indexOf(10, from);
    if (nl === -1) {
      yield chunk;
      continue;
    }
    yield chunk.subarray(0, nl + 1);
    return;
  }
}
