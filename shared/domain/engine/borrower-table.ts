import { hashOut } from './hash.ts';

/** Bit of the type bits for each borrower type seen on a borrower's loans. */
export const TYPE_INDIVIDUAL = 1;
/** Bit for enterprise borrowers (see TYPE_INDIVIDUAL). */
export const TYPE_ENTERPRISE = 2;

// Slot layout, 32 bytes (half a cache line, so one borrower update touches one line):
// u32[0] key hi, u32[1] key lo, u32[2] loan count (low 30 bits) | type bits << 30, u32[3] loan-rule bits,
// f64[2] exposure in millionths of a unit (engine/amounts.ts), f64[3] highest known annual income (-1 when none is known).
const SLOT_U32 = 8;
const SLOT_F64 = 4;
const LOAN_MASK = 0x3fffffff;

/**
 * Per-borrower exposure keyed by the 64-bit hash of borrower_id: an open-addressing table (linear
 * probing, load factor at most 0.75) of 32-byte slots in one ArrayBuffer, with no object per
 * borrower, so a borrower costs 43 to 85 bytes. Every field merges exactly and commutatively: fen
 * and counts add (integers), income takes the max, bits are OR-ed.
 */
export class BorrowerTable {
  public size = 0;
  private mask: number;
  private u32: Uint32Array;
  private f64: Float64Array;

  public constructor(expected = 1024) {
    let cap = 1024;
    while (cap * 0.75 < expected) cap *= 2;
    this.mask = cap - 1;
    this.u32 = new Uint32Array(cap * SLOT_U32);
    this.f64 = new Float64Array(this.u32.buffer);
  }

  /** Number of slots; iterate 0..capacity-1 and skip slots where `used(slot)` is false. */
  public get capacity(): number {
    return this.mask + 1;
  }

  /** Whether a slot holds a borrower. */
  public used(slot: number): boolean {
    const o = slot * SLOT_U32;
    return this.u32[o] !== 0 || this.u32[o + 1] !== 0;
  }

  public keyHi(slot: number): number {
    return this.u32[slot * SLOT_U32]!;
  }

  public keyLo(slot: number): number {
    return this.u32[slot * SLOT_U32 + 1]!;
  }

  public loans(slot: number): number {
    return this.u32[slot * SLOT_U32 + 2]! & LOAN_MASK;
  }

  public types(slot: number): number {
    return this.u32[slot * SLOT_U32 + 2]! >>> 30;
  }

  public rules(slot: number): number {
    return this.u32[slot * SLOT_U32 + 3]!;
  }

  /** Exposure in millionths of a unit (exact below about 9 billion a borrower). */
  public exposure(slot: number): number {
    return this.f64[slot * SLOT_F64 + 2]!;
  }

  /** Highest known annual income, or -1. */
  public income(slot: number): number {
    return this.f64[slot * SLOT_F64 + 3]!;
  }

  /** Grows the table now, if needed, so that `borrowers` fit without growing later. */
  public reserve(borrowers: number): void {
    while (this.capacity * 0.75 < borrowers) this.grow();
  }

  /** The table's storage as it is, to move to another thread (transfer `buffer`). */
  public toTransfer(): TransferredBorrowerTable {
    return { buffer: this.u32.buffer as ArrayBuffer, size: this.size };
  }

  /** A table moved from another thread by `toTransfer`. */
  public static fromTransfer(t: TransferredBorrowerTable): BorrowerTable {
    const slots = t.buffer.byteLength / (SLOT_U32 * 4);
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0 || t.size * 4 > slots * 3)
      throw new Error('invalid borrower table: its storage is not a table of that size');
    const table = new BorrowerTable(0);
    table.u32 = new Uint32Array(t.buffer);
    table.f64 = new Float64Array(t.buffer);
    table.mask = slots - 1;
    table.size = t.size;
    return table;
  }

  /** Adds one loan of the borrower whose hash is in `hashOut` (the hot path). */
  public addLoan(micro: number, income: number | null, typeBit: number, ruleMask: number): void {
    const s = this.slotOf(hashOut.hi, hashOut.lo);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    this.u32[o + 2] = (this.u32[o + 2]! + 1) | (typeBit << 30);
    if (ruleMask !== 0) this.u32[o + 3] = this.u32[o + 3]! | ruleMask;
    this.f64[f + 2] = this.f64[f + 2]! + micro;
    if (income !== null && income > this.f64[f + 3]!) this.f64[f + 3] = income;
  }

  /** Adds one borrower's merged state (from another shard) into this table. */
  public mergeEntry(
    h1: number,
    h2: number,
    exposure: number,
    loansAndTypes: number,
    income: number,
    rules: number,
  ): void {
    const s = this.slotOf(h1, h2);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    const before = this.u32[o + 2]!;
    const loans = (before & LOAN_MASK) + (loansAndTypes & LOAN_MASK);
    this.u32[o + 2] = (loans | (((before >>> 30) | (loansAndTypes >>> 30)) << 30)) >>> 0;
    this.u32[o + 3] = this.u32[o + 3]! | rules;
    this.f64[f + 2] = this.f64[f + 2]! + exposure;
    if (income > this.f64[f + 3]!) this.f64[f + 3] = income;
  }

  private slotOf(h1: number, h2: number): number {
    const u32 = this.u32;
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = i * SLOT_U32;
      const a = u32[o]!;
      const b = u32[o + 1]!;
      if (a === h1 && b === h2) return i;
      if (a === 0 && b === 0) {
        if ((this.size + 1) * 4 > this.capacity * 3) {
          this.grow();
          return this.slotOf(h1, h2);
        }
        u32[o] = h1;
        u32[o + 1] = h2;
        this.f64[i * SLOT_F64 + 3] = -1;
        this.size++;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldU32 = this.u32;
    const oldF64 = this.f64;
    const oldCap = this.capacity;
    const cap = oldCap * 2;
    this.mask = cap - 1;
    this.size = 0;
    this.u32 = new Uint32Array(cap * SLOT_U32);
    this.f64 = new Float64Array(this.u32.buffer);
    for (let i = 0; i < oldCap; i++) {
      const o = i * SLOT_U32;
      if (oldU32[o] === 0 && oldU32[o + 1] === 0) continue;
      const s = this.slotOf(oldU32[o]!, oldU32[o + 1]!);
      const n = s * SLOT_U32;
      this.u32[n + 2] = oldU32[o + 2]!;
      this.u32[n + 3] = oldU32[o + 3]!;
      this.f64[s * SLOT_F64 + 2] = oldF64[i * SLOT_F64 + 2]!;
      this.f64[s * SLOT_F64 + 3] = oldF64[i * SLOT_F64 + 3]!;
    }
  }
}

/** A BorrowerTable's storage between threads (see `BorrowerTable.toTransfer`). */
export interface TransferredBorrowerTable {
  buffer: ArrayBuffer;
  size: number;
}

/** Compact, JSON-safe form of a borrower table: its used slots packed, base64 little-endian. */
export interface SerializedBorrowers {
  count: number;
  /** count x 16 bytes: key hi, key lo, loans | types << 30, rule bits (uint32 each). */
  keys: string;
  /** count x 16 bytes: exposure in millionths, highest known income or -1 (float64 each). */
  amounts: string;
}

function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function fromBase64(text: string, bytes: number, field: string): ArrayBuffer {
  const decoded = Buffer.from(text, 'base64');
  if (decoded.byteLength !== bytes) {
    throw new Error(
      `invalid partial audit: borrowers.${field} holds ${decoded.byteLength} bytes, expected ${bytes}`,
    );
  }
  // Copy into a fresh, aligned buffer: Buffer.from may return a slice of a shared pool.
  const out = new ArrayBuffer(bytes);
  new Uint8Array(out).set(decoded);
  return out;
}

/** Packs a table's used slots for a partial audit. */
export function serializeBorrowers(t: BorrowerTable): SerializedBorrowers {
  const n = t.size;
  const keys = new Uint32Array(n * 4);
  const amounts = new Float64Array(n * 2);
  let j = 0;
  for (let i = 0; i < t.capacity; i++) {
    if (!t.used(i)) continue;
    keys[j * 4] = t.keyHi(i);
    keys[j * 4 + 1] = t.keyLo(i);
    keys[j * 4 + 2] = (t.loans(i) | (t.types(i) << 30)) >>> 0;
    keys[j * 4 + 3] = t.rules(i);
    amounts[j * 2] = t.exposure(i);
    amounts[j * 2 + 1] = t.income(i);
    j++;
  }
  return { count: n, keys: toBase64(keys), amounts: toBase64(amounts) };
}

/** Merges serialized entries into a table (a borrower present in both adds up exactly). */
export function mergeSerializedBorrowers(into: BorrowerTable, s: SerializedBorrowers): void {
  const n = s.count;
  const keys = new Uint32Array(fromBase64(s.keys, n * 16, 'keys'));
  const amounts = new Float64Array(fromBase64(s.amounts, n * 16, 'amounts'));
  for (let i = 0; i < n; i++) {
    into.mergeEntry(
      keys[i * 4]!,
      keys[i * 4 + 1]!,
      amounts[i * 2]!,
      keys[i * 4 + 2]!,
      amounts[i * 2 + 1]!,
      keys[i * 4 + 3]!,
    );
  }
}
