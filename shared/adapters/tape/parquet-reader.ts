import * as zlib from 'node:zlib';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import {
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type SchemaElement,
} from 'hyparquet';
import { decompressLz4, decompressLz4Raw, decompressZstd } from 'hyparquet-compressors';
import { zoneOffsetMinutes } from '../../domain/calendar.ts';
import { daysToIso } from '../../domain/tape/values.ts';
import type { ParquetColumn, ParquetReadOptions, TapePartInput } from '../../ports/tape-source.ts';
import { collectBytes } from './byte-streams.ts';

/**
 * Reads a Parquet part row by row as text cells, whichever writer made it (DuckDB, Arrow-based
 * writers such as pyarrow, pandas and Polars, Spark): plain and dictionary pages, data pages v1
 * and v2, snappy, gzip, zstd, brotli and LZ4 pages, INT32/INT64/DECIMAL/FLOAT/DOUBLE numbers,
 * DATE, TIMESTAMP (milli-, micro- and nanoseconds, instants and local times) and Spark's INT96
 * timestamps, booleans and nulls. Cells are the text a CSV export of the same rows would hold:
 * decimals exactly as stored (never through a binary fraction), FLOAT as the shortest decimal that
 * is the same 32-bit float, dates as ISO `YYYY-MM-DD`; a nested value (struct, list, map) is null.
 */

/** Rows decoded at a time: a row group of a million rows is read in slices of this many. */
export const PARQUET_SLICE_ROWS = 16_384;

/** Decompressors for the codecs hyparquet does not read itself (it reads snappy). */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
  // Node 22.15+ (Lambda's Node 24) decompresses zstd natively; Node 20 uses fzstd.
  ZSTD:
    typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function'
      ? (input: Uint8Array) =>
          new Uint8Array(
            (zlib as unknown as { zstdDecompressSync: (b: Uint8Array) => Buffer }).zstdDecompressSync(input),
          )
      : (input: Uint8Array, length: number) => decompressZstd(input, new Uint8Array(length)),
  LZ4: (input: Uint8Array, length: number) => decompressLz4(input, length),
  LZ4_RAW: (input: Uint8Array, length: number) => decompressLz4Raw(input, length),
};

/** Timestamps come out of hyparquet as milliseconds since the epoch (a number), never as Date. */
const PARSERS = {
  timestampFromMilliseconds: (ms: bigint | number) => Number(ms),
  timestampFromMicroseconds: (us: bigint | number) => Number(BigInt(us) / 1000n),
  timestampFromNanoseconds: (ns: bigint | number) => Number(BigInt(ns) / 1_000_000n),
  dateFromDays: (days: number) => days,
};

/** Shortest decimal text that reads back as the same 32-bit float (0.18, not 0.18000000715255737). */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** An unscaled integer with `scale` decimals as exact decimal text (12345, 2 -> "123.45"). */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac.length > 0 ? `.${frac}` : ''}`;
}

/** A big-endian two's-complement integer (FIXED_LEN_BYTE_ARRAY and BYTE_ARRAY decimals). */
function bigEndianInteger(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

/** The calendar date of an instant in a time zone, with a per-hour cache of the zone's offset. */
function instantDates(timeZone: string): (ms: number) => string {
  const hours = new Float64Array(1024).fill(Number.NaN);
  const offsets = new Int32Array(1024);
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    const slot = hour & 1023;
    if (hours[slot] !== hour) {
      hours[slot] = hour;
      offsets[slot] = zoneOffsetMinutes(new Date(hour * 3_600_000), timeZone);
    }
    return daysToIso(Math.floor((ms + offsets[slot]! * 60_000) / 86_400_000));
  };
}

function isScalar(v: unknown): boolean {
  return v === null || v === undefined || typeof v !== 'object' || v instanceof Uint8Array;
}

/** How one leaf column's decoded values become text (see the file comment). */
function columnText(element: SchemaElement, timeZone: string): ParquetColumn['text'] {
  const ctype = element.converted_type;
  const ltype = element.logical_type;
  const isDecimal = ctype === 'DECIMAL' || ltype?.type === 'DECIMAL';
  if (isDecimal) {
    const scale = element.scale ?? (ltype?.type === 'DECIMAL' ? ltype.scale : 0) ?? 0;
    return (v) => {
      if (v === null || v === undefined) return '';
      if (typeof v === 'bigint') return decimalText(v, scale);
      if (typeof v === 'number') return decimalText(BigInt(v), scale);
      if (v instanceof Uint8Array) return decimalText(bigEndianInteger(v), scale);
      return null;
    };
  }
  const isTimestamp =
    element.type === 'INT96' ||
    ctype === 'TIMESTAMP_MILLIS' ||
    ctype === 'TIMESTAMP_MICROS' ||
    ltype?.type === 'TIMESTAMP';
  if (isTimestamp) {
    // A local timestamp (no time zone) is read as its wall clock; an instant (UTC-adjusted, and
    // Spark's INT96) as the date it was in the tape's time zone.
    const local = ltype?.type === 'TIMESTAMP' && !ltype.isAdjustedToUTC;
    const inZone = instantDates(timeZone);
    return (v) => {
      if (v === null || v === undefined) return '';
      if (typeof v !== 'number') return null;
      return local ? daysToIso(Math.floor(v / 86_400_000)) : inZone(v);
    };
  }
  if (ctype === 'DATE' || ltype?.type === 'DATE') {
    return (v) => (v === null || v === undefined ? '' : typeof v === 'number' ? daysToIso(v) : null);
  }
  if (element.type === 'FLOAT') {
    return (v) => (v === null || v === undefined ? '' : typeof v === 'number' ? float32Text(v) : null);
  }
  return (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    return null;
  };
}

/**
 * The metadata with DECIMAL annotations taken off the numbers' schema elements, so hyparquet
 * hands over the unscaled integers (it would divide them into binary fractions) and `columnText`
 * writes them exactly. BYTE_ARRAY decimals keep theirs (hyparquet would decode them as text).
 */
function withRawDecimals(metadata: FileMetaData): FileMetaData {
  const schema = metadata.schema.map((e) => {
    const decimal = e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
    if (!decimal || e.type === 'BYTE_ARRAY') return e;
    const { converted_type: _c, logical_type: _l, ...rest } = e;
    return rest as SchemaElement;
  });
  return { ...metadata, schema };
}

/** A Parquet part that cannot be read: the message is the problem, for the caller's sentence. */
export class ParquetDataError extends Error {}

/**
 * Streams a Parquet part's rows: metadata first, then each row group fetched once (its bytes,
 * bounded by the writer's row-group size) and decoded PARQUET_SLICE_ROWS rows at a time.
 */
export async function readParquetPart(part: TapePartInput, options: ParquetReadOptions): Promise<void> {
  const size = part.bytes;
  if (size === undefined) throw new ParquetDataError('its size is unknown, which Parquet reading needs');
  // The byte range of the row group being read, fetched once and served to every slice's reads.
  let cached: { start: number; bytes: Uint8Array } | null = null;
  const fetch = async (start: number, end: number): Promise<Uint8Array> =>
    collectBytes(await part.open({ start, end }));
  const file = {
    byteLength: size,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const stop = end ?? size;
      let buf: Uint8Array;
      if (cached !== null && start >= cached.start && stop <= cached.start + cached.bytes.byteLength) {
        buf = cached.bytes.subarray(start - cached.start, stop - cached.start);
      } else {
        buf = await fetch(start, stop);
      }
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new ParquetDataError(`its Parquet footer is corrupt (${(error as Error).message})`, {
      cause: error,
    });
  }
  const tree = parquetSchema(metadata);
  const columns: ParquetColumn[] = tree.children.map((c) => {
    if (c.children.length > 0) return { name: c.element.name, text: () => null };
    const text = columnText(c.element, options.timeZone);
    return { name: c.element.name, text: (v) => (isScalar(v) ? text(v) : null) };
  });
  options.onHeader(columns);
  const raw = withRawDecimals(metadata);
  const limit = options.maxRows ?? Number.POSITIVE_INFINITY;
  let groupStart = 0;
  let delivered = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    const groupEnd = groupStart + groupRows;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta === undefined) continue;
      const from = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      lo = Math.min(lo, from);
      hi = Math.max(hi, from + Number(meta.total_compressed_size));
    }
    if (hi > lo && hi <= size) cached = { start: lo, bytes: await fetch(lo, hi) };
    for (let start = groupStart; start < groupEnd && delivered < limit; start += PARQUET_SLICE_ROWS) {
      const end = Math.min(groupEnd, start + PARQUET_SLICE_ROWS, start + (limit - delivered));
      let rows: unknown[][] = [];
      try {
        await parquetRead({
          file,
          metadata: raw,
          rowStart: start,
          rowEnd: end,
          rowFormat: 'array',
          utf8: true,
          parsers: PARSERS as never,
          compressors: COMPRESSORS,
          onComplete: (decoded: unknown[][]) => {
            rows = decoded;
          },
        });
      } catch (error) {
        throw new ParquetDataError(`its Parquet data is corrupt (${(error as Error).message})`, {
          cause: error,
        });
      }
      // Rows are handed on outside hyparquet's promise, so the sink's own errors pass unchanged.
      for (let r = 0; r < rows.length; r++) {
        delivered++;
        if (options.onRow(rows[r]!, start + r + 1) === false || delivered >= limit) {
          cached = null;
          return;
        }
      }
      const wait = options.between?.();
      if (wait) await wait;
    }
    cached = null;
    groupStart = groupEnd;
    if (delivered >= limit) return;
  }
}
