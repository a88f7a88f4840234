import { TapeUnreadableError } from '../../errors.ts';
import type {
  ByteRange,
  ByteTally,
  TapeDecoder,
  TapePart,
  TapePartInput,
  TapeSource,
} from '../../ports/tape-source.ts';
import { alignToRows, countLines, isGzip, isParquet, peekFirst } from './byte-chunks.ts';
import type { IntakeStats, RowSink } from './intake.ts';
import { LatestRows } from './latest-rows.ts';
import { mappingReadsWholeParts } from './mapping.ts';
import { RowValidator } from './row-validator.ts';
import {
  formatFromKey,
  ScanLimitReached,
  type ScanOptions,
  SURVEY_ROWS,
  type TapeFormat,
} from './scan-options.ts';
import { scanParquet } from './scan-parquet.ts';
import { unreadable } from './scan-part.ts';
import { peekText, readCsvHeader, scanText } from './scan-text.ts';

/** Intake counts of a scan plus the tape's as-of date and currency (given, or read from its rows). */
export interface TapeScanResult extends IntakeStats {
  snapshotDate: string | null;
  currency: string | null;
}

/** The listed parts of a tape as scan inputs, each opened through `source`. */
export function partInputs(source: TapeSource, parts: readonly TapePart[]): TapePartInput[] {
  return parts.map((p) => ({
    key: p.key,
    bytes: p.bytes,
    open: (range?: ByteRange) => source.open(p.key, range),
  }));
}

/**
 * Streams every part of a tape through the mapping and the row validator into `sink`, hashing
 * each part on the way; `decoder` does the byte work (digest, gzip, character sets, Parquet).
 * Bad rows go to the sink's quarantine; an unreadable part throws TapeUnreadableError naming the
 * part and the problem. The returned counts always satisfy rows read = rows valid + rows
 * quarantined (checked, or IntakeInvariantError is thrown).
 */
export async function scanTapeWith(
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: ScanOptions,
  sink: RowSink,
): Promise<TapeScanResult> {
  if (parts.length === 0) throw new TapeUnreadableError('the tape has no part files');
  const snapshotDate =
    options.snapshotDate ??
    (options.maxRows === undefined ? await surveyTapeDateWith(decoder, parts, options) : undefined);
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
        await scanPart(decoder, part, options, ranking, { sha256: '', bytes: 0 });
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
    earlierIds: options.earlierIds,
  });
  const tallies: { key: string; tally: ByteTally; rows: number }[] = [];
  for (const part of parts) {
    const before = validator.rowsRead;
    const tally: ByteTally = { sha256: '', bytes: 0 };
    try {
      await scanPart(decoder, part, options, validator, tally);
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
export async function surveyTapeDateWith(
  decoder: TapeDecoder,
  parts: readonly TapePartInput[],
  options: Omit<ScanOptions, 'snapshotDate' | 'maxRows'>,
): Promise<string | null> {
  // Repeats do not change a row's date: the survey's id set needs no seed.
  const { earlierIds: _earlierIds, ...surveyOptions } = options;
  // A byte range's part is surveyed from its start: the first rows are the tape's first rows.
  const whole = new Map<string, TapePartInput>();
  for (const p of parts)
    if (!whole.has(p.key))
      whole.set(p.key, { key: p.key, open: p.open, ...(p.bytes === undefined ? {} : { bytes: p.bytes }) });
  const survey = await scanTapeWith(
    decoder,
    [...whole.values()],
    { ...surveyOptions, maxRows: SURVEY_ROWS },
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

/** Reads one part (or its byte range) whichever its format: what the bytes say, or the key, or the option. */
async function scanPart(
  decoder: TapeDecoder,
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
    await scanRange(decoder, part, part.range, format ?? 'csv', options, validator, tally);
    return;
  }
  const { first, stream } = await peekFirst(await part.open());
  if (first === null || first.byteLength === 0) {
    // Drain so the tally is complete, then refuse: an empty part is never a valid tape.
    for await (const _ of decoder.tally(stream, tally, true)) void _;
    throw unreadable(part.key, 'it is empty (0 bytes)');
  }
  if (format === 'parquet' || isParquet(first)) {
    for await (const _ of decoder.tally(stream, tally, true)) void _;
    await scanParquet(part, options, validator, decoder);
    return;
  }
  let bytes: AsyncIterable<Uint8Array> = decoder.tally(stream, tally, true);
  if (isGzip(first)) bytes = decoder.gunzip(bytes, part.key);
  else if (part.key.toLowerCase().endsWith('.gz'))
    throw unreadable(part.key, 'it is named .gz but is not gzip data');
  const text = decoder.decodeText(bytes, part.key, options.mapping?.encoding);
  if (format === null) {
    const { first: head, stream: replay } = await peekText(text);
    format = head.trimStart().startsWith('{') ? 'jsonl' : 'csv';
    await scanText(replay, format, part.key, options, validator, 1);
    return;
  }
  await scanText(text, format, part.key, options, validator, 1);
}

/**
 * Reads the rows that start inside a byte range of an uncompressed CSV or JSON Lines part: the
 * header from byte 0, the range cut to whole rows, line numbers counted only when a row is
 * quarantined.
 */
async function scanRange(
  decoder: TapeDecoder,
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
  const encoding = options.mapping?.encoding;
  // The header line plans every range of a CSV part (a headerless one is planned by its mapping).
  const header =
    format === 'csv' && options.mapping?.columnNames === undefined
      ? await readCsvHeader(
          decoder.decodeText(await part.open({ start: 0, end: Math.min(size, 1 << 20) }), part.key, encoding),
          part.key,
          options.mapping,
        )
      : undefined;
  // A range's bytes are counted but not hashed: a split part's digest is the whole file's,
  // computed once by whoever merges the ranges (see combineRangeParts).
  if (format === 'csv' && range.start === 0) {
    // The range holds the header itself: read normally up to the range's end.
    const aligned = alignToRows(await part.open({ start: 0, end: size }), false, range.end - 1);
    const { sawQuotedLineBreak } = await scanText(
      decoder.decodeText(decoder.tally(aligned, tally, false), part.key, encoding),
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
    decoder.decodeText(decoder.tally(aligned, tally, false), part.key, encoding),
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
