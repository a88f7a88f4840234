import { createHmac } from 'node:crypto';

/** High and low 32-bit halves of the last `hash64` call (module state avoids allocating a pair). */
export const hashOut = { hi: 0, lo: 0 };

/**
 * 64-bit non-cryptographic hash of a string (cyrb53 mixing kept at two full 32-bit lanes), written
 * to `hashOut`. Ids are interned by this hash; at a million distinct ids the chance of any collision
 * is about 3e-8. The pair (0, 0) is reserved for "empty slot" and mapped to (0, 1).
 */
export function hash64(s: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  hashOut.hi = h1 >>> 0;
  hashOut.lo = h2 >>> 0;
  if (hashOut.hi === 0 && hashOut.lo === 0) hashOut.lo = 1;
}

/** Puts an id's 64-bit hash in `hashOut`: (hi, lo) when the caller already has it, else hash64(id). */
export function hashOrGiven(id: string, hi: number | undefined, lo: number | undefined): void {
  if (hi === undefined || lo === undefined) {
    hash64(id);
    return;
  }
  hashOut.hi = hi;
  hashOut.lo = lo;
}

/** The 64-bit hash of an id as 16 hex digits (the engine's internal borrower key). */
export function hashKey(hi: number, lo: number): string {
  // Hex digits written into one reused buffer: a string made per loan, and nothing else (two
  // toString(16) and padStart made five and cost twice the time).
  for (let i = 0; i < 8; i++) {
    KEY_BYTES[7 - i] = HEX_DIGITS[(hi >>> (4 * i)) & 15]!;
    KEY_BYTES[15 - i] = HEX_DIGITS[(lo >>> (4 * i)) & 15]!;
  }
  return KEY_BYTES.toString('latin1', 0, 16);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const KEY_BYTES = Buffer.alloc(16);

/** The internal key of a borrower id: 16 hex digits of its 64-bit hash (never shown to people). */
export function borrowerKey(borrowerId: string): string {
  hash64(borrowerId);
  return hashKey(hashOut.hi, hashOut.lo);
}

/**
 * The reference shown in reports for a borrower: `b_` + 16 hex digits of HMAC-SHA256(key, the
 * borrower's 64-bit hash). The engine keeps only hashes, so reports can name the largest borrowers
 * without the raw id; anyone holding the key can recompute the reference from a borrower id.
 */
export function borrowerRefFromKey(internalKey: string, refKey: string): string {
  return `b_${createHmac('sha256', refKey).update(internalKey).digest('hex').slice(0, 16)}`;
}

/** The report reference of a raw borrower id (same value as `borrowerRefFromKey(borrowerKey(id))`). */
export function borrowerRef(borrowerId: string, refKey: string): string {
  return borrowerRefFromKey(borrowerKey(borrowerId), refKey);
}
