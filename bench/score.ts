/**
 * The full engine as a user runs it: `risk-audit score` on a generated two-day book (CSV, with the
 * previous day for drift), read + parse + validate + score + aggregate + finalize, with 1 and 2
 * worker threads; optionally a 10,000,000-loan book. Each run is its own process. Two ways to
 * give the previous day: its tape (read and validated again), and the drift index its own run
 * wrote (`--index-out`, the nightly case). Configurations take turns, best of `runs` each, so a
 * slow minute of this machine does not fall on one of them only. Two independent nightly runs at
 * once (no threads) measure the ceiling that two workers are held against.
 * Run alone: `npx tsx bench/score.ts [loans]`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { generateTape } from '../shared/cli/commands/generate.ts';

interface ChildResult {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  loans: number;
  status: string;
  /** Wall milliseconds of each phase of scoreLocal. */
  phases: Record<string, number>;
}

const childArgs = (args: string[]) => [
  '--import',
  'tsx',
  join(import.meta.dirname, 'score-child.ts'),
  ...args,
];
const childOptions = {
  encoding: 'utf8' as const,
  maxBuffer: 1 << 20,
  env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
};
const run = promisify(execFile);
const parse = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as ChildResult;

function runChild(args: string[]): ChildResult {
  return parse(execFileSync(process.execPath, childArgs(args), childOptions));
}

/** One run's arguments, or several runs started at the same time (the slowest one counts). */
type Config = string[] | { together: string[][] };

async function runConfig(config: Config): Promise<ChildResult> {
  if (Array.isArray(config)) return runChild(config);
  const runs = await Promise.all(
    config.together.map(async (args) =>
      parse((await run(process.execPath, childArgs(args), childOptions)).stdout),
    ),
  );
  return runs.reduce((a, b) => (b.wallSeconds > a.wallSeconds ? b : a));
}

/** Best of `runs` for each configuration, the configurations interleaved run by run. */
async function bestInTurns(runs: number, configs: Config[]): Promise<ChildResult[]> {
  const winners: (ChildResult | null)[] = configs.map(() => null);
  for (let i = 0; i < runs; i++) {
    for (const [k, config] of configs.entries()) {
      const r = await runConfig(config);
      if (winners[k] === null || r.wallSeconds < winners[k]!.wallSeconds) winners[k] = r;
    }
  }
  return winners as ChildResult[];
}

/** Generates (or reuses) a two-day book of `loans` loans as CSV in `dir`. */
export async function twoDayBook(
  loans: number,
  dir: string,
): Promise<{ day1: string; day2: string; seconds: number }> {
  mkdirSync(dir, { recursive: true });
  const day1 = join(dir, `book-${loans}-d1.csv`);
  const day2 = join(dir, `book-${loans}-d2.csv`);
  const t0 = performance.now();
  if (!existsSync(day1)) await generateTape({ loans, date: '2026-11-24', seed: '7', out: day1 });
  if (!existsSync(day2)) await generateTape({ from: day1, date: '2026-11-25', seed: '7', out: day2 });
  return { day1, day2, seconds: (performance.now() - t0) / 1000 };
}

const summarize = (r: ChildResult) => ({
  loans: r.loans,
  wallSeconds: Math.round(r.wallSeconds * 100) / 100,
  cpuSeconds: Math.round(r.cpuSeconds * 100) / 100,
  loansPerSecond: Math.round(r.loans / r.wallSeconds),
  peakRssMb: Math.round(r.peakRssMb),
  phasesMs: r.phases,
});

/** `risk-audit score` with 1 and 2 workers on a two-day book of `loans` loans. */
export async function benchScore(opts: {
  loans: number;
  dir: string;
  runs?: number;
}): Promise<Record<string, unknown>> {
  const book = await twoDayBook(opts.loans, opts.dir);
  const runs = opts.runs ?? 3;
  const index = join(opts.dir, `book-${opts.loans}-d1.index`);
  // The previous night's run, leaving its drift index (measured too: what --index-out costs).
  const [withIndexOut, withoutIndexOut] = await bestInTurns(runs, [
    [book.day1, '-', join(opts.dir, 'out-d1'), '1', index],
    [book.day1, '-', join(opts.dir, 'out-d1'), '1'],
  ]);
  const [one, two, nightlyOne, nightlyTwo, pair] = await bestInTurns(runs, [
    [book.day2, book.day1, join(opts.dir, 'out-1'), '1'],
    [book.day2, book.day1, join(opts.dir, 'out-2'), '2'],
    [book.day2, index, join(opts.dir, 'out-n1'), '1'],
    [book.day2, index, join(opts.dir, 'out-n2'), '2'],
    // The ceiling two busy cores give here: two independent 1-worker runs at once, no threads.
    {
      together: [
        [book.day2, index, join(opts.dir, 'out-p1'), '1'],
        [book.day2, index, join(opts.dir, 'out-p2'), '1'],
      ],
    },
  ]);
  return {
    loans: opts.loans,
    tapeMb: Math.round(statSync(book.day2).size / 1e5) / 10,
    machine: {
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      node: process.version,
    },
    previousTape: {
      oneWorker: summarize(one!),
      twoWorkers: summarize(two!),
      speedup: Math.round((one!.wallSeconds / two!.wallSeconds) * 100) / 100,
    },
    previousIndex: {
      indexMb: Math.round(statSync(index).size / 1e5) / 10,
      oneWorker: summarize(nightlyOne!),
      twoWorkers: summarize(nightlyTwo!),
      speedup: Math.round((nightlyOne!.wallSeconds / nightlyTwo!.wallSeconds) * 100) / 100,
      twoProcessesAtOnce: {
        slowerSeconds: Math.round(pair!.wallSeconds * 100) / 100,
        // Work done per second by the two together, against one alone.
        ceiling: Math.round(((2 * nightlyOne!.wallSeconds) / pair!.wallSeconds) * 100) / 100,
      },
    },
    dayOneRun: {
      withIndexOut: summarize(withIndexOut!),
      withoutIndexOut: summarize(withoutIndexOut!),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const result = await benchScore({ loans, dir: join(import.meta.dirname, '.data') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
