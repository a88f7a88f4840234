import { CsvScanner, CsvSyntaxError, MAX_RECORD_CHARS, NUL_IN_ROW } from '../../domain/tape/csv-scanner.ts';
import { FieldRow } from '../../domain/tape/field-row.ts';
import type { IntakeStats, RowSink } from '../../domain/tape/intake.ts';
import { LatestRows } from '../../domain/tape/latest-rows.ts';
import {
  type ColumnMapping,
  compileMapping,
  DEFAULT_TAPE_TIME_ZONE,
  describeHeaderProblems,
  type MappedPlan,
  mappingReadsWholeParts,
} from '../../domain/tape/mapping.ts';
import { RowValidator } from '../../domain/tape/row-validator.ts';
import { TapeUnreadableError } from '../../errors.ts';
import type { ByteRange } from '../../ports/tape-source.ts';
import {
  type ByteTally,
  coalesce,
  decodeText,
  gunzipBytes,
  isGzip,
  isParquet,
  peekFirst,
  tallyBytes,
} from './byte-streams.ts';
import { NOT_A_VALUE, ParquetDataError, readParquetPart } from './parquet-reader.ts';

/** Tape file formats; gzip is detected from the bytes, so `csv` covers `.csv.gz` too. */
export type TapeFormat = 'csv' | 'jsonl' | 'parquet';

/** One part file of a tape, as scanTape reads it. */
export interface TapePartInput {
  /** Object key or file path; names the part in errors and quarantine rows. */
  key: string;
  /** Streams the part's bytes, or a range of them. */
  open(range?: ByteRange): Promise<AsyncIterable<Uint8Array>>;
  /** Size in bytes; required for Parquet (random access) and byte ranges. */
  bytes?: number;
  /**
   * Read only the rows that start inside this byte range (uncompressed CSV or JSON Lines): the
   * header is read from byte 0, the first partial row is skipped and the last row is finished
   * past the range's end. Refused for tapes with line breaks inside quoted fields.
   */
  range?: ByteRange;
}

/** Options of one scan. */
export interface ScanOptions {
  /**
   * The run's date (the S3 partition or `--date`); rows with another date are quarantined. When
   * absent it is the date most of the tape's first rows carry (surveyTapeDate), so one wrongly
   * dated first row never re-dates the audit.
   */
  snapshotDate?: string | undefined;
  /** The lender's column mapping; none means canonical headers. */
  mapping?: ColumnMapping | undefined;
  /** Forces a format instead of guessing from the key's extension and the first bytes. */
  format?: TapeFormat | undefined;
  /** Stops after this many rows (a survey of the first rows); the "no rows" check is then off. */
  maxRows?: number | undefined;
  /** The tape's currency (see `peekTapeCurrency`); rows in another are quarantined. */
  currency?: string | undefined;
}

/** Rows read to find a tape's date when none is given. */
export const SURVEY_ROWS = 1000;

/** Rows read so far in a scan that stops early (maxRows). */
class ScanLimitReached extends Error {}

/** Intake counts of a scan plus the tape's as-of date and currency (given, or read from its rows). */
export interface TapeScanResult extends IntakeStats {
  snapshotDate: string | null;
  currency: string | null;
}

/** Guesses the format from a key's extension; null when the name says nothing. */
export function formatFromKey(key: string): TapeFormat | null {
  const k = key.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (k.endsWith('.parquet') || k.endsWith('.pq')) return 'parquet';
  if (k.endsWith('.jsonl') || k.endsWith('.ndjson') || k.endsWith('.json')) return 'jsonl';
  if (k.endsWith('.csv') || k.endsWith('.txt')) return 'csv';
  return null;
}

function unreadable(key: string, problem: string, cause?: unknown): TapeUnreadableError {
  return new TapeUnreadableError(
    `tape part ${key} cannot be read: ${problem}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Streams every part of a tape through the mapping and the row validator into `sink`, hashing
 * each part on the way. Bad rows go to the sink's quarantine; an unreadable part throws
 * TapeUnreadableError naming the part and the problem. The returned counts always satisfy
 * rows read = rows valid + rows quarantined (checked, or IntakeInvariantError is thrown).
 */
export async function scanTape(
  parts: readonly TapePartInput[],
  options: ScanOptions,
  sink: RowSink,
): Promise<TapeScanResult> {
  if (parts.length === 0) throw new TapeUnreadableError('the tape has no part files');
  const snapshotDate =
    options.snapshotDate ??
    (options.maxRows === undefined ? await surveyTapeDate(parts, options) : undefined);
  // About 170 bytes a CSV row, 4x that compressed: only sizes the id set, so rough is fine.
  const bytes = parts.reduce((n, p) => n + (p.range ? p.range.end - p.range.start : (p.bytes ?? 0)), 0);
  const compressed = parts.some((p) => /\.(gz|gzip|parquet)$/i.test(p.key));
  const expectedRows = options.maxRows ?? (bytes / 170) * (compressed ? 4 : 1);
  let latest: LatestRows | undefined;
  if (options.mapping?.latest !== undefined && options.maxRows === undefined) {
    // A panel: a first pass ranks every loan's rows, then the read keeps each loan's latest (a
    // survey of the first rows' dates needs no ranking).
    latest = new LatestRows(expectedRows);
    const ranking = new RowValidator(sink, {
      snapshotDate: snapshotDate ?? undefined,
      latest,
      ranking: true,
    });
    for (const part of parts) {
      try {
        await scanPart(part, options, ranking, { sha256: '', bytes: 0 });
      } catch (error) {
        if (!(error instanceof ScanLimitReached)) throw error;
        break;
      }
    }
  }
  const validator = new RowValidator(sink, {
    snapshotDate: snapshotDate ?? undefined,
    currency: options.currency,
    expectedRows,
    latest,
  });
  const tallies: { key: string; tally: ByteTally; rows: number }[] = [];
  for (const part of parts) {
    const before = validator.rowsRead;
    const tally: ByteTally = { sha256: '', bytes: 0 };
    try {
      await scanPart(part, options, validator, tally);
    } catch (error) {
      if (!(error instanceof ScanLimitReached)) throw error;
      tallies.push({ key: part.key, tally, rows: validator.rowsRead - before });
      break;
    }
    tallies.push({ key: part.key, tally, rows: validator.rowsRead - before });
  }
  if (
    validator.rowsRead === 0 &&
    options.maxRows === undefined &&
    parts.every((p) => p.range === undefined)
  ) {
    const what = parts.length === 1 ? `tape part ${parts[0]!.key}` : `the tape (${parts.length} parts)`;
    throw new TapeUnreadableError(`${what} cannot be read: it has a header but no rows`);
  }
  const stats = validator.stats();
  stats.parts = tallies.map((t) => ({
    key: t.key,
    sha256: t.tally.sha256,
    bytes: t.tally.bytes,
    rowsRead: t.rows,
  }));
  return { ...stats, snapshotDate: validator.snapshotDate, currency: validator.currency };
}

/**
 * The date most of a tape's first SURVEY_ROWS rows carry in snapshot_date (read through the
 * mapping; the first of equally common dates), or null when none carries a readable date.
 */
export async function surveyTapeDate(
  parts: readonly TapePartInput[],
  options: Omit<ScanOptions, 'snapshotDate' | 'maxRows'>,
): Promise<string | null> {
  // A byte range's part is surveyed from its start: the first rows are the tape's first rows.
  const whole = new Map<string, TapePartInput>();
  for (const p of parts)
    if (!whole.has(p.key))
      whole.set(p.key, { key: p.key, open: p.open, ...(p.bytes === undefined ? {} : { bytes: p.bytes }) });
  const survey = await scanTape(
    [...whole.values()],
    { ...options, maxRows: SURVEY_ROWS },
    { loan() {}, quarantine() {} },
  );
  let best: string | null = null;
  let most = 0;
  for (const [date, n] of Object.entries(survey.rowsByOtherDate ?? {})) {
    if (n > most) {
      best = date;
      most = n;
    }
  }
  return best;
}

/** Throws ScanLimitReached once the scan has read its maxRows. */
function checkLimit(validator: RowValidator, options: ScanOptions): void {
  if (options.maxRows !== undefined && validator.rowsRead >= options.maxRows) throw new ScanLimitReached();
}

async function scanPart(
  part: TapePartInput,
  options: ScanOptions,
  validator: RowValidator,
  tally: ByteTally,
): Promise<void> {
  let format = options.format ?? formatFromKey(part.key);
  if (part.range !== undefined) {
    if (format === 'parquet') throw unreadable(part.key, 'byte ranges apply to CSV and JSON Lines only');
    if (mappingReadsWholeParts(options.mapping))
      throw unreadable(
        part.key,
        'its column mapping (latest, or row()) reads each part whole, so it cannot be read in byte ranges',
      );
    await scanRange(part, part.range, format ?? 'csv', options, validator, tally);
    return;
  }
  const { first, stream } = await peekFirst(await part.open());
  if (first === null || first.byteLength === 0) {
    // Drain so the tally is complete, then refuse: an empty part is never a valid tape.
    for await (const _ of tallyBytes(stream, tally)) void _;
    throw unreadable(part.key, 'it is empty (0 bytes)');
  }
  if (format === 'parquet' || isParquet(first)) {
    for await (const _ of tallyBytes(stream, tally)) void _;
    await scanParquet(part, options, validator);
    return;
  }
  let bytes: AsyncIterable<Uint8Array> = tallyBytes(stream, tally);
  if (isGzip(first)) bytes = gunzipBytes(bytes, part.key);
  else if (part.key.toLowerCase().endsWith('.gz'))
    throw unreadable(part.key, 'it is named .gz but is not gzip data');
  const text = decodeText(coalesce(bytes), part.key, options.mapping?.encoding);
  if (format === null) {
    const { first: head, stream: replay } = await peekText(text);
    format = head.trimStart().startsWith('{') ? 'jsonl' : 'csv';
    await scanText(replay, format, part.key, options, validator, 1);
    return;
  }
  await scanText(text, format, part.key, options, validator, 1);
}

async function peekText(
  source: AsyncIterable<string>,
): Promise<{ first: string; stream: AsyncIterable<string> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? '' : head.value;
  async function* replay(): AsyncIterable<string> {
    yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { first, stream: replay() };
}

/** Compiles the part's plan from its header, refusing a header without a required column. */
function planFor(key: string, header: readonly string[], options: ScanOptions): MappedPlan {
  const plan = compileMapping(options.mapping, header);
  const problem = describeHeaderProblems(plan);
  if (problem !== null) throw unreadable(key, problem);
  return plan;
}

async function scanText(
  text: AsyncIterable<string>,
  format: 'csv' | 'jsonl',
  key: string,
  options: ScanOptions,
  validator: RowValidator,
  firstLine: number,
  header?: readonly string[],
): Promise<{ sawQuotedLineBreak: boolean }> {
  if (format === 'jsonl') {
    await scanJsonLines(text, key, options, validator, firstLine);
    return { sawQuotedLineBreak: false };
  }
  let width = -1;
  let sawHeader = false;
  // A headerless file's columns are named by the mapping: every line is a row.
  const named = header ?? options.mapping?.columnNames;
  if (named !== undefined) {
    const plan = planFor(key, named, options);
    validator.setPart(key, plan);
    width = named.length;
    sawHeader = true;
  }
  const limited = options.maxRows !== undefined;
  const scanner = new CsvScanner(
    (fields, line, raw, start, end, malformed) => {
      if (!sawHeader) {
        sawHeader = true;
        if (malformed !== null) throw unreadable(key, `its header line is malformed (${malformed})`);
        const plan = planFor(key, fields.toArray(), options);
        validator.setPart(key, plan);
        width = fields.count;
        return;
      }
      validator.acceptFields(fields, line, raw, start, end, width, malformed);
      if (limited) checkLimit(validator, options);
    },
    firstLine,
    delimiterOf(options.mapping),
  );
  try {
    let first = true;
    for await (const chunk of text) {
      if (first && chunk.length > 0) {
        first = false;
        if (chunk.indexOf('\n') === -1 && chunk.indexOf('\r') !== -1 && chunk.length > 1024) {
          throw unreadable(
            key,
            'its lines end with a bare carriage return (old Mac line endings), which is not CSV',
          );
        }
      }
      scanner.push(chunk);
      const wait = validator.ready();
      if (wait !== null) await wait;
    }
    scanner.end();
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw unreadable(key, error.message, error);
    throw error;
  }
  if (!sawHeader) throw unreadable(key, 'it is empty (no header line)');
  return { sawQuotedLineBreak: scanner.sawQuotedLineBreak };
}

/** The mapping's field delimiter as one character (`,` by default). */
function delimiterOf(mapping: ColumnMapping | undefined): string {
  return mapping?.delimiter ?? ',';
}

/** A JSON value as a cell: scalars as their text, objects and arrays as NOT_A_VALUE. */
function jsonCell(v: unknown): string | typeof NOT_A_VALUE {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return NOT_A_VALUE;
}

/**
 * Why a row cannot be read although it was split into cells: a cell the plan reads holds a
 * structure (a JSON object or array, a Parquet struct or list) or a NUL character. Null when fine.
 */
function cellProblem(
  cells: readonly (string | typeof NOT_A_VALUE)[],
  header: readonly string[],
  read: ReadonlySet<number>,
  out: string[],
): string | null {
  let problem: string | null = null;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (c === NOT_A_VALUE) {
      out[i] = '';
      if (read.has(i))
        problem ??= `column ${JSON.stringify(header[i])} holds a structure (an object or a list), not a value`;
    } else {
      out[i] = c;
      if (c.indexOf('\0') !== -1) problem ??= NUL_IN_ROW;
    }
  }
  return problem;
}

async function scanJsonLines(
  text: AsyncIterable<string>,
  key: string,
  options: ScanOptions,
  validator: RowValidator,
  firstLine: number,
): Promise<void> {
  let keys: string[] | null = null;
  let read: ReadonlySet<number> = new Set();
  const cells: (string | typeof NOT_A_VALUE)[] = [];
  let fields: string[] = [];
  const row = new FieldRow();
  let line = firstLine;
  const handle = (raw: string, at: number): void => {
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (body.trim().length === 0) return;
    let obj: unknown;
    try {
      obj = JSON.parse(body);
    } catch {
      if (keys === null) throw unreadable(key, `its first line (line ${at}) is not JSON`);
      validator.rejectRow(at, body, body.indexOf('\0') !== -1 ? NUL_IN_ROW : 'line is not valid JSON');
      checkLimit(validator, options);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      if (keys === null) throw unreadable(key, `its first line (line ${at}) is not a JSON object`);
      validator.rejectRow(at, body, 'line is not a JSON object');
      checkLimit(validator, options);
      return;
    }
    const record = obj as Record<string, unknown>;
    if (keys === null) {
      keys = Object.keys(record);
      fields = new Array<string>(keys.length);
      const plan = planFor(key, keys, options);
      read = plan.readIndexes;
      validator.setPart(key, plan);
    }
    for (let i = 0; i < keys.length; i++) cells[i] = jsonCell(record[keys[i]!]);
    cells.length = keys.length;
    const problem = cellProblem(cells, keys, read, fields);
    if (problem !== null) validator.rejectRow(at, body, problem);
    else validator.acceptFields(row.setCells(fields), at, body, 0, body.length, -1, null);
    checkLimit(validator, options);
  };
  // A line is cut out of the chunks it spans once its break is found: each chunk is searched
  // once, so time is linear in the bytes, and a line longer than MAX_RECORD_CHARS stops the read.
  let pending: string[] = [];
  let pendingLength = 0;
  for await (const chunk of text) {
    let pos = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', pos)) {
      const piece = chunk.slice(pos, nl);
      const whole = pendingLength === 0 ? piece : pending.join('') + piece;
      pending = [];
      pendingLength = 0;
      if (whole.length > MAX_RECORD_CHARS) throw overLongLine(key, line);
      handle(whole, line);
      line++;
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      pending.push(pos === 0 ? chunk : chunk.slice(pos));
      pendingLength += chunk.length - pos;
      if (pendingLength > MAX_RECORD_CHARS) throw overLongLine(key, line);
    }
    const wait = validator.ready();
    if (wait !== null) await wait;
  }
  if (pendingLength > 0) handle(pending.join(''), line);
  if (keys === null) throw unreadable(key, 'it is empty (no JSON lines)');
}

function overLongLine(key: string, line: number): TapeUnreadableError {
  return unreadable(
    key,
    `line ${line} is longer than ${MAX_RECORD_CHARS / (1024 * 1024)} Mi characters with no line break`,
  );
}

async function scanParquet(
  part: TapePartInput,
  options: ScanOptions,
  validator: RowValidator,
): Promise<void> {
  let header: string[] = [];
  let texts: ((v: unknown) => string | typeof NOT_A_VALUE)[] = [];
  let read: ReadonlySet<number> = new Set();
  const cells: (string | typeof NOT_A_VALUE)[] = [];
  let fields: string[] = [];
  const row = new FieldRow();
  try {
    await readParquetPart(part, {
      timeZone: options.mapping?.timeZone ?? DEFAULT_TAPE_TIME_ZONE,
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      onHeader(columns) {
        header = columns.map((c) => c.name);
        texts = columns.map((c) => c.text);
        fields = new Array<string>(header.length);
        cells.length = header.length;
        const plan = planFor(part.key, header, options);
        read = plan.readIndexes;
        validator.setPart(part.key, plan);
      },
      onRow(values, n) {
        for (let i = 0; i < texts.length; i++) cells[i] = texts[i]!(values[i]);
        const problem = cellProblem(cells, header, read, fields);
        // Parquet has no lines: the row number (1-based) stands in, and the raw text is its JSON.
        const raw = (): string => parquetRowJson(header, cells);
        if (problem !== null) validator.rejectRow(n, raw(), problem);
        else validator.acceptRow(row.setCells(fields), n, raw);
        return undefined;
      },
      between: () => validator.ready(),
    });
  } catch (error) {
    if (error instanceof ParquetDataError) throw unreadable(part.key, error.message, error);
    throw error;
  }
}

/** A Parquet row as the raw text of a quarantined row: its cells as one JSON object. */
function parquetRowJson(header: readonly string[], cells: readonly (string | typeof NOT_A_VALUE)[]): string {
  const o: Record<string, string | null> = {};
  header.forEach((h, i) => {
    const c = cells[i];
    o[h] = c === NOT_A_VALUE ? '(structure)' : (c ?? null);
  });
  return JSON.stringify(o);
}

/** Bytes [from, to) of a stream, with every newline counted: the prefix before a range. */
async function countLines(source: AsyncIterable<Uint8Array>): Promise<{ lines: number; lastByte: number }> {
  let lines = 0;
  let lastByte = -1;
  for await (const chunk of source) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (chunk.byteLength > 0) lastByte = chunk[chunk.byteLength - 1]!;
  }
  return { lines, lastByte };
}

/** Cuts a byte stream to whole rows: drops through the first newline (unless at a row start), stops after the row holding byte `stopAfter`. */
async function* alignToRows(
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

async function readHeader(part: TapePartInput, options: ScanOptions): Promise<string[]> {
  let header: string[] | null = null;
  const scanner = new CsvScanner((fields) => {
    header ??= fields.toArray();
    scanner.stop();
  });
  const text = decodeText(
    await part.open({ start: 0, end: Math.min(part.bytes ?? 1 << 20, 1 << 20) }),
    part.key,
    options.mapping?.encoding,
  );
  for await (const chunk of text) {
    scanner.push(chunk);
    if (header !== null) break;
  }
  scanner.end();
  if (header === null) throw unreadable(part.key, 'it is empty (no header line)');
  return header;
}

async function scanRange(
  part: TapePartInput,
  range: ByteRange,
  format: TapeFormat,
  options: ScanOptions,
  validator: RowValidator,
  tally: ByteTally,
): Promise<void> {
  const size = part.bytes;
  if (size === undefined) throw unreadable(part.key, 'its size is unknown, which byte-range reading needs');
  if (range.start < 0 || range.end <= range.start)
    throw unreadable(part.key, `the byte range ${range.start}-${range.end} is empty`);
  const probe = await peekFirst(await part.open({ start: 0, end: Math.min(size, 4) }));
  if (isGzip(probe.first) || isParquet(probe.first)) {
    throw unreadable(part.key, 'byte ranges apply to uncompressed CSV and JSON Lines only');
  }
  const header = format === 'csv' ? await readHeader(part, options) : undefined;
  // A range's bytes are counted but not hashed: a split part's digest is the whole file's,
  // computed once by whoever merges the ranges (see combineRangeParts).
  if (format === 'csv' && range.start === 0) {
    // The range holds the header itself: read normally up to the range's end.
    const aligned = alignToRows(await part.open({ start: 0, end: size }), false, range.end - 1);
    const { sawQuotedLineBreak } = await scanText(
      decodeText(coalesce(tallyBytes(aligned, tally, false)), part.key, options.mapping?.encoding),
      'csv',
      part.key,
      options,
      validator,
      1,
    );
    if (sawQuotedLineBreak) throw quotedBreaks(part.key);
    return;
  }
  // Does the range start a row? Only the byte before it tells.
  const before = await countLines(await part.open({ start: range.start - 1, end: range.start }));
  const atRowStart = range.start === 0 || before.lastByte === 10;
  const aligned = alignToRows(
    await part.open({ start: range.start, end: size }),
    !atRowStart,
    range.end - 1 - range.start,
  );
  // Rows are numbered from the range's first row while reading. Physical line numbers need the
  // newlines before the range, and counting them means reading everything before it: done only
  // when a row was quarantined, so a clean shard reads its own bytes and no more.
  validator.holdQuarantine(async () => {
    const prefix = await countLines(await part.open({ start: 0, end: range.start }));
    return prefix.lines + (atRowStart ? 0 : 1);
  });
  const { sawQuotedLineBreak } = await scanText(
    decodeText(coalesce(tallyBytes(aligned, tally, false)), part.key, options.mapping?.encoding),
    format === 'jsonl' ? 'jsonl' : 'csv',
    part.key,
    options,
    validator,
    1,
    header,
  );
  if (sawQuotedLineBreak) throw quotedBreaks(part.key);
  await validator.ready();
  validator.releaseQuarantine();
}

function quotedBreaks(key: string): TapeUnreadableError {
  return unreadable(
    key,
    'it has line breaks inside quoted fields, so it cannot be read in byte ranges (read it whole)',
  );
}
