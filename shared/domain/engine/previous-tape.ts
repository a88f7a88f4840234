import { RiskAuditError } from '../../errors.ts';
import { CREDIT_SCORE_BANDS, DPD_BUCKETS } from '../audit-result.ts';
import { type Loan, PRODUCTS } from '../loan.ts';
import { creditBandIndex, dpdBucketIndex, productIndex } from './buckets.ts';
import { hash64, hashKey, hashOrGiven, hashOut } from './hash.ts';

/**
 * What drift needs from the previous tape, and no more: each previous loan's dpd bucket keyed by a
 * 61-bit hash of its loan_id (one 8-byte slot per loan: hash hi, then hash lo with its low 3 bits
 * replaced by bucket + 1), the previous category counts for PSI, and the previous valid row count.
 */
export class PreviousTape {
  public readonly snapshotDate: string | null;
  public validCount = 0;
  public readonly dpdCounts = new Array<number>(DPD_BUCKETS.length).fill(0);
  public readonly creditBandCounts = new Array<number>(CREDIT_SCORE_BANDS.length).fill(0);
  public readonly productCounts = new Array<number>(PRODUCTS.length).fill(0);
  private mask: number;
  private size = 0;
  private slots: Uint32Array;

  /** `shared`: keep the table in a SharedArrayBuffer, so worker threads can read it without a copy. */
  public constructor(
    snapshotDate: string | null,
    expected = 1024,
    private readonly shared = false,
  ) {
    this.snapshotDate = snapshotDate;
    let cap = 1024;
    while (cap * 0.75 < expected) cap *= 2;
    this.mask = cap - 1;
    this.slots = this.table(cap * 2);
  }

  private table(length: number): Uint32Array {
    return this.shared ? new Uint32Array(new SharedArrayBuffer(length * 4)) : new Uint32Array(length);
  }

  /**
   * Adds one valid loan of the previous tape (a repeated loan_id keeps its first bucket); pass the
   * loan id's 64-bit hash when the caller already has it.
   */
  public add(loan: Loan, idHashHi?: number, idHashLo?: number): void {
    hashOrGiven(loan.loanId, idHashHi, idHashLo);
    this.addEntry(hashOut.hi, hashOut.lo, previousEntryMeta(loan));
  }

  /**
   * Adds one loan given as its id hash and `previousEntryMeta`; false (and nothing counted) when
   * the id is already indexed. Adding the entries of consecutive ranges of a tape in order gives
   * exactly the index of one pass over the tape.
   */
  public addEntry(hi: number, lo: number, meta: number): boolean {
    const dpd = meta & 7;
    if (!this.insert(hi, lo, dpd)) return false;
    this.validCount++;
    this.dpdCounts[dpd]!++;
    this.creditBandCounts[(meta >>> 3) & 7]!++;
    this.productCounts[meta >>> 6]!++;
    return true;
  }

  /** The previous dpd bucket index of the loan whose id hash is (hi, lo), or -1 when absent. */
  public lookupHash(hi: number, lo: number): number {
    const h1 = hi;
    const h2 = (lo & ~7) >>> 0;
    const slots = this.slots;
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = slots[i * 2]!;
      const b = slots[i * 2 + 1]!;
      if (b === 0) return -1;
      if (a === h1 && (b & ~7) >>> 0 === h2) return (b & 7) - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** The previous dpd bucket index of a loan id, or -1 when it was not on the previous tape. */
  public lookup(loanId: string): number {
    hash64(loanId);
    return this.lookupHash(hashOut.hi, hashOut.lo);
  }

  /** Number of distinct loans indexed. */
  public get loanCount(): number {
    return this.size;
  }

  private insert(h1: number, lo: number, dpd: number): boolean {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const h2 = (lo & ~7) >>> 0;
    const slots = this.slots;
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = slots[i * 2]!;
      const b = slots[i * 2 + 1]!;
      if (b === 0) {
        slots[i * 2] = h1;
        slots[i * 2 + 1] = h2 | (dpd + 1);
        this.size++;
        return true;
      }
      if (a === h1 && (b & ~7) >>> 0 === h2) return false;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.slots = this.table(cap * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      const b = old[i + 1]!;
      if (b !== 0) this.insert(old[i]!, b, (b & 7) - 1);
    }
  }

  /**
   * The index as structured-clone data for worker threads: the table itself when it lives in a
   * SharedArrayBuffer (no copy), else a copy of it. `fromTransfer` wraps it again.
   */
  public toTransfer(): TransferredPreviousTape {
    return { ...this.counts(), size: this.size, slots: this.slots };
  }

  /** The date and the counts drift needs, as copies. */
  private counts(): Omit<TransferredPreviousTape, 'size' | 'slots'> {
    return {
      snapshotDate: this.snapshotDate,
      validCount: this.validCount,
      dpdCounts: [...this.dpdCounts],
      creditBandCounts: [...this.creditBandCounts],
      productCounts: [...this.productCounts],
    };
  }

  private copyCounts(
    from: Pick<TransferredPreviousTape, 'validCount' | 'dpdCounts' | 'creditBandCounts' | 'productCounts'>,
  ): void {
    this.validCount = from.validCount;
    this.dpdCounts.splice(0, this.dpdCounts.length, ...from.dpdCounts);
    this.creditBandCounts.splice(0, this.creditBandCounts.length, ...from.creditBandCounts);
    this.productCounts.splice(0, this.productCounts.length, ...from.productCounts);
  }

  /** The index a worker received from `toTransfer` (read-only use: lookups). */
  public static fromTransfer(t: TransferredPreviousTape): PreviousTape {
    const tape = new PreviousTape(t.snapshotDate, 0);
    tape.slots = t.slots;
    tape.mask = t.slots.length / 2 - 1;
    tape.size = t.size;
    tape.copyCounts(t);
    return tape;
  }

  /**
   * The index's contents in a canonical form, independent of the table's size and slot order:
   * the counts and every loan's (hash, bucket) as sorted hex. For comparing two indexes.
   */
  public canonical(): CanonicalPreviousTape {
    const entries: string[] = [];
    for (let i = 0; i <= this.mask; i++) {
      const b = this.slots[i * 2 + 1]!;
      if (b === 0) continue;
      entries.push(hashKey(this.slots[i * 2]!, b));
    }
    return { ...this.counts(), entries: entries.sort() };
  }
}

/** See `PreviousTape.canonical`. */
export interface CanonicalPreviousTape {
  snapshotDate: string | null;
  validCount: number;
  dpdCounts: number[];
  creditBandCounts: number[];
  productCounts: number[];
  /** Per loan: 16 hex digits of its id hash, the low 3 bits holding its dpd bucket + 1. */
  entries: string[];
}

/** A PreviousTape as handed to a worker thread (see `PreviousTape.toTransfer`). */
export interface TransferredPreviousTape {
  snapshotDate: string | null;
  validCount: number;
  dpdCounts: number[];
  creditBandCounts: number[];
  productCounts: number[];
  size: number;
  /** The open-addressing table (2 x uint32 a slot), usually over a SharedArrayBuffer. */
  slots: Uint32Array;
}

/** What the index keeps of a loan besides its id hash: dpd bucket | credit band << 3 | product << 6. */
export function previousEntryMeta(loan: Loan): number {
  return (
    dpdBucketIndex(loan.daysPastDue) |
    (creditBandIndex(loan.creditScore) << 3) |
    (productIndex(loan.product) << 6)
  );
}

/**
 * The index entries of a tape's valid loans in row order (loan id hash hi, hash lo,
 * `previousEntryMeta`: 12 bytes a loan), growing as loans arrive. Added to a PreviousTape in
 * order (`mergePreviousRanges`), they give the index of one pass over the tape.
 */
export class IndexEntries {
  private entries: Uint32Array;
  public count = 0;

  public constructor(expectedLoans = 1024) {
    this.entries = new Uint32Array(Math.max(1024, expectedLoans) * 3);
  }

  public push(hi: number, lo: number, meta: number): void {
    if (this.count * 3 === this.entries.length) {
      const grown = new Uint32Array(this.entries.length * 2);
      grown.set(this.entries);
      this.entries = grown;
    }
    const at = this.count * 3;
    this.entries[at] = hi;
    this.entries[at + 1] = lo;
    this.entries[at + 2] = meta;
    this.count++;
  }

  /** The entries so far, trimmed to their count (a copy, so it can be transferred alone). */
  public finish(): { entries: Uint32Array; count: number } {
    return { entries: this.entries.slice(0, this.count * 3), count: this.count };
  }
}

/** Builds the drift index of a previous tape from its valid loans (the snapshot date of the first loan). */
export function buildPreviousTape(loans: Iterable<Loan>, expectedLoans = 1024): PreviousTape {
  let tape: PreviousTape | null = null;
  for (const loan of loans) {
    tape ??= new PreviousTape(loan.snapshotDate, expectedLoans);
    tape.add(loan);
  }
  return tape ?? new PreviousTape(null);
}

const INDEX_MAGIC = 0x49504152; // "RAPI" little-endian: risk-audit previous index
const INDEX_VERSION = 2;

/**
 * The stored form of a previous-tape index (one S3 object per run): a 12-byte preamble (magic,
 * version, header length), a JSON header with the counts and the caller's `extra` fields, zero
 * padding to 8 bytes, then the open-addressing table itself (uint32 little-endian). Readers wrap
 * the table as it is, with no re-inserting and no base64: a 100M-loan index is about 1 GB of
 * table, which a JSON string could not hold (V8 strings stop near 512M characters).
 */
export function encodePreviousIndex(tape: PreviousTape, extra: Record<string, unknown> = {}): Uint8Array {
  const { slots, ...counts } = tape.toTransfer();
  const header = Buffer.from(JSON.stringify({ ...extra, ...counts }), 'utf8');
  const tableAt = Math.ceil((12 + header.byteLength) / 8) * 8;
  const out = new Uint8Array(tableAt + slots.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, INDEX_MAGIC, true);
  view.setUint32(4, INDEX_VERSION, true);
  view.setUint32(8, header.byteLength, true);
  out.set(header, 12);
  out.set(new Uint8Array(slots.buffer, slots.byteOffset, slots.byteLength), tableAt);
  return out;
}

/** Whether bytes begin like a stored previous-tape index (see `encodePreviousIndex`). */
export function isPreviousIndex(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 4 &&
    new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === INDEX_MAGIC
  );
}

/** A stored drift index that cannot be decoded; the message says why (callers name the file). */
export class PreviousIndexError extends RiskAuditError {}

const failIndex = (why: string): never => {
  throw new PreviousIndexError(`it is not a valid drift index (${why})`);
};

type IndexHeader = Omit<TransferredPreviousTape, 'slots'> & Record<string, unknown>;

/** The header's length from the 12-byte preamble (magic and version checked). */
function headerLength(preamble: Uint8Array): number {
  if (preamble.byteLength < 12) failIndex('shorter than its preamble');
  const view = new DataView(preamble.buffer, preamble.byteOffset, 12);
  if (view.getUint32(0, true) !== INDEX_MAGIC) failIndex('not a risk-audit previous index');
  if (view.getUint32(4, true) !== INDEX_VERSION)
    failIndex(`version ${view.getUint32(4, true)} is not ${INDEX_VERSION}`);
  return view.getUint32(8, true);
}

function parseHeader(bytes: Uint8Array): IndexHeader {
  let header: IndexHeader;
  try {
    header = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return failIndex('its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || typeof header.size !== 'number')
    failIndex('its header lacks the loan count');
  return header;
}

/**
 * The header of a stored index (its counts and the caller's extra fields) read from the start of
 * its bytes: the stream is left as soon as the header is in, so a 1 GB index costs its header.
 */
export async function readPreviousIndexHeader(
  chunks: AsyncIterable<Uint8Array>,
): Promise<Readonly<Record<string, unknown>>> {
  const held: Uint8Array[] = [];
  let bytes = 0;
  let need = 12;
  let length: number | null = null;
  for await (const chunk of chunks) {
    held.push(chunk);
    bytes += chunk.byteLength;
    if (bytes < need) continue;
    const joined = Buffer.concat(held);
    if (length === null) {
      length = headerLength(joined);
      need = 12 + length;
      if (bytes < need) continue;
    }
    return parseHeader(joined.subarray(12, need));
  }
  if (length === null) return failIndex('shorter than its preamble');
  return failIndex('truncated header');
}

/** Reads what `encodePreviousIndex` wrote: the index and the caller's extra header fields. */
export function decodePreviousIndex(bytes: Uint8Array): {
  tape: PreviousTape;
  extra: Readonly<Record<string, unknown>>;
} {
  const headerBytes = headerLength(bytes);
  if (12 + headerBytes > bytes.byteLength) failIndex('truncated header');
  const header = parseHeader(bytes.subarray(12, 12 + headerBytes));
  const tableAt = Math.ceil((12 + headerBytes) / 8) * 8;
  const tableBytes = bytes.byteLength - tableAt;
  const slotCount = tableBytes / 8;
  if (tableBytes <= 0 || !Number.isInteger(slotCount) || (slotCount & (slotCount - 1)) !== 0)
    failIndex('the table is truncated or not a power of two in size');
  // A view when aligned (the usual case), else one copy.
  const at = bytes.byteOffset + tableAt;
  const slots =
    at % 4 === 0
      ? new Uint32Array(bytes.buffer, at, tableBytes / 4)
      : new Uint32Array(bytes.slice(tableAt).buffer);
  if (header.size * 4 > slotCount * 3) failIndex('the header counts more loans than the table holds');
  return { tape: PreviousTape.fromTransfer({ ...header, slots }), extra: header };
}
