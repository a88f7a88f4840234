/**
 * One Distributed Map shard as the score-shard Lambda runs it (`scoreShard`: read a row-aligned
 * byte range, validate, score every loan, sort and gzip the score file, write the partial), on
 * local files, at several shard sizes and in books of several sizes (the previous date's drift
 * index a shard loads on a night the shards count drift grows with the book): wall and CPU time,
 * rows/s and peak RSS per shard, and for the sizes in `bare` the same shard as a night whose
 * loan-id buckets count drift runs it (`driftInBuckets`: no index loaded), so that the index's
 * share of a shard's memory is measured on its own. These are the measurements behind
 * the scale plan in the README and the shard term of the memory model (domain/plan/memory.ts).
 * Each shard runs in its own process so its peak RSS is its own.
 * Run alone: `npx tsx bench/shard.ts [MiB,MiB,...] [loans,loans,...]` (books of bench/score.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMapping, loadPolicy } from '../shared/adapters/config-files.ts';
import { FsArtifactStore } from '../shared/adapters/fs-artifact-store.ts';
import { nodeGzip } from '../shared/adapters/gzip.ts';
import { LocalTapeSource, localTapeParts } from '../shared/adapters/tape/local-tape-source.ts';
import { nodeTapeDecoder } from '../shared/adapters/tape/read-tape.ts';
import { loadConfig } from '../shared/config.ts';
import { loadPreviousTape } from '../shared/domain/engine/previous-scan.ts';
import { encodePreviousIndex } from '../shared/domain/engine/previous-tape.ts';
import { KEYS } from '../shared/schema/tables.ts';
import type { AuditDeps } from '../shared/use-cases/deps.ts';
import { scoreShard } from '../shared/use-cases/score-shard.ts';
import { twoDayBook } from './score.ts';

const RUN_ID = 'bench-shard';
const DATE = '2026-11-25';

interface ShardMeasurement {
  mib: number;
  /** Whether the shard loaded the previous date's drift index (else the buckets count drift). */
  previousIndex: boolean;
  rows: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

function notUsed(what: string): never {
  throw new Error(`${what} is not used by a shard`);
}

/** The child side: one shard of `tape`, `mib` MiB long, with the previous date's index or with drift in the buckets. */
async function measureShard(
  tape: string,
  artifactsDir: string,
  mib: number,
  withIndex: boolean,
): Promise<ShardMeasurement> {
  const bytes = statSync(tape).size;
  const deps: AuditDeps = {
    config: loadConfig({
      BUCKET_NAME: 'bench',
      TABLE_NAME: 'bench',
      REPORT_SENDER: 'bench@example.com',
      REPORT_RECIPIENTS: 'bench@example.com',
    }),
    tapes: new LocalTapeSource(tape),
    tapeDecoder: nodeTapeDecoder,
    gzip: nodeGzip,
    artifacts: new FsArtifactStore(artifactsDir),
    store: new Proxy({}, { get: () => notUsed('the risk store') }) as AuditDeps['store'],
    mailer: new Proxy({}, { get: () => notUsed('the mailer') }) as AuditDeps['mailer'],
    reports: null,
    quarantineSamples: new Proxy(
      {},
      { get: () => notUsed('the quarantine sample') },
    ) as AuditDeps['quarantineSamples'],
    secrets: new Proxy({}, { get: () => notUsed('a secret') }) as AuditDeps['secrets'],
    policy: () => loadPolicy(undefined),
    mapping: () => loadMapping(undefined),
    now: () => new Date(),
    metrics: { count: () => undefined },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
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
      ...(withIndex ? {} : { driftInBuckets: true as const }),
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
    previousIndex: withIndex,
    rows: result.rowsRead,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** One book's shards: each size in `mibs` (up to the tape's size) with its previous-day index, those in `bare` without. */
async function bookShards(dir: string, loans: number, mibs: number[], bare: number[]) {
  const book = await twoDayBook(loans, dir);
  const artifacts = join(dir, `shard-artifacts-${loans}`);
  mkdirSync(artifacts, { recursive: true });
  // The previous-day index a shard downloads (built by the prepare step on AWS).
  const t0 = performance.now();
  const prev = await loadPreviousTape(nodeTapeDecoder, await localTapeParts(book.day1), {
    snapshotDate: '2026-11-24',
  });
  const index = encodePreviousIndex(prev.previous, { intake: prev.intake });
  await new FsArtifactStore(artifacts).put(KEYS.previousIndex(DATE, RUN_ID), index);
  const prepareSeconds = (performance.now() - t0) / 1000;
  const tapeMib = statSync(book.day2).size / 2 ** 20;
  const runs = [
    ...mibs.filter((mib) => mib <= tapeMib).map((mib) => ({ mib, withIndex: true })),
    ...bare.filter((mib) => mib <= tapeMib).map((mib) => ({ mib, withIndex: false })),
  ];
  const shards = runs.map(({ mib, withIndex }) => {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        new URL(import.meta.url).pathname,
        '--measure',
        book.day2,
        artifacts,
        String(mib),
        String(withIndex),
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
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
    };
  });
  return {
    loans,
    previousIndex: {
      loans: prev.previous.loanCount,
      mb: Math.round(index.byteLength / 1e5) / 10,
      buildSeconds: Math.round(prepareSeconds * 10) / 10,
    },
    shards,
  };
}

/** Shards of each size in `mibs` of each book's second day, with its previous-day index (and without, for `bare`). */
export async function benchShard(opts: {
  dir: string;
  mibs: number[];
  books?: number[];
  bare?: number[];
}): Promise<Record<string, unknown>> {
  const books = [];
  for (const loans of opts.books ?? [10_000_000])
    books.push(await bookShards(opts.dir, loans, opts.mibs, opts.bare ?? [128]));
  return {
    machine: {
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      node: process.version,
    },
    books,
  };
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (self && process.argv[2] === '--measure') {
  const m = await measureShard(
    process.argv[3]!,
    process.argv[4]!,
    Number(process.argv[5]),
    process.argv[6] !== 'false',
  );
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else if (self) {
  const mibs = (process.argv[2] ?? '64,128,256').split(',').map(Number);
  const books = (process.argv[3] ?? '10000000').split(',').map(Number);
  const result = await benchShard({ dir: join(import.meta.dirname, '.data'), mibs, books });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
