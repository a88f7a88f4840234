import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDeps } from '../../../shared/adapters/local-deps.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../../../shared/config.ts';
import { hash64, hashOut } from '../../../shared/domain/engine/hash.ts';
import { encodeIdHashes } from '../../../shared/domain/engine/id-hashes.ts';
import { StoredPartialSchema } from '../../../shared/schema/artifacts.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import type { AuditDeps } from '../../../shared/use-cases/deps.ts';
import { scoreShard } from '../../../shared/use-cases/score-shard.ts';
import { type ShardSpec, ShardSpecSchema } from '../../../shared/use-cases/workflow-types.ts';
import { csvText, goodRow } from '../domain/tape/helpers.ts';

const date = '2026-11-25';
let root: string;
let deps: AuditDeps;
let tape: string;
let tapeBytes: number;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'risk-audit-score-shard-'));
  tape = join(root, 'tape.csv');
  // The shard's rows: L1, L2, L3, L4 (lines 2 to 5).
  const text = csvText(['L1', 'L2', 'L3', 'L4'].map((id) => goodRow({ loan_id: id })));
  await writeFile(tape, text);
  tapeBytes = Buffer.byteLength(text);
  deps = createLocalDeps({
    root,
    tapes: { [date]: tape },
    config: RuntimeConfigSchema.parse({ BUCKET_NAME: 'local', TABLE_NAME: 'local', REPORT_RECIPIENTS: '' }),
    secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function shard(over: Partial<ShardSpec> = {}): ShardSpec {
  return ShardSpecSchema.parse({
    runId: 'r1',
    snapshotDate: date,
    previousSnapshotDate: null,
    index: 1,
    partKey: tape,
    partBytes: tapeBytes,
    ...over,
  });
}

/** The ids' 64-bit hashes as an earlier-ids artifact holds them (hi * 2^32 + lo). */
function hashesOf(ids: string[]): BigUint64Array {
  return BigUint64Array.from(
    ids.map((id) => {
      hash64(id);
      return (BigInt(hashOut.hi) << 32n) | BigInt(hashOut.lo);
    }),
  );
}

async function text(key: string): Promise<string> {
  return Buffer.from((await deps.artifacts.get(key))!).toString('utf8');
}

describe("Function: scoreShard (earlier shards' ids)", () => {
  it('quarantines the rows of ids an earlier shard held, without calling them first quarantined', async () => {
    // Prepare: earlier shards held L2 and L4 (and L9, not in this shard).
    const key = KEYS.shardEarlierIds(date, 'r1', 1);
    await deps.artifacts.put(key, encodeIdHashes(hashesOf(['L4', 'L2', 'L9'])), 'application/octet-stream');

    // Act
    const result = await scoreShard(shard({ earlierIdsKey: key }), deps);

    // Assess: lines 3 (L2) and 5 (L4) are repeats; L1 and L3 are scored.
    expect(result).toMatchObject({ index: 1, rowsRead: 4, rowsQuarantined: 2 });
    const quarantined = (await text(KEYS.partialQuarantine(date, 'r1', 1))).trimEnd().split('\n');
    expect(quarantined.map((l) => l.split(',').slice(0, 3))).toEqual([
      ['3', tape, 'DUPLICATE_LOAN_ID'],
      ['5', tape, 'DUPLICATE_LOAN_ID'],
    ]);
    const stored = StoredPartialSchema.parse(JSON.parse(await text(result.partialKey)));
    expect(stored.intake).toMatchObject({ rowsValid: 2, duplicateLoanIds: 2 });
    expect(stored.quarantinedIdHashes).toEqual([]);
  });

  it('quarantines nothing of the same rows without an earlierIdsKey', async () => {
    // Act
    const result = await scoreShard(shard(), deps);

    // Assess
    expect(result).toMatchObject({ rowsRead: 4, rowsQuarantined: 0 });
  });

  it('fails the shard in one sentence naming the key when the artifact is missing', async () => {
    // Prepare
    const key = KEYS.shardEarlierIds(date, 'r1', 1);

    // Act / Assess
    await expect(scoreShard(shard({ earlierIdsKey: key }), deps)).rejects.toThrow(
      `the loan-id hashes of shard 1's earlier shards are missing (${key})`,
    );
  });

  it('fails the shard in one sentence naming the key when the artifact is not whole hashes', async () => {
    // Prepare: 12 bytes.
    const key = KEYS.shardEarlierIds(date, 'r1', 1);
    await deps.artifacts.put(key, new Uint8Array(12), 'application/octet-stream');

    // Act / Assess
    await expect(scoreShard(shard({ earlierIdsKey: key }), deps)).rejects.toThrow(
      `the loan-id hashes of shard 1's earlier shards (${key}) cannot be read: 12 bytes are not a whole number of 8-byte hashes`,
    );
  });
});
