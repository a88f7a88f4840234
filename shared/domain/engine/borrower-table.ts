import { hashOut } from './hash.ts';

/** Bit of `types` for each borrower type seen on a borrower's loans. */
export const TYPE_INDIVIDUAL = 1;
export const TYPE_ENTERPRISE = 2;

/**
 * Per-borrower exposure keyed by the 64-bit hash of borrower_id, in parallel typed arrays with
 * open addressing (linear probing, load factor at most 0.75). Each slot holds 33 bytes (key 8,
 * exposure in fen 8, loan count 4, highest known income 8, type bits 1, loan-rule bits 4), so a
 * borrower costs 44 to 88 bytes, with no object per borrower. Every field merges exactly and
 * commutatively: fen and counts add (integers), income takes the max, bits are OR-ed.
 */
export class BorrowerTable {
  public size = 0;
  private mask: number;
  public k1: Uint32Array;
  public k2: Uint32Array;
  /** Sum of outstanding in fen (integers, exact below 2^53). */
  public exposure: Float64Array;
  public loans: Uint32Array;
  /** Highest annual income reported on any of the borrower's loans, or -1 when none is known. */
  public income: Float64Array;
  public types: Uint8Array;
  /** Bit i set when a loan of the borrower hit the i-th enabled loan rule. */
  public rules: Uint32Array;

  public constructor(expected = 1024) {
    let cap = 1024;
    while (cap * 0.75 < expected) cap *= 2;
    this.mask = cap - 1;
    this.k1 = new Uint32Array(cap);
    this.k2 = new Uint32Array(cap);
    this.exposure = new Float64Array(cap);
    this.loans = new Uint32Array(cap);
    this.income = new Float64Array(cap).fill(-1);
    this.types = new Uint8Array(cap);
    this.rules = new Uint32Array(cap);
  }

  /** Number of slots (for iteration: a slot is used when k1 or k2 is non-zero). */
  public get capacity(): number {
    return this.mask + 1;
  }

  /** Slot of the borrower whose hash is in `hashOut`, inserting it when new. */
  public slotOfHash(): number {
    const h1 = hashOut.hi;
    const h2 = hashOut.lo;
    return this.slotOf(h1, h2);
  }

  /** Slot of the borrower with hash (h1, h2), inserting it when new. */
  public slotOf(h1: number, h2: number): number {
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask;
    for (;;) {
      const a = this.k1[i]!;
      const b = this.k2[i]!;
      if (a === h1 && b === h2) return i;
      if (a === 0 && b === 0) {
        if ((this.size + 1) * 4 > this.capacity * 3) {
          this.grow();
          return this.slotOf(h1, h2);
        }
        this.k1[i] = h1;
        this.k2[i] = h2;
        this.size++;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Adds one borrower's merged state (from another shard) into this table. */
  public mergeEntry(
    h1: number,
    h2: number,
    exposure: number,
    loans: number,
    income: number,
    types: number,
    rules: number,
  ): void {
    const s = this.slotOf(h1, h2);
    this.exposure[s] = this.exposure[s]! + exposure;
    this.loans[s] = this.loans[s]! + loans;
    if (income > this.income[s]!) this.income[s] = income;
    this.types[s] = this.types[s]! | types;
    this.rules[s] = (this.rules[s]! | rules) >>> 0;
  }

  private grow(): void {
    const old = {
      k1: this.k1,
      k2: this.k2,
      exposure: this.exposure,
      loans: this.loans,
      income: this.income,
      types: this.types,
      rules: this.rules,
    };
    const cap = this.capacity * 2;
    this.mask = cap - 1;
    this.size = 0;
    this.k1 = new Uint32Array(cap);
    this.k2 = new Uint32Array(cap);
    this.exposure = new Float64Array(cap);
    this.loans = new Uint32Array(cap);
    this.income = new Float64Array(cap).fill(-1);
    this.types = new Uint8Array(cap);
    this.rules = new Uint32Array(cap);
    for (let i = 0; i < old.k1.length; i++) {
      const a = old.k1[i]!;
      const b = old.k2[i]!;
      if (a === 0 && b === 0) continue;
      const s = this.slotOf(a, b);
      this.exposure[s] = old.exposure[i]!;
      this.loans[s] = old.loans[i]!;
      this.income[s] = old.income[i]!;
      this.types[s] = old.types[i]!;
      this.rules[s] = old.rules[i]!;
    }
  }
}

/** Compact, JSON-safe form of a borrower table: its used entries as base64 little-endian arrays. */
export interface SerializedBorrowers {
  count: number;
  k1: string;
  k2: string;
  exposureFen: string;
  loans: string;
  income: string;
  types: string;
  rules: string;
}

function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function fromBase64(text: string, bytesPer: number, count: number, field: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== bytesPer * count) {
    throw new Error(
      `invalid partial audit: borrowers.${field} holds ${bytes.byteLength} bytes, expected ${bytesPer * count}`,
    );
  }
  // Copy into a fresh, aligned buffer: Buffer.from may return a slice of a shared pool.
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** Packs a table's used entries for a partial audit. */
export function serializeBorrowers(t: BorrowerTable): SerializedBorrowers {
  const n = t.size;
  const k1 = new Uint32Array(n);
  const k2 = new Uint32Array(n);
  const exposure = new Float64Array(n);
  const loans = new Uint32Array(n);
  const income = new Float64Array(n);
  const types = new Uint8Array(n);
  const rules = new Uint32Array(n);
  let j = 0;
  for (let i = 0; i < t.capacity; i++) {
    const a = t.k1[i]!;
    const b = t.k2[i]!;
    if (a === 0 && b === 0) continue;
    k1[j] = a;
    k2[j] = b;
    exposure[j] = t.exposure[i]!;
    loans[j] = t.loans[i]!;
    income[j] = t.income[i]!;
    types[j] = t.types[i]!;
    rules[j] = t.rules[i]!;
    j++;
  }
  return {
    count: n,
    k1: toBase64(k1),
    k2: toBase64(k2),
    exposureFen: toBase64(exposure),
    loans: toBase64(loans),
    income: toBase64(income),
    types: toBase64(types),
    rules: toBase64(rules),
  };
}

/** Merges serialized entries into a table (a borrower present in both adds up exactly). */
export function mergeSerializedBorrowers(into: BorrowerTable, s: SerializedBorrowers): void {
  const n = s.count;
  const k1 = new Uint32Array(fromBase64(s.k1, 4, n, 'k1'));
  const k2 = new Uint32Array(fromBase64(s.k2, 4, n, 'k2'));
  const exposure = new Float64Array(fromBase64(s.exposureFen, 8, n, 'exposureFen'));
  const loans = new Uint32Array(fromBase64(s.loans, 4, n, 'loans'));
  const income = new Float64Array(fromBase64(s.income, 8, n, 'income'));
  const types = new Uint8Array(fromBase64(s.types, 1, n, 'types'));
  const rules = new Uint32Array(fromBase64(s.rules, 4, n, 'rules'));
  for (let i = 0; i < n; i++) {
    into.mergeEntry(k1[i]!, k2[i]!, exposure[i]!, loans[i]!, income[i]!, types[i]!, rules[i]!);
  }
}
