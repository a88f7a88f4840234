import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { hash64, hashOut } from '../../../../shared/domain/engine/hash.ts';
import { decodeIdHashes, encodeIdHashes, IdHashesError } from '../../../../shared/domain/engine/id-hashes.ts';
import { auditShard } from '../../../../shared/domain/engine/shard-audit.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../tape/helpers.ts';
import { defaultPolicy } from './helpers.ts';

describe('Function: encodeIdHashes', () => {
  it('writes the hashes sorted, each as 8 little-endian bytes', () => {
    // Prepare: hi 2 lo 1, then hi 1 lo 3 (out of order).
    const hashes = BigUint64Array.of(0x0000000200000001n, 0x0000000100000003n);

    // Act
    const bytes = encodeIdHashes(hashes);

    // Assess
    expect([...bytes]).toEqual([3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
    expect([...hashes]).toEqual([0x0000000200000001n, 0x0000000100000003n]);
  });
});

describe('Function: decodeIdHashes', () => {
  it('reads the hashes back as [hi, lo] pairs', () => {
    // Prepare
    const bytes = Uint8Array.of(3, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0x80, 2, 0, 0, 0);

    // Act
    const pairs = decodeIdHashes(bytes, 'the hashes');

    // Assess
    expect([...pairs]).toEqual([1, 3, 2, 0x800000ff]);
    expect(decodeIdHashes(new Uint8Array(0), 'none')).toHaveLength(0);
  });

  it('reads the bytes of a view into a larger buffer', () => {
    // Prepare: one hash (hi 5, lo 4) after 3 unrelated bytes.
    const buffer = Uint8Array.of(9, 9, 9, 4, 0, 0, 0, 5, 0, 0, 0);

    // Act
    const pairs = decodeIdHashes(buffer.subarray(3), 'the hashes');

    // Assess
    expect([...pairs]).toEqual([5, 4]);
  });

  it('refuses bytes that are not whole 8-byte hashes, in one sentence naming them', () => {
    // Act / Assess
    expect(() => decodeIdHashes(new Uint8Array(12), 'runs/x/00001.earlier-ids.bin')).toThrow(IdHashesError);
    expect(() => decodeIdHashes(new Uint8Array(12), 'runs/x/00001.earlier-ids.bin')).toThrow(
      'runs/x/00001.earlier-ids.bin cannot be read: 12 bytes are not a whole number of 8-byte hashes',
    );
  });

  it("gives hash64's halves of the ids a shard's quarantinedIdHashes hold", async () => {
    // Prepare: L9's first row is quarantined (negative principal), L1 is valid.
    const rows = [goodRow({ loan_id: 'L1' }), goodRow({ loan_id: 'L9', principal: '-5' })];
    const shard = await auditShard(nodeTapeDecoder, [memoryPart('t.csv', csvText(rows))], {
      snapshotDate: '2026-11-25',
      policy: defaultPolicy(),
      previous: null,
      quarantine: collectQuarantine(),
    });
    hash64('L9');

    // Act
    const pairs = decodeIdHashes(encodeIdHashes(shard.quarantinedIdHashes), 'the hashes');

    // Assess
    expect([...pairs]).toEqual([hashOut.hi, hashOut.lo]);
  });
});
