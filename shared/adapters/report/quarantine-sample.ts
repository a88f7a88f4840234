import { z } from 'zod';
import { TAPE_COLUMNS } from '../../domain/loan.ts';
import { WHOLE_ROW } from '../../domain/report/data-quality-section.ts';
import { type IdFields, idFieldsOf, isJsonRow, maskCsvRow, maskJsonRow } from '../../domain/report/mask.ts';
import type { ColumnQuarantine, QuarantineRow, QuarantineSample } from '../../domain/report/types.ts';
import { isGzip, peekFirst } from '../../domain/tape/byte-chunks.ts';
import { CsvScanner } from '../../domain/tape/csv-scanner.ts';
import type { ColumnMapping } from '../../domain/tape/mapping.ts';
import type { ArtifactStore } from '../../ports/artifact-store.ts';
import type { QuarantineSampleSources, QuarantineSamples } from '../../ports/report-renderer.ts';
import type { TapeSource } from '../../ports/tape-source.ts';
import { KEYS } from '../../schema/tables.ts';
import { coalesce, decodeText, gunzipBytes } from '../tape/byte-streams.ts';

/** Quarantined rows the full report shows; the complete list stays in quarantine.csv. */
export const REPORT_QUARANTINE_ROWS = 1_000;

const COLUMNS = new Set<string>(TAPE_COLUMNS);
// safeCsvCell's apostrophe before a formula trigger (= + - @ tab CR), taken off again to show the row as read.
const NEUTRALISED = /^'[=+\-@\t\r]/;

/** What reading the quarantine file needs. */
export interface QuarantineSampleDeps {
  artifacts: Pick<ArtifactStore, 'stream'>;
  /** Where the parts named in the file are read (their header locates the ids); null: CSV raw text is withheld. */
  tapes: Pick<TapeSource, 'open'> | null;
  mapping: ColumnMapping | undefined;
  /** The key of the borrower references (BORROWER_REF_KEY). */
  borrowerRefKey: string;
}

/**
 * Reads the header of a CSV part (gzip or not, in the mapping's encoding): its first record. Only
 * the first chunks are read; the stream is left as soon as the header is in.
 */
export async function readPartHeader(
  tapes: Pick<TapeSource, 'open'>,
  key: string,
  encoding: string | undefined,
): Promise<string[] | null> {
  const { first, stream } = await peekFirst(await tapes.open(key));
  if (first === null) return null;
  const bytes = isGzip(first) ? gunzipBytes(stream, key) : stream;
  let header: string[] | null = null;
  const scanner = new CsvScanner((fields) => {
    header ??= fields.toArray();
    scanner.stop();
  });
  for await (const chunk of decodeText(coalesce(bytes), key, encoding)) {
    scanner.push(chunk);
    if (header !== null) break;
  }
  scanner.end();
  return header;
}

function countColumns(
  byColumn: Map<string, { rows: number; codes: Map<string, number> }>,
  codes: string[],
  detail: string,
): void {
  const named = new Set<string>();
  for (const part of detail.split('; ')) {
    const column = part.slice(0, Math.max(0, part.indexOf(':'))).trim();
    named.add(COLUMNS.has(column) ? column : WHOLE_ROW);
  }
  for (const column of named) {
    let entry = byColumn.get(column);
    if (entry === undefined) {
      entry = { rows: 0, codes: new Map() };
      byColumn.set(column, entry);
    }
    entry.rows++;
    for (const code of codes) entry.codes.set(code, (entry.codes.get(code) ?? 0) + 1);
  }
}

/**
 * The full report's quarantined rows: the first `limit` rows of the date's quarantine.csv with
 * their loan and borrower ids masked (CSV rows by their part's header, JSON rows by their own
 * keys, both through the column mapping; a row whose ids cannot be located has its raw text
 * withheld), and per column the rows naming it, counted over the whole file in one stream.
 */
export async function readQuarantineSample(
  key: string,
  deps: QuarantineSampleDeps,
  options: { limit?: number; fileName?: string; location?: string | null } = {},
): Promise<QuarantineSample | undefined> {
  const limit = options.limit ?? REPORT_QUARANTINE_ROWS;
  const stream = await deps.artifacts.stream(key);
  if (stream === null) return undefined;
  const kept: { line: number; part: string; codes: string[]; detail: string; raw: string }[] = [];
  const byColumn = new Map<string, { rows: number; codes: Map<string, number> }>();
  let total = 0;
  let header = true;
  const scanner = new CsvScanner((fields) => {
    if (header) {
      header = false;
      return;
    }
    const cells = fields.toArray().map((c) => (NEUTRALISED.test(c) ? c.slice(1) : c));
    const [line = '', part = '', codes = '', detail = '', raw = ''] = cells;
    const codeList = codes.split('|').filter((c) => c.length > 0);
    total++;
    countColumns(byColumn, codeList, detail);
    if (kept.length < limit) kept.push({ line: Number(line), part, codes: codeList, detail, raw });
  });
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream) scanner.push(decoder.decode(chunk, { stream: true }));
  scanner.push(decoder.decode());
  scanner.end();

  const headers = new Map<string, IdFields | null>();
  const idsOfPart = async (part: string): Promise<IdFields | null> => {
    if (headers.has(part)) return headers.get(part) ?? null;
    let ids: IdFields | null = null;
    if (deps.tapes !== null) {
      try {
        const h = await readPartHeader(deps.tapes, part, deps.mapping?.encoding);
        ids = h === null ? null : idFieldsOf(h, deps.mapping);
      } catch {
        ids = null;
      }
    }
    headers.set(part, ids);
    return ids;
  };
  const rows: QuarantineRow[] = [];
  for (const r of kept) {
    let raw: string | null;
    if (isJsonRow(r.raw)) raw = maskJsonRow(r.raw, deps.mapping, deps.borrowerRefKey);
    else {
      const ids = await idsOfPart(r.part);
      raw = ids === null ? null : maskCsvRow(r.raw, ids, deps.borrowerRefKey);
    }
    rows.push({
      line: r.line,
      part: r.part.slice(r.part.lastIndexOf('/') + 1),
      codes: r.codes,
      detail: r.detail,
      raw,
    });
  }
  const columns: Record<string, ColumnQuarantine> = {};
  for (const [column, entry] of byColumn) {
    columns[column] = { rows: entry.rows, codes: Object.fromEntries(entry.codes) };
  }
  return {
    rows,
    total,
    limit,
    byColumn: columns,
    fileName: options.fileName ?? 'quarantine.csv',
    location: options.location ?? null,
  };
}

/** The sample as stored beside the run (runs/DATE/quarantine-sample.json), checked when read back. */
export const QuarantineSampleSchema = z.object({
  rows: z.array(
    z.object({
      line: z.number(),
      part: z.string(),
      codes: z.array(z.string()),
      detail: z.string(),
      raw: z.string().nullable(),
    }),
  ),
  total: z.number().int().nonnegative(),
  limit: z.number().int().positive(),
  byColumn: z.record(
    z.string(),
    z.object({ rows: z.number().int().nonnegative(), codes: z.record(z.string(), z.number()) }),
  ),
  fileName: z.string(),
  location: z.string().nullable(),
});

/**
 * Writes the full report's sample of the date's quarantined rows beside the run. It is made by
 * the step that writes quarantine.csv, which reads the tape and knows the column mapping: the
 * report step, which may read neither, only reads the masked sample.
 */
export async function writeQuarantineSample(
  snapshotDate: string,
  deps: QuarantineSampleSources,
): Promise<void> {
  const sample = await readQuarantineSample(
    KEYS.quarantine(snapshotDate),
    {
      artifacts: deps.artifacts,
      tapes: deps.tapes,
      mapping: await deps.mapping(),
      borrowerRefKey: await deps.secrets.current('borrowerRefKey'),
    },
    { location: `${KEYS.quarantine(snapshotDate)} in the audit bucket` },
  );
  if (sample === undefined) return;
  await deps.artifacts.put(KEYS.quarantineSample(snapshotDate), JSON.stringify(sample), 'application/json');
}

/** The sample written by writeQuarantineSample, or undefined when there is none. */
export async function readStoredQuarantineSample(
  artifacts: Pick<ArtifactStore, 'get'>,
  snapshotDate: string,
): Promise<QuarantineSample | undefined> {
  const bytes = await artifacts.get(KEYS.quarantineSample(snapshotDate));
  if (bytes === null) return undefined;
  const parsed = QuarantineSampleSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  if (!parsed.success) {
    throw new Error(
      `${KEYS.quarantineSample(snapshotDate)} is not a quarantine sample: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** The quarantine sample kept as JSON in the artifact store. */
export const jsonQuarantineSamples: QuarantineSamples = {
  write: writeQuarantineSample,
  readStored: readStoredQuarantineSample,
};
