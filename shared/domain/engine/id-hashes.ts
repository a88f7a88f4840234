import { RiskAuditError } from '../../errors.ts';

/**
 * A list of loan-id hashes as stored between steps (a shard's earlier ids, KEYS.shardEarlierIds):
 * the bytes of a sorted BigUint64Array, little-endian, each value hi * 2^32 + lo of hash64's
 * halves, as ShardAudit's idHashes and quarantinedIdHashes hold them.
 */

/** Bytes that are not a list of 8-byte id hashes. */
export class IdHashesError extends RiskAuditError {}

/** The bytes of the hashes, sorted (little-endian uint64 each, whatever the machine's byte order). */
export function encodeIdHashes(hashes: BigUint64Array): Uint8Array {
  const sorted = hashes.slice().sort();
  const bytes = new Uint8Array(sorted.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < sorted.length; i++) view.setBigUint64(i * 8, sorted[i]!, true);
  return bytes;
}

/**
 * The hashes held in `bytes` (encodeIdHashes' output) as [hi, lo] pairs, the form the row
 * validator is seeded with; throws IdHashesError naming `name` when the length is not whole hashes.
 */
export function decodeIdHashes(bytes: Uint8Array, name: string): Uint32Array {
  if (bytes.byteLength % 8 !== 0)
    throw new IdHashesError(
      `${name} cannot be read: ${bytes.byteLength} bytes are not a whole number of 8-byte hashes`,
    );
  const n = bytes.byteLength / 8;
  const pairs = new Uint32Array(n * 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    pairs[i * 2] = view.getUint32(i * 8 + 4, true);
    pairs[i * 2 + 1] = view.getUint32(i * 8, true);
  }
  return pairs;
}
