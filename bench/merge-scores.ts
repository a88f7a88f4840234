/**
 * The loan-id bucket's merge alone, per thread: a two-day book scored by the workflow's own steps
 * over local files (prepare, the shards, merge-audit, finalize, as `risk-audit score` runs them),
 * with `mergeScoreBucket` timed on its own for each date: day one merges the shards' score files
 * (the book's baseline), day two also joins them with day one's file and writes the changes.
 * One bucket, run on the main thread (a one-item map; the shards on worker threads): the merge
 * alone, in wall and CPU seconds (CPU counts zlib's threads too).
 * Run alone: `npx tsx bench/merge-scores.ts [loans] [shards]`.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { FsArtifactStore } from '../shared/adapters/fs-artifact-store.ts';
import type { LocalDepsSpec } from '../shared/adapters/local-deps.ts';
import { localStepsOnThreads } from '../shared/cli/commands/score.ts';
import { runWorkflowLocally } from '../shared/cli/local-runner.ts';
import { runLocalStep } from '../shared/cli/local-steps.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../shared/config.ts';
import type { BucketResult } from '../shared/use-cases/workflow-types.ts';
import { twoDayBook } from './score.ts';

interface DayFigures {
  loans: number;
  wallSeconds: number;
  cpuSeconds: number;
  loansPerSecond: number;
  loansPerCpuSecond: number;
  changes: number;
}

/** Times the bucket merge of both dates of a two-day book of `loans` loans cut into `shards`. */
export async function benchMergeScores(opts: {
  loans: number;
  dir: string;
  shards?: number;
}): Promise<Record<string, unknown>> {
  const book = await twoDayBook(opts.loans, opts.dir);
  const root = await mkdtemp(join(tmpdir(), 'risk-audit-bench-merge-'));
  const shards = opts.shards ?? 4;
  try {
    const spec: LocalDepsSpec = {
      root,
      tapes: { '2026-11-24': book.day1, '2026-11-25': book.day2 },
      config: RuntimeConfigSchema.parse({
        BUCKET_NAME: 'local',
        TABLE_NAME: 'local',
        TAPE_CUTOFF: '23:59',
        TIMEZONE: 'UTC',
        REPORT_RECIPIENTS: '',
      }),
      secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
    };
    spec.config.SHARD_BYTES = Math.ceil(statSync(book.day1).size / shards);
    const days: Record<string, DayFigures> = {};
    let previous: string | undefined;
    for (const date of ['2026-11-24', '2026-11-25']) {
      let figures: DayFigures | null = null;
      // The workflow as `risk-audit score` runs it; its one bucket runs in this thread, timed alone.
      const result = await runWorkflowLocally(
        { snapshotDate: date, trigger: 'local', ...(previous ? { previousSnapshotDate: previous } : {}) },
        {
          sendReport: false,
          dataBucket: new FsArtifactStore(join(root, 'artifacts')),
          // The shards on worker threads with the same local ports, as `risk-audit score` runs them.
          mapFunction: (threads) => localStepsOnThreads(threads, spec),
          runFunction: async (fn, event) => {
            if (fn !== 'merge-scores') return runLocalStep(fn, event, spec);
            globalThis.gc?.();
            if (process.env.BENCH_WINDOWS) process.stderr.write(`window ${process.hrtime.bigint() / 1000n} `);
            const cpu0 = process.cpuUsage();
            const t0 = performance.now();
            const r = (await runLocalStep(fn, event, spec)) as BucketResult;
            const wallSeconds = (performance.now() - t0) / 1000;
            const cpu = process.cpuUsage(cpu0);
            if (process.env.BENCH_WINDOWS) process.stderr.write(`${process.hrtime.bigint() / 1000n}\n`);
            const cpuSeconds = (cpu.user + cpu.system) / 1e6;
            figures = {
              loans: r.loans,
              wallSeconds: Math.round(wallSeconds * 100) / 100,
              cpuSeconds: Math.round(cpuSeconds * 100) / 100,
              loansPerSecond: Math.round(r.loans / wallSeconds),
              loansPerCpuSecond: Math.round(r.loans / cpuSeconds),
              changes: r.changes,
            };
            return r;
          },
        },
      );
      if (!result.ok) throw new Error(`the run of ${date} failed: ${JSON.stringify(result).slice(0, 400)}`);
      if (figures === null) throw new Error(`the run of ${date} failed or merged no bucket in this thread`);
      days[date] = figures;
      previous = date;
    }
    return { loans: opts.loans, shards, loadAverage1m: Math.round(loadavg()[0]! * 10) / 10, days };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const shards = Number(process.argv[3] ?? 4);
  const dir = process.env.BENCH_DATA ?? join(import.meta.dirname, '.data');
  const result = await benchMergeScores({ loans, dir, shards });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
