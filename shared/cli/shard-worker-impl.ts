import { parentPort, workerData } from 'node:worker_threads';
import { loadMapping, loadPolicy } from '../adapters/config-files.ts';
import { openLocalFile } from '../adapters/tape/local-tape-source.ts';
import type { TapePartInput } from '../adapters/tape/scan-tape.ts';
import { PreviousTape, type SerializedPreviousTape } from '../domain/engine/previous-tape.ts';
import { policyInForce } from '../domain/policy/policy.ts';
import { auditShard } from '../use-cases/audit-engine.ts';

/** What the main thread hands one worker: a shard of a local tape and how to audit it. */
export interface ShardJob {
  key: string;
  bytes: number;
  range?: { start: number; end: number };
  snapshotDate: string;
  mappingFile?: string;
  policyFile?: string;
  previous: SerializedPreviousTape | null;
}

const job = workerData as ShardJob;
const [loaded, mapping] = await Promise.all([loadPolicy(job.policyFile), loadMapping(job.mappingFile)]);
const policy = policyInForce(loaded, job.snapshotDate);
const part: TapePartInput = {
  key: job.key,
  bytes: job.bytes,
  open: async (range) => openLocalFile(job.key, range),
  ...(job.range ? { range: job.range } : {}),
};
const result = await auditShard([part], {
  snapshotDate: job.snapshotDate,
  mapping,
  policy,
  previous: job.previous === null ? null : PreviousTape.deserialize(job.previous),
  keepIdHashes: true,
});
parentPort!.postMessage(
  {
    partial: result.partial,
    intake: result.intake,
    quarantineLines: result.quarantineLines,
    idHashes: result.idHashes,
  },
  [result.idHashes.buffer as ArrayBuffer],
);
