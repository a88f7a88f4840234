import { hashOut } from './hash.ts';

/** Bit of the type bits for each borrower type seen on a borrower's loans. */
export const TYPE_INDIVIDUAL = 1;
/** Bit for enterprise borrowers (see TYPE_INDIVIDUAL). */
export const TYPE_ENTERPRISE = 2;

// Main slot layout, 32 bytes (half a cache line, so one borrower update touches one line):
// u32[0] key hi, u32[1] key lo, u32[2] meta (below), u32[3] loan-rule bits,
// f64[2] exposure in fen, f64[3] highest known annual income (-1 when none is known).
// meta: loan count (low 27 bits) | SIDE (bit 27) | SEEN_BUSINESS (28) | SEEN_CONSUMPTION (29) | types << 30.
const SLOT_U32 = 8;
const SLOT_F64 = 4;
/** Bytes per main slot. */
export const BORROWER_SLOT_BYTES = SLOT_U32 * 4;
const LOAN_MASK = 0x07ffffff;
const SIDE = 1 << 27;
const SEEN_BUSINESS = 1 << 28;
const SEEN_CONSUMPTION = 1 << 29;
const KEEP_BITS = SEEN_BUSINESS | SEEN_CONSUMPTION | (3 << 30);

// Side slot layout, 32 bytes, for the few borrowers whose loans are not all of one purpose or of
// which a loan-level breach rule hit a loan: u32[0] key hi, u32[1] key lo, u32[2] consumption
// loans, u32[3] consumption loans a loan-level breach rule hit, u32[4] the same of business loans,
// u32[5] unused, f64[3] consumption exposure in fen.
const SIDE_U32 = 8;
const SIDE_F64 = 4;
/** Bytes per side slot. */
export const SIDE_SLOT_BYTES = SIDE_U32 * 4;

/** A borrower's split by purpose (`BorrowerTable.split` fills one, reused). */
export interface PurposeSplit {
  consumptionLoans: number;
  /** Consumption exposure in fen (business = exposure - this). */
  consumptionFen: number;
  /** Consumption loans a loan-level breach rule hit. */
  breachConsumption: number;
  /** Business loans a loan-level breach rule hit. */
  breachBusiness: number;
}

/** Open addressing over 32-byte slots keyed by a 64-bit hash (the borrowers that need a side slot). */
class SideTable {
  public size = 0;
  private mask: number;
  public u32: Uint32Array;
  public f64: Float64Array;

  public constructor(expected = 64) {
    let cap = 64;
    while (cap * 0.75 < expected) cap *= 2;
    this.mask = cap - 1;
    this.u32 = new Uint32Array(cap * SIDE_U32);
    this.f64 = new Float64Array(this.u32.buffer);
  }

  public get capacity(): number {
    return this.mask + 1;
  }

  public used(slot: number): boolean {
    const o = slot * SIDE_U32;
    return this.u32[o] !== 0 || this.u32[o + 1] !== 0;
  }

  /** The slot of a key, or -1. */
  public find(h1: number, h2: number): number {
    const u32 = this.u32;
    let i = (h1 ^ Math.imul(h2, 0x85ebca6b)) & this.mask;
    for (;;) {
      const o = i * SIDE_U32;
      if (u32[o] === h1 && u32[o + 1] === h2) return i;
      if (u32[o] === 0 && u32[o + 1] === 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** The slot of a key, inserted (zeroed) when new. */
  public slot(h1: number, h2: number): number {
    const u32 = this.u32;
    let i = (h1 ^ Math.imul(h2, 0x85ebca6b)) & this.mask;
    for (;;) {
      const o = i * SIDE_U32;
      if (u32[o] === h1 && u32[o + 1] === h2) return i;
      if (u32[o] === 0 && u32[o + 1] === 0) {
        if ((this.size + 1) * 4 > this.capacity * 3) {
          this.grow();
          return this.slot(h1, h2);
        }
        u32[o] = h1;
        u32[o + 1] = h2;
        this.size++;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Adds to a key's counters. */
  public add(
    h1: number,
    h2: number,
    consLoans: number,
    breachC: number,
    breachB: number,
    consFen: number,
  ): void {
    const s = this.slot(h1, h2);
    const o = s * SIDE_U32;
    this.u32[o + 2] = this.u32[o + 2]! + consLoans;
    this.u32[o + 3] = this.u32[o + 3]! + breachC;
    this.u32[o + 4] = this.u32[o + 4]! + breachB;
    this.f64[s * SIDE_F64 + 3] = this.f64[s * SIDE_F64 + 3]! + consFen;
  }

  private grow(): void {
    const old = this.u32;
    const oldF64 = this.f64;
    const oldCap = this.capacity;
    this.mask = oldCap * 2 - 1;
    this.size = 0;
    this.u32 = new Uint32Array(oldCap * 2 * SIDE_U32);
    this.f64 = new Float64Array(this.u32.buffer);
    for (let i = 0; i < oldCap; i++) {
      const o = i * SIDE_U32;
      if (old[o] === 0 && old[o + 1] === 0) continue;
      const s = this.slot(old[o]!, old[o + 1]!);
      this.u32.set(old.subarray(o + 2, o + SIDE_U32), s * SIDE_U32 + 2);
      this.f64[s * SIDE_F64 + 3] = oldF64[i * SIDE_F64 + 3]!;
    }
  }

  /** The used slots packed one after another. */
  public pack(): Uint8Array {
    const out = new Uint32Array(this.size * SIDE_U32);
    let j = 0;
    for (let i = 0; i < this.capacity; i++) {
      if (!this.used(i)) continue;
      out.set(this.u32.subarray(i * SIDE_U32, (i + 1) * SIDE_U32), j * SIDE_U32);
      j++;
    }
    return new Uint8Array(out.buffer);
  }

  public static unpack(bytes: ArrayBuffer, count: number): SideTable {
    const t = new SideTable(count);
    const u32 = new Uint32Array(bytes);
    const f64 = new Float64Array(bytes);
    for (let i = 0; i < count; i++) {
      const o = i * SIDE_U32;
      t.add(u32[o]!, u32[o + 1]!, u32[o + 2]!, u32[o + 3]!, u32[o + 4]!, f64[i * SIDE_F64 + 3]!);
    }
    return t;
  }

  public static fromStorage(buffer: ArrayBuffer, size: number): SideTable {
    const slots = buffer.byteLength / SIDE_SLOT_BYTES;
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0 || size * 4 > slots * 3)
      throw new Error('invalid borrower table: its side storage is not a table of that size');
    const t = new SideTable(0);
    t.u32 = new Uint32Array(buffer);
    t.f64 = new Float64Array(buffer);
    t.mask = slots - 1;
    t.size = size;
    return t;
  }
}

/**
 * Per-borrower exposure keyed by the 64-bit hash of borrower_id: an open-addressing table (linear
 * probing, load factor at most 0.75) of 32-byte slots in one ArrayBuffer, with no object per
 * borrower. The purpose caps and the distinct loans in breach also need each borrower's
 * consumption exposure and loans and its loans a loan-level breach rule hit, by purpose: a
 * borrower whose loans are all of one purpose and none in breach (most of them) has these from two
 * bits of its slot; the others get a side slot (a second, small table), so the per-row update
 * touches one cache line for most loans. Every field merges exactly and commutatively: fen and
 * counts add (integers), income takes the max, bits are OR-ed.
 */
export class BorrowerTable {
  public size = 0;
  private mask: number;
  private u32: Uint32Array;
  private f64: Float64Array;
  private side = new SideTable();
  private readonly out: PurposeSplit = {
    consumptionLoans: 0,
    consumptionFen: 0,
    breachConsumption: 0,
    breachBusiness: 0,
  };

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

  /** Borrowers with a side slot (loans of both purposes, or a loan-level breach). */
  public get sideSize(): number {
    return this.side.size;
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

  /** Exposure in fen. */
  public exposure(slot: number): number {
    return this.f64[slot * SLOT_F64 + 2]!;
  }

  /** Highest known annual income, or -1. */
  public income(slot: number): number {
    return this.f64[slot * SLOT_F64 + 3]!;
  }

  /** The borrower's split by purpose, in an object reused by the next call. */
  public split(slot: number): Readonly<PurposeSplit> {
    const o = slot * SLOT_U32;
    const meta = this.u32[o + 2]!;
    const out = this.out;
    if ((meta & SIDE) !== 0) {
      const s = this.side.find(this.u32[o]!, this.u32[o + 1]!);
      const so = s * SIDE_U32;
      out.consumptionLoans = this.side.u32[so + 2]!;
      out.breachConsumption = this.side.u32[so + 3]!;
      out.breachBusiness = this.side.u32[so + 4]!;
      out.consumptionFen = this.side.f64[s * SIDE_F64 + 3]!;
    } else {
      const cons = (meta & SEEN_CONSUMPTION) !== 0;
      out.consumptionLoans = cons ? meta & LOAN_MASK : 0;
      out.consumptionFen = cons ? this.f64[slot * SLOT_F64 + 2]! : 0;
      out.breachConsumption = 0;
      out.breachBusiness = 0;
    }
    return out;
  }

  /** The slot of a borrower (by its 64-bit hash), or -1. */
  public find(h1: number, h2: number): number {
    const u32 = this.u32;
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = i * SLOT_U32;
      const a = u32[o]!;
      const b = u32[o + 1]!;
      if (a === h1 && b === h2) return i;
      if (a === 0 && b === 0) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** Grows the table now, if needed, so that `borrowers` fit without growing later. */
  public reserve(borrowers: number): void {
    while (this.capacity * 0.75 < borrowers) this.grow();
  }

  /** The table's storage as it is, to move to another thread (transfer both buffers). */
  public toTransfer(): TransferredBorrowerTable {
    return {
      buffer: this.u32.buffer as ArrayBuffer,
      size: this.size,
      side: this.side.u32.buffer as ArrayBuffer,
      sideSize: this.side.size,
    };
  }

  /** A table moved from another thread by `toTransfer`. */
  public static fromTransfer(t: TransferredBorrowerTable): BorrowerTable {
    const slots = t.buffer.byteLength / BORROWER_SLOT_BYTES;
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0 || t.size * 4 > slots * 3)
      throw new Error('invalid borrower table: its storage is not a table of that size');
    const table = new BorrowerTable(0);
    table.u32 = new Uint32Array(t.buffer);
    table.f64 = new Float64Array(t.buffer);
    table.mask = slots - 1;
    table.size = t.size;
    table.side = SideTable.fromStorage(t.side, t.sideSize);
    return table;
  }

  /**
   * Adds one loan of the borrower whose hash is in `hashOut` (the hot path): its outstanding fen,
   * income, type bit, loan-rule bits, whether its purpose is consumption and whether a loan-level
   * breach rule hit it.
   */
  public addLoan(
    fen: number,
    income: number | null,
    typeBit: number,
    ruleMask: number,
    consumption = false,
    breach = false,
  ): void {
    const h1 = hashOut.hi;
    const h2 = hashOut.lo;
    const s = this.slotOf(h1, h2);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    const u32 = this.u32;
    const f64 = this.f64;
    const meta = u32[o + 2]!;
    const seen = consumption ? SEEN_CONSUMPTION : SEEN_BUSINESS;
    let next = (meta + 1) | (typeBit << 30) | seen;
    // A side slot once the borrower has loans of both purposes or a loan in breach.
    if ((meta & SIDE) !== 0) {
      this.side.add(
        h1,
        h2,
        consumption ? 1 : 0,
        breach && consumption ? 1 : 0,
        breach && !consumption ? 1 : 0,
        consumption ? fen : 0,
      );
    } else if (breach || (meta & (SEEN_CONSUMPTION | SEEN_BUSINESS) & ~seen) !== 0) {
      const before = (meta & SEEN_CONSUMPTION) !== 0;
      this.side.add(
        h1,
        h2,
        (before ? meta & LOAN_MASK : 0) + (consumption ? 1 : 0),
        breach && consumption ? 1 : 0,
        breach && !consumption ? 1 : 0,
        (before ? f64[f + 2]! : 0) + (consumption ? fen : 0),
      );
      next |= SIDE;
    }
    u32[o + 2] = next >>> 0;
    if (ruleMask !== 0) u32[o + 3] = u32[o + 3]! | ruleMask;
    f64[f + 2] = f64[f + 2]! + fen;
    if (income !== null && income > f64[f + 3]!) f64[f + 3] = income;
  }

  /**
   * Adds one borrower's merged state (slot `i` of another table's or a packed table's arrays, its
   * side slots in `srcSide`) into this table.
   */
  private mergeFrom(
    srcU32: Uint32Array,
    srcF64: Float64Array,
    so: number,
    sf: number,
    srcSide: SideTable,
  ): void {
    const h1 = srcU32[so]!;
    const h2 = srcU32[so + 1]!;
    const s = this.slotOf(h1, h2);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    const u32 = this.u32;
    const f64 = this.f64;
    const mine = u32[o + 2]!;
    const theirs = srcU32[so + 2]!;
    let bits = (mine | theirs) & (KEEP_BITS | SIDE);
    if ((bits & SIDE) !== 0 || (bits & SEEN_CONSUMPTION & (bits << 1)) !== 0) {
      // Both sides' splits, from their side slot or their bits, summed into this side slot.
      if ((mine & SIDE) === 0) {
        const cons = (mine & SEEN_CONSUMPTION) !== 0;
        if (cons) this.side.add(h1, h2, mine & LOAN_MASK, 0, 0, f64[f + 2]!);
        else this.side.slot(h1, h2);
      }
      if ((theirs & SIDE) !== 0) {
        const t = srcSide.find(h1, h2);
        const to = t * SIDE_U32;
        const su = srcSide.u32;
        this.side.add(h1, h2, su[to + 2]!, su[to + 3]!, su[to + 4]!, srcSide.f64[t * SIDE_F64 + 3]!);
      } else if ((theirs & SEEN_CONSUMPTION) !== 0) {
        this.side.add(h1, h2, theirs & LOAN_MASK, 0, 0, srcF64[sf + 2]!);
      } else {
        this.side.slot(h1, h2);
      }
      bits |= SIDE;
    }
    u32[o + 2] = (((mine & LOAN_MASK) + (theirs & LOAN_MASK)) | bits) >>> 0;
    u32[o + 3] = (u32[o + 3]! | srcU32[so + 3]!) >>> 0;
    f64[f + 2] = f64[f + 2]! + srcF64[sf + 2]!;
    if (srcF64[sf + 3]! > f64[f + 3]!) f64[f + 3] = srcF64[sf + 3]!;
  }

  /** Adds every borrower of another table into this one. */
  public mergeTable(other: BorrowerTable): void {
    for (let i = 0; i < other.capacity; i++)
      if (other.used(i)) this.mergeFrom(other.u32, other.f64, i * SLOT_U32, i * SLOT_F64, other.side);
  }

  /** Adds packed borrowers (`serializeBorrowers`) into this table. */
  public mergePacked(keys: ArrayBuffer, amounts: ArrayBuffer, count: number, side: SideTable): void {
    const u32 = new Uint32Array(keys);
    const f64 = new Float64Array(amounts);
    for (let i = 0; i < count; i++) this.mergeFrom(u32, f64, i * 4, i * 2 - 2, side);
  }

  /** The used slots packed (16 + 16 bytes each) and the side slots (32 bytes each). */
  public pack(): { keys: Uint32Array; amounts: Float64Array; side: Uint8Array } {
    const n = this.size;
    const keys = new Uint32Array(n * 4);
    const amounts = new Float64Array(n * 2);
    let j = 0;
    for (let i = 0; i < this.capacity; i++) {
      if (!this.used(i)) continue;
      keys.set(this.u32.subarray(i * SLOT_U32, i * SLOT_U32 + 4), j * 4);
      amounts[j * 2] = this.f64[i * SLOT_F64 + 2]!;
      amounts[j * 2 + 1] = this.f64[i * SLOT_F64 + 3]!;
      j++;
    }
    return { keys, amounts, side: this.side.pack() };
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
  side: ArrayBuffer;
  sideSize: number;
}

/** Compact, JSON-safe form of a borrower table: its used slots packed, base64 little-endian. */
export interface SerializedBorrowers {
  count: number;
  /** count x 16 bytes: key hi, key lo, loans and bits, rule bits (uint32 each). */
  keys: string;
  /** count x 16 bytes: exposure in fen, highest known income or -1 (float64 each). */
  amounts: string;
  sideCount: number;
  /** sideCount x 32 bytes: the side slots (see BorrowerTable). */
  side: string;
}

function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/** Decodes base64 into a fresh, aligned buffer of exactly `bytes` bytes, or throws naming `field`. */
export function fromBase64(text: string, bytes: number, field: string): ArrayBuffer {
  const decoded = Buffer.from(text, 'base64');
  if (decoded.byteLength !== bytes) {
    throw new Error(`invalid partial audit: ${field} holds ${decoded.byteLength} bytes, expected ${bytes}`);
  }
  // Copy into a fresh, aligned buffer: Buffer.from may return a slice of a shared pool.
  const out = new ArrayBuffer(bytes);
  new Uint8Array(out).set(decoded);
  return out;
}

/** Packs a table's used slots for a partial audit. */
export function serializeBorrowers(t: BorrowerTable): SerializedBorrowers {
  const { keys, amounts, side } = t.pack();
  return {
    count: t.size,
    keys: toBase64(keys),
    amounts: toBase64(amounts),
    sideCount: t.sideSize,
    side: toBase64(side),
  };
}

/** Merges serialized entries into a table (a borrower present in both adds up exactly). */
export function mergeSerializedBorrowers(into: BorrowerTable, s: SerializedBorrowers): void {
  const n = s.count;
  const side = SideTable.unpack(
    fromBase64(s.side, s.sideCount * SIDE_SLOT_BYTES, 'borrowers.side'),
    s.sideCount,
  );
  into.mergePacked(
    fromBase64(s.keys, n * 16, 'borrowers.keys'),
    fromBase64(s.amounts, n * 16, 'borrowers.amounts'),
    n,
    side,
  );
}
