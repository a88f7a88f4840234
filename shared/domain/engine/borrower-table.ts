import { hashOut } from './hash.ts';

/** Bit of the type bits for each borrower type seen on a borrower's loans. */
export const TYPE_INDIVIDUAL = 1;
/** Bit for enterprise borrowers (see TYPE_INDIVIDUAL). */
export const TYPE_ENTERPRISE = 2;

// Slot layout, 64 bytes (one cache line, so one borrower update touches one line):
// u32[0] key hi, u32[1] key lo, u32[2] loan count (low 30 bits) | type bits << 30, u32[3] loan-rule bits,
// f64[2] exposure in millionths of a unit (engine/amounts.ts), f64[3] highest known annual income (-1 when none is known),
// f64[4] exposure of consumption-purpose loans in millionths, u32[10] consumption-purpose loans,
// u32[11] consumption loans hit by a loan-level breach rule, u32[12] the same of business loans,
// u32[13..15] unused.
const SLOT_U32 = 16;
const SLOT_F64 = 8;
/** Bytes per slot. */
export const BORROWER_SLOT_BYTES = SLOT_U32 * 4;
// Packed form (partials): per borrower 4 uint32 (key hi, key lo, a word below, rule bits) and 2
// float64 (exposure, income); the word is loans (low 27 bits) | EXTENDED (27) | ALL_CONSUMPTION (28)
// | ALL_BREACH (29) | types << 30. Most borrowers' split follows from the bits (all their loans of
// one purpose, none or all of them in breach); the others are EXTENDED, with 3 uint32
// (consumption loans, breach loans by purpose) and 1 float64 (consumption exposure) in order.
const PACKED_LOANS = 0x07ffffff;
const EXTENDED = 1 << 27;
const ALL_CONSUMPTION = 1 << 28;
const ALL_BREACH = 1 << 29;

/** A borrower's split by purpose (`BorrowerTable.split` fills one, reused). */
export interface PurposeSplit {
  consumptionLoans: number;
  /** Consumption exposure in millionths of a unit (engine/amounts.ts) (business = exposure - this). */
  consumptionMicro: number;
  /** Consumption loans a loan-level breach rule hit. */
  breachConsumption: number;
  /** Business loans a loan-level breach rule hit. */
  breachBusiness: number;
}
const LOAN_MASK = 0x3fffffff;

/**
 * Per-borrower exposure keyed by the 64-bit hash of borrower_id: an open-addressing table (linear
 * probing, load factor at most 0.75) of 64-byte slots in one ArrayBuffer, with no object per
 * borrower. Besides the borrower's exposure it keeps the split by loan purpose (the balance caps
 * are per purpose) and how many of its loans a loan-level breach rule hit, by purpose, so that
 * the distinct loans in breach are exact once the borrower-level caps are resolved. Every field
 * merges exactly and commutatively: millionths and counts add (integers), income takes the max, bits are OR-ed.
 */
export class BorrowerTable {
  public size = 0;
  private mask: number;
  private u32: Uint32Array;
  private f64: Float64Array;
  private readonly out: PurposeSplit = {
    consumptionLoans: 0,
    consumptionMicro: 0,
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

  /** The borrower's split by purpose, in an object reused by the next call. */
  public split(slot: number): Readonly<PurposeSplit> {
    const o = slot * SLOT_U32;
    const out = this.out;
    out.consumptionLoans = this.u32[o + 10]!;
    out.breachConsumption = this.u32[o + 11]!;
    out.breachBusiness = this.u32[o + 12]!;
    out.consumptionMicro = this.f64[slot * SLOT_F64 + 4]!;
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

  /** The table's storage as it is, to move to another thread (transfer `buffer`). */
  public toTransfer(): TransferredBorrowerTable {
    return { buffer: this.u32.buffer as ArrayBuffer, size: this.size };
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
    return table;
  }

  /**
   * Adds one loan of the borrower whose hash is in `hashOut` (the hot path): its outstanding in millionths,
   * income, type bit, loan-rule bits, whether its purpose is consumption and whether a loan-level
   * breach rule hit it.
   */
  public addLoan(
    micro: number,
    income: number | null,
    typeBit: number,
    ruleMask: number,
    consumption = false,
    breach = false,
  ): void {
    const s = this.slotOf(hashOut.hi, hashOut.lo);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    const u32 = this.u32;
    const f64 = this.f64;
    u32[o + 2] = (u32[o + 2]! + 1) | (typeBit << 30);
    if (ruleMask !== 0) u32[o + 3] = u32[o + 3]! | ruleMask;
    f64[f + 2] = f64[f + 2]! + micro;
    if (income !== null && income > f64[f + 3]!) f64[f + 3] = income;
    if (consumption) {
      f64[f + 4] = f64[f + 4]! + micro;
      u32[o + 10]!++;
      if (breach) u32[o + 11]!++;
    } else if (breach) {
      u32[o + 12]!++;
    }
  }

  /** Adds every borrower of another table into this one. */
  public mergeTable(other: BorrowerTable): void {
    const u = other.u32;
    const f = other.f64;
    for (let i = 0; i < other.capacity; i++) {
      if (!other.used(i)) continue;
      const o = i * SLOT_U32;
      const g = i * SLOT_F64;
      this.mergeValues(
        u[o]!,
        u[o + 1]!,
        u[o + 2]!,
        u[o + 3]!,
        f[g + 2]!,
        f[g + 3]!,
        f[g + 4]!,
        u[o + 10]!,
        u[o + 11]!,
        u[o + 12]!,
      );
    }
  }

  /** The used slots packed (see the packed form above). */
  public pack(): {
    keys: Uint32Array;
    amounts: Float64Array;
    extInts: Uint32Array;
    extAmounts: Float64Array;
  } {
    const n = this.size;
    const keys = new Uint32Array(n * 4);
    const amounts = new Float64Array(n * 2);
    // Room for every borrower to be extended (a few MB at most), cut to size at the end.
    const extInts = new Uint32Array(n * 3);
    const extAmounts = new Float64Array(n);
    const u32 = this.u32;
    const f64 = this.f64;
    const cap = this.capacity;
    let j = 0;
    let e = 0;
    for (let i = 0; i < cap; i++) {
      const o = i * SLOT_U32;
      const h1 = u32[o]!;
      const h2 = u32[o + 1]!;
      if (h1 === 0 && h2 === 0) continue;
      const f = i * SLOT_F64;
      const meta = u32[o + 2]!;
      const loans = meta & LOAN_MASK;
      if (loans > PACKED_LOANS)
        throw new Error('a borrower has more than 134,217,727 loans: too many to pack');
      const exposure = f64[f + 2]!;
      const consMicro = f64[f + 4]!;
      const consLoans = u32[o + 10]!;
      const breachC = u32[o + 11]!;
      const breachB = u32[o + 12]!;
      let word = loans | (meta & 0xc0000000);
      if (
        consLoans === loans &&
        consMicro === exposure &&
        breachB === 0 &&
        (breachC === 0 || breachC === loans)
      ) {
        word |= ALL_CONSUMPTION | (breachC === 0 ? 0 : ALL_BREACH);
      } else if (
        consLoans === 0 &&
        consMicro === 0 &&
        breachC === 0 &&
        (breachB === 0 || breachB === loans)
      ) {
        word |= breachB === 0 ? 0 : ALL_BREACH;
      } else {
        word |= EXTENDED;
        extInts[e * 3] = consLoans;
        extInts[e * 3 + 1] = breachC;
        extInts[e * 3 + 2] = breachB;
        extAmounts[e] = consMicro;
        e++;
      }
      const k = j * 4;
      keys[k] = h1;
      keys[k + 1] = h2;
      keys[k + 2] = word >>> 0;
      keys[k + 3] = u32[o + 3]!;
      amounts[j * 2] = exposure;
      amounts[j * 2 + 1] = f64[f + 3]!;
      j++;
    }
    return { keys, amounts, extInts: extInts.subarray(0, e * 3), extAmounts: extAmounts.subarray(0, e) };
  }

  /** Adds packed borrowers (`pack`) into this table. */
  public mergePacked(
    keys: Uint32Array,
    amounts: Float64Array,
    count: number,
    extInts: Uint32Array,
    extAmounts: Float64Array,
  ): void {
    let e = 0;
    for (let i = 0; i < count; i++) {
      const word = keys[i * 4 + 2]!;
      const loans = word & PACKED_LOANS;
      const exposure = amounts[i * 2]!;
      let consLoans: number;
      let consMicro: number;
      let breachC: number;
      let breachB: number;
      if ((word & EXTENDED) !== 0) {
        if (e >= extAmounts.length)
          throw new Error('invalid partial audit: borrowers.ext holds too few entries');
        consLoans = extInts[e * 3]!;
        breachC = extInts[e * 3 + 1]!;
        breachB = extInts[e * 3 + 2]!;
        consMicro = extAmounts[e]!;
        e++;
      } else {
        const cons = (word & ALL_CONSUMPTION) !== 0;
        const all = (word & ALL_BREACH) !== 0;
        consLoans = cons ? loans : 0;
        consMicro = cons ? exposure : 0;
        breachC = cons && all ? loans : 0;
        breachB = !cons && all ? loans : 0;
      }
      this.mergeValues(
        keys[i * 4]!,
        keys[i * 4 + 1]!,
        (loans | (word & 0xc0000000)) >>> 0,
        keys[i * 4 + 3]!,
        exposure,
        amounts[i * 2 + 1]!,
        consMicro,
        consLoans,
        breachC,
        breachB,
      );
    }
    if (e !== extAmounts.length)
      throw new Error('invalid partial audit: borrowers.ext holds too many entries');
  }

  /** Adds one borrower's merged state into this table. */
  private mergeValues(
    h1: number,
    h2: number,
    loansAndTypes: number,
    rules: number,
    exposure: number,
    income: number,
    consMicro: number,
    consLoans: number,
    breachC: number,
    breachB: number,
  ): void {
    const s = this.slotOf(h1, h2);
    const o = s * SLOT_U32;
    const f = s * SLOT_F64;
    const u32 = this.u32;
    const f64 = this.f64;
    const before = u32[o + 2]!;
    const loans = (before & LOAN_MASK) + (loansAndTypes & LOAN_MASK);
    u32[o + 2] = (loans | (((before >>> 30) | (loansAndTypes >>> 30)) << 30)) >>> 0;
    u32[o + 3] = (u32[o + 3]! | rules) >>> 0;
    f64[f + 2] = f64[f + 2]! + exposure;
    if (income > f64[f + 3]!) f64[f + 3] = income;
    f64[f + 4] = f64[f + 4]! + consMicro;
    u32[o + 10] = u32[o + 10]! + consLoans;
    u32[o + 11] = u32[o + 11]! + breachC;
    u32[o + 12] = u32[o + 12]! + breachB;
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
      this.u32.set(oldU32.subarray(o, o + SLOT_U32), s * SLOT_U32);
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
  /** count x 16 bytes: key hi, key lo, loans and bits, rule bits (uint32 each; see the packed form). */
  keys: string;
  /** count x 16 bytes: exposure in millionths of a unit (engine/amounts.ts), highest known income or -1 (float64 each). */
  amounts: string;
  /** Borrowers whose split by purpose is packed beside (EXTENDED). */
  extCount: number;
  /** extCount x 12 bytes: consumption loans, breach loans by purpose (uint32 each). */
  extInts: string;
  /** extCount x 8 bytes: consumption exposure in millionths of a unit (engine/amounts.ts) (float64). */
  extAmounts: string;
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
  const { keys, amounts, extInts, extAmounts } = t.pack();
  return {
    count: t.size,
    keys: toBase64(keys),
    amounts: toBase64(amounts),
    extCount: extAmounts.length,
    extInts: toBase64(extInts),
    extAmounts: toBase64(extAmounts),
  };
}

/** Merges serialized entries into a table (a borrower present in both adds up exactly). */
export function mergeSerializedBorrowers(into: BorrowerTable, s: SerializedBorrowers): void {
  const n = s.count;
  const e = s.extCount;
  into.mergePacked(
    new Uint32Array(fromBase64(s.keys, n * 16, 'borrowers.keys')),
    new Float64Array(fromBase64(s.amounts, n * 16, 'borrowers.amounts')),
    n,
    new Uint32Array(fromBase64(s.extInts, e * 12, 'borrowers.extInts')),
    new Float64Array(fromBase64(s.extAmounts, e * 8, 'borrowers.extAmounts')),
  );
}
