/**
 * One Distributed Map shard as the score-shard Lambda runs it (`scoreShard`: read a row-aligned
 * byte range, validate, score every loan, sort and gzip the score file, write the partial), on
 * local files, at several shard sizes: wall and CPU time, rows/s and peak RSS per shard. These
 * are the measurements behind the scale plan in the README (shard size, Lambda memory, time and
 * cost per million loans). Each shard runs in its own process so its peak RSS is its own.
 * Run alone: `npx tsx bench/shard.ts [MiB,MiB,...]` (needs the 10M-loan book of bench/score.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMapping, loadPolicy } from '../shared/adapters/config-files.ts';
import { FsArtifactStore } from '../shared/adapters/fs-artifact-store.ts';
import { LocalTapeSource, localTapeParts } from '../shared/adapters/tape/local-tape-source.ts';
import { loadConfig } from '../shared/config.ts';
import { encodePreviousIndex } from '../shared/domain/engine/previous-tape.ts';
import { KEYS } from '../shared/schema/tables.ts';
import { loadPreviousTape } from '../shared/use-cases/audit-engine.ts';
import type { AuditDeps } from '../shared/use-cases/deps.ts';
import { scoreShard } from '../shared/use-cases/score-shard.ts';
import { twoDayBook } from './score.ts';

const RUN_ID = 'bench-shard';
const DATE = '2026-11-25';

interface ShardMeasurement {
  mib: number;
  rows: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

function notUsed(what: string): never {
  throw new Error(`${what} is not used by a shard`);
}

/** The child side: one shard of `tape` starting at byte 0 and `mib` MiB long. */
async function measureShard(tape: string, artifactsDir: string, mib: number): Promise<ShardMeasurement> {
  const bytes = statSync(tape).size;
  const deps: AuditDeps = {
    config: loadConfig({
      BUCKET_NAME: 'bench',
      TABLE_NAME: 'bench',
      REPORT_SENDER: 'bench@example.com',
      REPORT_RECIPIENTS: 'bench@example.com',
    }),
    tapes: new LocalTapeSource(tape),
    artifacts: new FsArtifactStore(artifactsDir),
    store: new Proxy({}, { get: () => notUsed('the risk store') }) as AuditDeps['store'],
    mailer: new Proxy({}, { get: () => notUsed('the mailer') }) as AuditDeps['mailer'],
    secrets: new Proxy({}, { get: () => notUsed('a secret') }) as AuditDeps['secrets'],
    policy: () => loadPolicy(undefined),
    mapping: () => loadMapping(undefined),
    now: () => new Date(),
    metrics: { count: () => undefined },
  };
  // A middle range (not the first, which also holds the header), as most shards are.
  const start = Math.min(bytes - mib * 2 ** 20, mib * 2 ** 20);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = await scoreShard(
    {
      runId: RUN_ID,
      snapshotDate: DATE,
      previousSnapshotDate: '2026-11-24',
      index: 1,
      scoreBuckets: 1,
      partKey: tape,
      partBytes: bytes,
      range: { start, end: start + mib * 2 ** 20 },
    },
    deps,
  );
  const cpu = process.cpuUsage(c0);
  return {
    mib,
    rows: result.rowsRead,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** Shards of each size in `mibs` of the 10M-loan book's second day, with its previous-day index. */
export async function benchShard(opts: { dir: string; mibs: number[] }): Promise<Record<string, unknown>> {
  const book = await twoDayBook(10_000_000, opts.dir);
  const artifacts = join(opts.dir, 'shard-artifacts');
  mkdirSync(artifacts, { recursive: true });
  // The previous-day index a shard downloads (built by the prepare step on AWS).
  const t0 = performance.now();
  const prev = await loadPreviousTape(await localTapeParts(book.day1), { snapshotDate: '2026-11-24' });
  const index = encodePreviousIndex(prev.previous, { intake: prev.intake });
  await new FsArtifactStore(artifacts).put(KEYS.previousIndex(DATE, RUN_ID), index);
  const prepareSeconds = (performance.now() - t0) / 1000;
  const shards = opts.mibs.map((mib) => {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        new URL(import.meta.url).pathname,
        '--measure',
        book.day2,
        artifacts,
        String(mib),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const m = JSON.parse(out.trim().split('\n').at(-1)!) as ShardMeasurement;
    return {
      ...m,
      wallSeconds: Math.round(m.wallSeconds * 10) / 10,
      cpuSeconds: Math.round(m.cpuSeconds * 10) / 10,
      rowsPerSecond: Math.round(m.rows / m.wallSeconds),
      peakRssMb: Math.round(m.peakRssMb),
    };
  });
  return {
    machine: {
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      node: process.version,
    },
    previousIndex: {
      loans: prev.previous.loanCount,
      mb: Math.round(index.byteLength / 1e5) / 10,
      buildSeconds: Math.round(prepareSeconds * 10) / 10,
    },
    shards,
  };
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (self && process.argv[2] === '--measure') {
  const m = await measureShard(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else if (self) {
  const mibs = (process.argv[2] ?? '64,128,256').split(',').map(Number);
  const result = await benchShard({ dir: join(import.meta.dirname, '.data'), mibs });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
