import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openLocalFile } from '../adapters/tape/local-tape-source.ts';
import type { TapePartInput } from '../adapters/tape/scan-tape.ts';
import type { PreviousTape } from '../domain/engine/previous-tape.ts';
import { defaultPolicyPaths } from '../domain/policy/policy.ts';
import { RiskAuditError } from '../errors.ts';
import type { ShardAudit } from '../use-cases/audit-engine.ts';
import { planShards } from '../use-cases/prepare-run.ts';
import type { ShardJob } from './shard-worker-impl.ts';

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

async function runWorker(
  job: ShardJob,
): Promise<Pick<ShardAudit, 'partial' | 'intake' | 'quarantineLines' | 'idHashes'>> {
  const url = await workerModule();
  // The bundle lives outside the repository: tell it where the default policy files are.
  const policyDir = process.env.POLICY_DIR ?? dirname(defaultPolicyPaths().rules);
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: job, env: { ...process.env, POLICY_DIR: policyDir } });
    let settled = false;
    worker.once('message', (m) => {
      settled = true;
      resolve(m);
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e instanceof RiskAuditError ? e : new ShardFailedError(e.message, { cause: e }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new ShardFailedError(`a shard worker stopped with exit code ${code}`));
    });
  });
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of openLocalFile(path)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Audits a local tape in `shards` row-aligned byte ranges on worker threads (at most `workers`
 * at once), the local counterpart of the Distributed Map. Returns the shards in order plus the
 * whole-file digests of the parts that were split.
 */
export async function auditInWorkers(
  parts: readonly TapePartInput[],
  options: {
    shards: number;
    workers: number;
    snapshotDate: string;
    previous: PreviousTape | null;
    mappingFile?: string | undefined;
    policyFile?: string | undefined;
  },
): Promise<{
  shards: Pick<ShardAudit, 'partial' | 'intake' | 'quarantineLines' | 'idHashes'>[];
  digests: Map<string, string>;
}> {
  const plan = planLocalShards(parts, options.shards, options.snapshotDate);
  const previous = options.previous?.serialize() ?? null;
  const jobs: ShardJob[] = plan.map((s) => ({
    key: s.partKey,
    bytes: s.partBytes,
    ...(s.range ? { range: s.range } : {}),
    snapshotDate: options.snapshotDate,
    ...(options.mappingFile ? { mappingFile: options.mappingFile } : {}),
    ...(options.policyFile ? { policyFile: options.policyFile } : {}),
    previous,
  }));
  const split = [...new Set(plan.filter((s) => s.range).map((s) => s.partKey))];
  const digests = new Map<string, string>();
  const hashing = Promise.all(split.map(async (key) => digests.set(key, await sha256Of(key))));
  const out = new Array<Pick<ShardAudit, 'partial' | 'intake' | 'quarantineLines' | 'idHashes'>>(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await runWorker(jobs[i]!);
    }
  };
  await Promise.all([
    ...Array.from({ length: Math.max(1, Math.min(options.workers, jobs.length)) }, lane),
    hashing,
  ]);
  return { shards: out, digests };
}
