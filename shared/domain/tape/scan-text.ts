import type { TapeUnreadableError } from '../../errors.ts';
import { CsvScanner, CsvSyntaxError, MAX_RECORD_CHARS, NUL_IN_ROW } from './csv-scanner.ts';
import { FieldRow } from './field-row.ts';
import type { ColumnMapping } from './mapping.ts';
import type { RowValidator } from './row-validator.ts';
import { checkLimit, type ScanOptions } from './scan-options.ts';
import { cellProblem, planFor, unreadable } from './scan-part.ts';

/**
 * Reads a part's decoded text as CSV or JSON Lines into the validator: the header plans the
 * part, every later line is a row numbered from `firstLine`. `header` (a byte range's part, whose
 * header line lies before the range) plans it instead. Says whether a quoted field held a line
 * break, which byte ranges cannot read.
 */
export async function scanText(
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
      if (limited) checkLimit(validator.rowsRead, options);
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

/** Reads a CSV header line from the start of a part's text (a byte range's part is planned by it). */
export async function readCsvHeader(
  text: AsyncIterable<string>,
  key: string,
  mapping: ColumnMapping | undefined,
): Promise<string[]> {
  let header: string[] | null = null;
  const scanner = new CsvScanner(
    (fields) => {
      header ??= fields.toArray();
      scanner.stop();
    },
    1,
    delimiterOf(mapping),
  );
  for await (const chunk of text) {
    scanner.push(chunk);
    if (header !== null) break;
  }
  scanner.end();
  if (header === null) throw unreadable(key, 'it is empty (no header line)');
  return header;
}

/** Lets the first chunk of a text be inspected (JSON or CSV?) and then replayed. */
export async function peekText(
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

/** The mapping's field delimiter as one character (`,` by default). */
function delimiterOf(mapping: ColumnMapping | undefined): string {
  return mapping?.delimiter ?? ',';
}

/** A JSON value as a cell: scalars as their text, objects and arrays as null (not a value). */
function jsonCell(v: unknown): string | null {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
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
  const cells: (string | null)[] = [];
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
      checkLimit(validator.rowsRead, options);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      if (keys === null) throw unreadable(key, `its first line (line ${at}) is not a JSON object`);
      validator.rejectRow(at, body, 'line is not a JSON object');
      checkLimit(validator.rowsRead, options);
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
    checkLimit(validator.rowsRead, options);
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
