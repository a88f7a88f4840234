import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TapePartInput, TapeScanResult } from '../adapters/tape/scan-tape.ts';
import type { PreviousTape } from '../domain/engine/previous-tape.ts';
import { defaultPolicyPaths } from '../domain/policy/policy.ts';
import { RiskAuditError } from '../errors.ts';
import { mergePreviousRanges, type PreviousRange, type ShardAudit } from '../use-cases/audit-engine.ts';
import { planShards } from '../use-cases/prepare-run.ts';
import type { PreviousJob, ShardJob, WorkerJob, WorkerReply } from './shard-worker-impl.ts';

/** Splits a local tape into about `shards` row-aligned byte ranges (at least 64 KiB each). */
export function planLocalShards(parts: readonly TapePartInput[], shards: number, snapshotDate: string) {
  const total = parts.reduce((n, p) => n + (p.bytes ?? 0), 0);
  return planShards(
    parts.map((p) => ({ key: p.key, bytes: p.bytes ?? 0, lastModified: null })),
    { runId: 'local', snapshotDate, previousSnapshotDate: null },
    Math.max(64 * 1024, Math.ceil(total / shards)),
  );
}

/** A shard's worker failed: the run fails with the worker's sentence. */
export class ShardFailedError extends RiskAuditError {}

let bundled: Promise<URL> | null = null;

/**
 * The worker's code as one ES module, bundled once per process with esbuild: a worker then starts
 * in a fraction of a second instead of transpiling every TypeScript module again through tsx
 * (about 3 s per worker on this machine). Without esbuild (a production install), the tsx
 * bootstrap is used.
 */
function workerModule(): Promise<URL> {
  bundled ??= (async () => {
    try {
      const { build } = await import('esbuild');
      const outfile = join(tmpdir(), `risk-audit-shard-worker-${process.pid}.mjs`);
      await build({
        entryPoints: [fileURLToPath(new URL('./shard-worker-impl.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        logLevel: 'silent',
        banner: {
          js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
      process.once('exit', () => rmSync(outfile, { force: true }));
      return pathToFileURL(outfile);
    } catch {
      return new URL('./shard-worker.js', import.meta.url);
    }
  })();
  return bundled;
}

/**
 * Worker threads that each run jobs in turn, the local counterpart of the Distributed Map's
 * Lambdas: `map` runs a list of jobs on at most `size` threads and returns the results in order.
 * Threads are started once and reused; `close` ends them.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];

  /** Starts building the worker bundle at once, so it is ready by the first job. */
  public constructor(private readonly size: number) {
    void workerModule();
  }

  /** Runs `jobs` on the pool; the first failure fails the whole map with the worker's sentence. */
  public async map<R>(jobs: readonly WorkerJob[]): Promise<R[]> {
    const out = new Array<R>(jobs.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      const worker = await this.take();
      try {
        while (next < jobs.length) {
          const i = next++;
          out[i] = (await this.run(worker, jobs[i]!)) as R;
        }
      } finally {
        this.idle.push(worker);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.size, jobs.length)) }, lane));
    return out;
  }

  /** Stops every thread. */
  public async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }

  private async take(): Promise<Worker> {
    const ready = this.idle.pop();
    if (ready) return ready;
    const url = await workerModule();
    // The bundle lives outside the repository: tell it where the default policy files are.
    const policyDir = process.env.POLICY_DIR ?? dirname(defaultPolicyPaths().rules);
    const worker = new Worker(url, { env: { ...process.env, POLICY_DIR: policyDir }, execArgv: [] });
    this.all.push(worker);
    return worker;
  }

  private run(worker: Worker, job: WorkerJob): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: WorkerReply): void => {
        done();
        if (reply.ok) resolve(reply.result);
        else reject(new ShardFailedError(reply.error));
      };
      const onError = (e: Error): void => {
        done();
        reject(new ShardFailedError(e.message, { cause: e }));
      };
      const onExit = (code: number): void => {
        done();
        reject(new ShardFailedError(`a shard worker stopped with exit code ${code}`));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage(job);
    });
  }
}

type ShardOutput = Pick<ShardAudit, 'partial' | 'intake' | 'quarantineLines' | 'idHashes'>;

/**
 * Reads the previous day's tape in about `ranges` row-aligned byte ranges on the pool and merges
 * them, in tape order, into one index in shared memory (equal to one pass; see
 * `mergePreviousRanges`).
 */
export async function loadPreviousInWorkers(
  pool: WorkerPool,
  parts: readonly TapePartInput[],
  options: { ranges: number; snapshotDate: string; mappingFile?: string | undefined },
): Promise<{ previous: PreviousTape; intake: TapeScanResult }> {
  const plan = planLocalShards(parts, options.ranges, options.snapshotDate);
  const jobs: PreviousJob[] = plan.map((s) => ({
    kind: 'previous',
    key: s.partKey,
    bytes: s.partBytes,
    ...(s.range ? { range: s.range } : {}),
    snapshotDate: options.snapshotDate,
    ...(options.mappingFile ? { mappingFile: options.mappingFile } : {}),
  }));
  const ranges = await pool.map<PreviousRange>(jobs);
  return mergePreviousRanges(options.snapshotDate, ranges);
}

/**
 * Audits a local tape in `shards` row-aligned byte ranges on the pool, the local counterpart of
 * the Distributed Map. Returns the shards in order, and the whole-file digests of the parts that
 * were split: hashed on the pool once the shards are done, while the caller merges them.
 */
export async function auditInWorkers(
  pool: WorkerPool,
  parts: readonly TapePartInput[],
  options: {
    shards: number;
    snapshotDate: string;
    previous: PreviousTape | null;
    mappingFile?: string | undefined;
    policyFile?: string | undefined;
  },
): Promise<{ shards: ShardOutput[]; digests: Promise<Map<string, string>> }> {
  const plan = planLocalShards(parts, options.shards, options.snapshotDate);
  // Shared memory when the index was merged here: every worker reads the same table, no copy.
  const previous = options.previous?.toTransfer() ?? null;
  const jobs: ShardJob[] = plan.map((s) => ({
    kind: 'score',
    key: s.partKey,
    bytes: s.partBytes,
    ...(s.range ? { range: s.range } : {}),
    snapshotDate: options.snapshotDate,
    ...(options.mappingFile ? { mappingFile: options.mappingFile } : {}),
    ...(options.policyFile ? { policyFile: options.policyFile } : {}),
    previous,
  }));
  const shards = await pool.map<ShardOutput>(jobs);
  const split = [...new Set(plan.filter((s) => s.range).map((s) => s.partKey))];
  const digests = pool
    .map<string>(split.map((key) => ({ kind: 'digest', key })))
    .then((hex) => new Map(split.map((key, i) => [key, hex[i]!])));
  // Not awaited here: the caller merges meanwhile. A failure still surfaces when it awaits.
  digests.catch(() => undefined);
  return { shards, digests };
}
