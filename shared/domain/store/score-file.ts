import { ScoreFileError } from '../../errors.ts';
import type { Gzip, GzipCompressor } from '../../ports/gzip.ts';
import {
  CLASSIFICATIONS,
  CREDIT_SCORE_BANDS,
  type CreditScoreBand,
  DPD_BUCKETS,
  IFRS9_STAGES,
} from '../audit-result.ts';
import { GRADES, type LoanAssessment } from '../engine/scorecard.ts';
import { LOAN_PURPOSES, type LoanPurpose, PRODUCTS } from '../loan.ts';

/**
 * The score file: every valid loan's scored state, sorted by loan id, in a compact binary
 * format (docs/score-file.md). Shards write one per loan-id bucket; each bucket merges its
 * shards' files (k-way, streaming) into the date's file of the bucket, which the next date's
 * bucket reads back to find what changed.
 *
 * Layout, inside one gzip stream: a 12-byte header (`RASCORES`, the format version as uint16
 * little-endian, 0 as uint16), then records, each a kind byte and a uint32 little-endian length:
 * kind 1 defines the file's next symbol (UTF-8 text; symbols are numbered from 1, 0 is null),
 * kind 2 is a loan, whose fields are in SCORE_FIELDS order: text fields as a uint32 byte length
 * and UTF-8, numbers as float64, the closed sets (product, loan purpose, grade, dpd bucket,
 * classification, stage, credit score band) and the co-lent flag as one byte (the index in their
 * list; 0 or 1), the rest as a varint symbol number (a list's symbol is its JSON text). A symbol is defined before the first loan that uses it.
 * The compression is the caller's `Gzip` (ports/gzip.ts); the format itself is pure.
 */
export const SCORE_FILE_VERSION = 2;

const MAGIC = Buffer.from('RASCORES', 'latin1');
const HEADER_BYTES = 12;
const KIND_SYMBOL = 1;
const KIND_LOAN = 2;
const CHUNK_BYTES = 1 << 20;

/**
 * One loan's scored state as the score file keeps it: enough for the next day's diff, the
 * watchlist and a loan's history. `borrowerKey` is the engine's 64-bit hash of the borrower id
 * (never the raw id), used to attach borrower-level rule hits at finalize.
 */
export interface ScoredLoan {
  loanId: string;
  borrowerKey: string;
  product: string;
  region: string | null;
  industry: string | null;
  /** The purpose the rules use: the tape's loan_purpose, or the one its product and borrower type imply. */
  loanPurpose: LoanPurpose;
  partnerId: string | null;
  /** Made with a partner that funds part of it (partner_id given and own_funding_share < 1). */
  coLent: boolean;
  relatedPartyGroup: string | null;
  reportedClassification: string | null;
  outstanding: number;
  score: number;
  grade: LoanAssessment['grade'];
  pd: number;
  el: number;
  dpdBucket: LoanAssessment['dpdBucket'];
  classification: LoanAssessment['classification'];
  stage: LoanAssessment['stage'];
  /** The band of the tape's credit score (CREDIT_SCORE_BANDS; 'missing' when it gave none). */
  creditBand: CreditScoreBand;
  ruleCodes: string[];
  flags: string[];
  reasons: string[];
}

/** The loan fields in file order, with how each is stored (a test checks they cover ScoredLoan). */
export const SCORE_FIELDS = [
  ['loanId', 'text'],
  ['borrowerKey', 'text'],
  ['product', 'closed'],
  ['region', 'symbol'],
  ['industry', 'symbol'],
  ['loanPurpose', 'closed'],
  ['partnerId', 'symbol'],
  ['coLent', 'flag'],
  ['relatedPartyGroup', 'symbol'],
  ['reportedClassification', 'symbol'],
  ['outstanding', 'number'],
  ['score', 'number'],
  ['grade', 'closed'],
  ['pd', 'number'],
  ['el', 'number'],
  ['dpdBucket', 'closed'],
  ['classification', 'closed'],
  ['stage', 'closed'],
  ['creditBand', 'closed'],
  ['ruleCodes', 'list'],
  ['flags', 'list'],
  ['reasons', 'list'],
] as const satisfies readonly (readonly [
  keyof ScoredLoan,
  'text' | 'closed' | 'flag' | 'symbol' | 'number' | 'list',
])[];

/**
 * The closed sets, stored as one byte: the value's index in its list (the lists are part of the
 * format: changing one changes SCORE_FILE_VERSION).
 */
const CLOSED = {
  product: PRODUCTS,
  loanPurpose: LOAN_PURPOSES,
  grade: GRADES,
  dpdBucket: DPD_BUCKETS,
  classification: CLASSIFICATIONS,
  stage: IFRS9_STAGES,
  creditBand: CREDIT_SCORE_BANDS,
} as const;

function closedIndex(list: readonly string[], value: string, field: string): number {
  const i = list.indexOf(value);
  if (i < 0)
    throw new Error(`a scored loan's ${field} ${JSON.stringify(value)} is not one the score file knows`);
  return i;
}

function header(): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt16LE(SCORE_FILE_VERSION, 8);
  return h;
}

/** Byte chunks written in place: room is made before each record, full chunks handed on. */
class ChunkWriter {
  public chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  public used = 0;
  public constructor(private readonly full: (bytes: Buffer) => void) {}

  /** Makes room for `n` more bytes in the current chunk. */
  public room(n: number): void {
    if (this.used + n <= this.chunk.byteLength) return;
    if (this.used > 0) this.full(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
    this.used = 0;
  }

  public varint(v: number): void {
    let x = v;
    while (x >= 0x80) {
      this.chunk[this.used++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.chunk[this.used++] = x;
  }

  public text(s: string): void {
    const at = this.used;
    this.used += 4;
    const n = (this.chunk as Utf8Buffer).utf8Write(s, this.used);
    this.chunk.writeUInt32LE(n, at);
    this.used += n;
  }

  public number(v: number): void {
    this.chunk.writeDoubleLE(v, this.used);
    this.used += 8;
  }

  /** The rest of the current chunk, handed on. */
  public flush(): void {
    if (this.used > 0) this.full(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }
}

/** A file's symbol table while writing: text to number, and the texts in number order. */
class Symbols {
  private readonly ids = new Map<string, number>();
  public readonly texts: string[] = [];
  /** Symbols added since the caller last took them (to define before the loan that uses them). */
  public fresh: string[] = [];

  public of(text: string | null): number {
    if (text === null) return 0;
    let id = this.ids.get(text);
    if (id === undefined) {
      this.texts.push(text);
      id = this.texts.length;
      this.ids.set(text, id);
      this.fresh.push(text);
    }
    return id;
  }

  /** A list's symbol; a list read from a score file (frozen, shared by its loans) is looked up by identity. */
  public list(items: readonly string[]): number {
    let id = this.listIds.get(items);
    if (id === undefined) {
      id = this.of(listText(items));
      if (Object.isFrozen(items)) this.listIds.set(items, id);
    }
    return id;
  }
  private readonly listIds = new Map<readonly string[], number>();
}

// A list's symbol is its JSON text; the few distinct lists of a book are made once each.
const listTexts = new WeakMap<readonly string[], string>();
function listText(items: readonly string[]): string {
  let text = listTexts.get(items);
  if (text === undefined) {
    text = JSON.stringify(items);
    if (Object.isFrozen(items)) listTexts.set(items, text);
  }
  return text;
}

const WORST_VARINT = 5;

/**
 * Buffer's own UTF-8 slice and write (what `toString('utf8', a, b)` and `write(s, at, 'utf8')`
 * end in, without their argument checks: a sixth of the merge's time went to those wrappers).
 */
type Utf8Buffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number): number;
};

/** Upper bound of a loan record's bytes. */
function worstLoanBytes(s: ScoredLoan): number {
  return 5 + 8 + (s.loanId.length + s.borrowerKey.length) * 3 + 4 * 8 + 8 + 8 * WORST_VARINT;
}

/** Writes one loan record, its symbols numbered by `numberSymbols`, at the writer's position. */
function writeLoan(w: ChunkWriter, s: ScoredLoan, ids: Uint32Array): void {
  w.room(worstLoanBytes(s));
  const start = w.used;
  w.chunk[w.used] = KIND_LOAN;
  w.used += 5;
  w.text(s.loanId);
  w.text(s.borrowerKey);
  w.chunk[w.used++] = ids[0]!;
  w.varint(ids[1]!);
  w.varint(ids[2]!);
  w.chunk[w.used++] = ids[10]!;
  w.varint(ids[11]!);
  w.chunk[w.used++] = s.coLent ? 1 : 0;
  w.varint(ids[12]!);
  w.varint(ids[13]!);
  w.number(s.outstanding);
  w.number(s.score);
  w.chunk[w.used++] = ids[3]!;
  w.number(s.pd);
  w.number(s.el);
  w.chunk[w.used++] = ids[4]!;
  w.chunk[w.used++] = ids[5]!;
  w.chunk[w.used++] = ids[6]!;
  w.chunk[w.used++] = ids[14]!;
  w.varint(ids[7]!);
  w.varint(ids[8]!);
  w.varint(ids[9]!);
  w.chunk.writeUInt32LE(w.used - start - 5, start + 1);
}

function writeSymbol(w: ChunkWriter, text: string): void {
  w.room(5 + text.length * 3);
  w.chunk[w.used++] = KIND_SYMBOL;
  const at = w.used;
  w.used += 4;
  const n = w.chunk.write(text, w.used, 'utf8');
  w.chunk.writeUInt32LE(n, at);
  w.used += n;
}

/**
 * Writes a score file as loans arrive in loan-id order, gzipped as it goes (only the compressed
 * bytes are held). Level 1: about 3x less compression work than zlib's default for a file a
 * little larger; the files are read once or twice.
 */
export class ScoreFileWriter {
  private readonly gzip: GzipCompressor;
  private readonly symbols = new Symbols();
  private readonly writer: ChunkWriter;
  private readonly ids = new Uint32Array(15);
  private behind: Promise<void> | null = null;

  public constructor(gzip: Gzip, level = 1) {
    this.gzip = gzip.compressor(level);
    this.writer = new ChunkWriter((bytes) => {
      this.behind = this.gzip.write(bytes) ?? this.behind;
    });
    this.writer.room(HEADER_BYTES);
    header().copy(this.writer.chunk, 0);
    this.writer.used = HEADER_BYTES;
  }

  /** Adds a loan (ids ascending); returns a promise to await when the compressor is behind (else null). */
  public add(s: ScoredLoan): Promise<void> | null {
    const sym = this.symbols;
    // Numbering the loan's symbols first tells which to define before it.
    numberSymbols(s, sym, this.ids);
    if (sym.fresh.length > 0) {
      for (const text of sym.fresh) writeSymbol(this.writer, text);
      sym.fresh = [];
    }
    writeLoan(this.writer, s, this.ids);
    const behind = this.behind;
    this.behind = null;
    return behind;
  }

  /** The whole gzip file. */
  public async finish(): Promise<Uint8Array> {
    this.writer.flush();
    if (this.behind !== null) await this.behind;
    return this.gzip.end();
  }
}

/** Numbers a loan's symbols (in record order) into `ids`, adding the new ones to the table. */
function numberSymbols(s: ScoredLoan, sym: Symbols, ids: Uint32Array): void {
  ids[0] = closedIndex(CLOSED.product, s.product, 'product');
  ids[1] = sym.of(s.region);
  ids[2] = sym.of(s.industry);
  ids[3] = closedIndex(CLOSED.grade, s.grade, 'grade');
  ids[4] = closedIndex(CLOSED.dpdBucket, s.dpdBucket, 'dpd bucket');
  ids[5] = closedIndex(CLOSED.classification, s.classification, 'classification');
  ids[6] = closedIndex(CLOSED.stage, s.stage, 'stage');
  ids[7] = sym.list(s.ruleCodes);
  ids[8] = sym.list(s.flags);
  ids[9] = sym.list(s.reasons);
  ids[10] = closedIndex(CLOSED.loanPurpose, s.loanPurpose, 'loan purpose');
  ids[11] = sym.of(s.partnerId);
  ids[12] = sym.of(s.relatedPartyGroup);
  ids[13] = sym.of(s.reportedClassification);
  ids[14] = closedIndex(CLOSED.creditBand, s.creditBand, 'credit score band');
}

const SORTED_CHUNK = 4 << 20;

/**
 * A shard's loans of one loan-id bucket as they are scored, kept as encoded records in large
 * byte chunks (no object per loan to hold), sorted by loan id at the end only if the ids did not
 * arrive in order; `bytes()` gives the score file before gzip, its symbols defined up front.
 */
export class SortedScores {
  private readonly chunks: Buffer[] = [];
  private readonly writer = new ChunkWriter((bytes) => this.chunks.push(bytes));
  private readonly symbols = new Symbols();
  private readonly ids = new Uint32Array(15);
  /** Per loan: chunk index and start offset of its record. */
  private at = new Float64Array(1024);
  private readonly keys: string[] = [];
  private inOrder = true;

  public constructor() {
    this.writer.chunk = Buffer.allocUnsafe(SORTED_CHUNK);
  }

  /** Number of loans. */
  public get size(): number {
    return this.keys.length;
  }

  /** Adds one scored loan (loan ids unique among them). */
  public add(s: ScoredLoan): void {
    const n = this.keys.length;
    if (n > 0 && s.loanId < this.keys[n - 1]!) this.inOrder = false;
    numberSymbols(s, this.symbols, this.ids);
    this.symbols.fresh = [];
    this.writer.room(worstLoanBytes(s));
    if (n * 2 === this.at.length) {
      const grown = new Float64Array(this.at.length * 2);
      grown.set(this.at);
      this.at = grown;
    }
    this.at[n * 2] = this.chunks.length;
    this.at[n * 2 + 1] = this.writer.used;
    writeLoan(this.writer, s, this.ids);
    this.keys.push(s.loanId);
  }

  /** The file's bytes before gzip: header, symbols, then the loans by loan id. */
  public *bytes(): Generator<Uint8Array> {
    const head = new ChunkWriter(() => {});
    head.room(HEADER_BYTES);
    header().copy(head.chunk, 0);
    head.used = HEADER_BYTES;
    const defined: Buffer[] = [];
    const defs = new ChunkWriter((b) => defined.push(b));
    for (const text of this.symbols.texts) writeSymbol(defs, text);
    yield head.chunk.subarray(0, head.used);
    yield* defined;
    yield defs.chunk.subarray(0, defs.used);
    const chunks = [...this.chunks, this.writer.chunk.subarray(0, this.writer.used)];
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
      const chunk = chunks[this.at[i * 2]!]!;
      const start = this.at[i * 2 + 1]!;
      const end = start + 5 + chunk.readUInt32LE(start + 1);
      if (used + end - start > out.byteLength) {
        yield out.subarray(0, used);
        out = Buffer.allocUnsafe(Math.max(SORTED_CHUNK, end - start));
        used = 0;
      }
      chunk.copy(out, used, start, end);
      used += end - start;
    }
    yield out.subarray(0, used);
  }
}

/** Encodes loans (in loan-id order) as a whole score file (tests, small files). */
export async function encodeScores(loans: Iterable<ScoredLoan>, gzip: Gzip): Promise<Uint8Array> {
  const writer = new ScoreFileWriter(gzip);
  for (const s of loans) {
    const behind = writer.add(s);
    if (behind !== null) await behind;
  }
  return writer.finish();
}

/** A file's symbols while reading, and the lists decoded from them (made once each, frozen). */
class ReadSymbols {
  public readonly texts: (string | null)[] = [null];
  private readonly lists: (readonly string[] | undefined)[] = [];

  public list(id: number, name: string): readonly string[] {
    let list = this.lists[id];
    if (list === undefined) {
      const text = this.texts[id];
      if (text === undefined || text === null)
        throw corrupt(name, `names symbol ${id}, which it does not define`);
      list = Object.freeze(JSON.parse(text) as string[]);
      this.lists[id] = list;
    }
    return list;
  }
}

function corrupt(name: string, what: string): ScoreFileError {
  return new ScoreFileError(`${name} is damaged: it ${what}`);
}

/**
 * Decodes the complete records of `buf` from `from` into `batch`; returns where the first
 * incomplete record starts.
 */
function decodeRecords(
  buf: Buffer,
  from: number,
  sym: ReadSymbols,
  batch: ScoredLoan[],
  name: string,
): number {
  let p = from;
  const end = buf.byteLength;
  const texts = sym.texts;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = buf as Utf8Buffer;
  while (p + 5 <= end) {
    const kind = buf[p]!;
    const len = dv.getUint32(p + 1, true);
    if (p + 5 + len > end) break;
    let q = p + 5;
    if (kind === KIND_LOAN) {
      const idLen = dv.getUint32(q, true);
      const loanId = utf8.utf8Slice(q + 4, q + 4 + idLen);
      q += 4 + idLen;
      const keyLen = dv.getUint32(q, true);
      const borrowerKey = utf8.utf8Slice(q + 4, q + 4 + keyLen);
      q += 4 + keyLen;
      const product = buf[q++]!;
      // Varints inline: symbol numbers below 128 (nearly all) take one byte.
      let v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const region = v;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const industry = v;
      const purpose = buf[q++]!;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const partner = v;
      const coLent = buf[q++]!;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const group = v;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const reported = v;
      const outstanding = dv.getFloat64(q, true);
      const score = dv.getFloat64(q + 8, true);
      const grade = buf[q + 16]!;
      const pd = dv.getFloat64(q + 17, true);
      const el = dv.getFloat64(q + 25, true);
      const dpd = buf[q + 33]!;
      const cls = buf[q + 34]!;
      const stage = buf[q + 35]!;
      const band = buf[q + 36]!;
      q += 37;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const rules = v;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const flags = v;
      v = buf[q++]!;
      if (v >= 0x80) [v, q] = varintAt(buf, q - 1);
      const reasons = v;
      if (q !== p + 5 + len) throw corrupt(name, 'holds a loan record of an unexpected length');
      batch.push({
        loanId,
        borrowerKey,
        product: closedValue(CLOSED.product, product, name),
        region: texts[region] ?? null,
        industry: texts[industry] ?? null,
        loanPurpose: closedValue(CLOSED.loanPurpose, purpose, name),
        partnerId: texts[partner] ?? null,
        coLent: coLent === 1,
        relatedPartyGroup: texts[group] ?? null,
        reportedClassification: texts[reported] ?? null,
        outstanding,
        score,
        grade: closedValue(CLOSED.grade, grade, name),
        pd,
        el,
        dpdBucket: closedValue(CLOSED.dpdBucket, dpd, name),
        classification: closedValue(CLOSED.classification, cls, name),
        stage: closedValue(CLOSED.stage, stage, name),
        creditBand: closedValue(CLOSED.creditBand, band, name),
        ruleCodes: sym.list(rules, name) as string[],
        flags: sym.list(flags, name) as string[],
        reasons: sym.list(reasons, name) as string[],
      });
    } else if (kind === KIND_SYMBOL) {
      texts.push(buf.toString('utf8', q, q + len));
    } else {
      throw corrupt(name, `holds a record of unknown kind ${kind}`);
    }
    p += 5 + len;
  }
  return p;
}

function closedValue<T extends string>(list: readonly T[], index: number, name: string): T {
  const value = list[index];
  if (value === undefined) throw corrupt(name, `holds a value (${index}) outside a closed set`);
  return value;
}

function varintAt(buf: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  let q = at;
  for (;;) {
    const b = buf[q++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, q];
    shift += 7;
  }
}

/** Checks a file's header: its version is this release's, or the sentence says which it is. */
function checkHeader(buf: Buffer, name: string): void {
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new ScoreFileError(`${name} is not a score file`);
  const version = buf.readUInt16LE(8);
  if (version !== SCORE_FILE_VERSION)
    throw new ScoreFileError(
      `${name} is written in version ${version} of the score file format, and this release reads version ${SCORE_FILE_VERSION} only`,
    );
}

/**
 * Reads a score file's loans in batches (one per decompressed chunk, about 256 KiB): a consumer
 * of millions of loans awaits once per batch. Refuses, in one sentence naming `name`, a file in
 * another version of the format or not a score file at all.
 */
export async function* readScores(
  stream: AsyncIterable<Uint8Array>,
  gzip: Gzip,
  name = 'the score file',
): AsyncGenerator<ScoredLoan[]> {
  const it = asBuffers(gzip.gunzip(stream))[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  const sym = new ReadSymbols();
  while (pending.byteLength < HEADER_BYTES) {
    const r = await it.next();
    if (r.done) break;
    pending = pending.byteLength === 0 ? r.value : Buffer.concat([pending, r.value]);
  }
  if (pending.byteLength < HEADER_BYTES) throw new ScoreFileError(`${name} is not a score file`);
  checkHeader(pending, name);
  let from = HEADER_BYTES;
  for (;;) {
    const batch: ScoredLoan[] = [];
    const at = decodeRecords(pending, from, sym, batch, name);
    if (batch.length > 0) yield batch;
    const r = await it.next();
    if (r.done) {
      if (at !== pending.byteLength) throw corrupt(name, 'ends inside a record');
      return;
    }
    pending = at === pending.byteLength ? r.value : Buffer.concat([pending.subarray(at), r.value]);
    from = 0;
  }
}

/** A byte array as a Buffer over the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function* asBuffers(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield asBuffer(c);
}

/** Decodes a whole score file at once (tests, small files). */
export function decodeScores(bytes: Uint8Array, gzip: Gzip, name = 'the score file'): ScoredLoan[] {
  const buf = asBuffer(gzip.gunzipSync(bytes));
  if (buf.byteLength < HEADER_BYTES) throw new ScoreFileError(`${name} is not a score file`);
  checkHeader(buf, name);
  const loans: ScoredLoan[] = [];
  const at = decodeRecords(buf, HEADER_BYTES, new ReadSymbols(), loans, name);
  if (at !== buf.byteLength) throw corrupt(name, 'ends inside a record');
  return loans;
}
