/**
 * Every workflow step in a process of its own, as each runs in a Lambda of its own: the local
 * engine of `risk-audit score` over files (prepare, the shards, merge-audit, the loan-id buckets'
 * merges, finalize, the report) on the bench's two-day book with the Lambda's own SHARD_BYTES and
 * SCORE_BUCKET_BYTES, the first date then the second against it (the nightly case: the shards
 * load the previous date's drift index). Each invocation's peak RSS and CPU seconds are its own
 * child process's. These are the measurements behind the memory model
 * (shared/domain/plan/memory.ts) and the settings' memory defaults. A child is `node --import
 * tsx` (about 90 MB of loader a bundled Lambda does not carry: `baseline` measures it).
 * Run alone: `npx tsx bench/steps.ts [loans]`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { FsArtifactStore } from '../shared/adapters/fs-artifact-store.ts';
import type { LocalDepsSpec } from '../shared/adapters/local-deps.ts';
import { runWorkflowLocally } from '../shared/cli/local-runner.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../shared/config.ts';
import { twoDayBook } from './score.ts';

const run = promisify(execFile);

/** One invocation of a workflow function, measured in its own process. */
interface StepMeasurement {
  fn: string;
  /** The map item: a shard's index or a bucket's number. */
  item?: number;
  /** A shard's bytes of tape (its range, else its whole part). */
  bytes?: number;
  /** Rows a shard read, loans a bucket merged. */
  rows?: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

interface ChildOutput {
  measurement: Omit<StepMeasurement, 'fn'>;
  result?: unknown;
  error?: { name: string; message: string };
}

const self = new URL(import.meta.url).pathname;

/** Runs `fn` on `event` in a child process; throws the step's own error (name and sentence) as it would. */
async function inChild(
  scratch: string,
  fn: string,
  event: unknown,
  spec: LocalDepsSpec,
  measured: StepMeasurement[],
): Promise<unknown> {
  const io = mkdtempSync(join(scratch, 'step-'));
  writeFileSync(join(io, 'in.json'), JSON.stringify({ fn, event, spec }));
  await run(process.execPath, ['--import', 'tsx', self, '--child', io], {
    maxBuffer: 1 << 28,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const out = JSON.parse(readFileSync(join(io, 'out.json'), 'utf8')) as ChildOutput;
  rmSync(io, { recursive: true, force: true });
  measured.push({ fn, ...out.measurement });
  if (out.error !== undefined) {
    const error = new Error(out.error.message);
    error.name = out.error.name;
    throw error;
  }
  return out.result;
}

/** The child side: one step with local ports, then its own figures. */
async function child(io: string): Promise<void> {
  const { fn, event, spec } = JSON.parse(readFileSync(join(io, 'in.json'), 'utf8')) as {
    fn: string;
    event: Record<string, unknown>;
    spec: LocalDepsSpec;
  };
  const { runLocalStep } = await import('../shared/cli/local-steps.ts');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let result: unknown;
  let error: ChildOutput['error'];
  try {
    result = await runLocalStep(fn, event, spec);
  } catch (e) {
    error = { name: (e as Error).name, message: (e as Error).message };
  }
  const cpu = process.cpuUsage(c0);
  const range = event.range as { start: number; end: number } | undefined;
  const r = (result ?? {}) as Record<string, unknown>;
  const rows =
    typeof r.rowsRead === 'number' ? r.rowsRead : typeof r.loans === 'number' ? r.loans : undefined;
  const measurement: ChildOutput['measurement'] = {
    ...(typeof event.index === 'number' ? { item: event.index } : {}),
    ...(typeof event.bucket === 'number' ? { item: event.bucket } : {}),
    ...(fn === 'score-shard'
      ? { bytes: range === undefined ? Number(event.partBytes) : range.end - range.start }
      : {}),
    ...(rows === undefined ? {} : { rows }),
    wallSeconds: Math.round(((performance.now() - t0) / 1000) * 10) / 10,
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  writeFileSync(
    join(io, 'out.json'),
    JSON.stringify({ measurement, ...(error === undefined ? { result } : { error }) }),
  );
}

/** `fn` with at most `n` calls running at once (the maps' worker threads, here processes). */
function limited<A extends unknown[], R>(n: number, fn: (...args: A) => Promise<R>) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (...args: A): Promise<R> => {
    while (running >= n) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await fn(...args);
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Each step's largest peak RSS and total CPU seconds over its invocations. */
function bySteps(measured: StepMeasurement[]): Record<string, unknown> {
  const steps: Record<string, { invocations: number; peakRssMb: number; cpuSeconds: number }> = {};
  for (const m of measured) {
    const s = steps[m.fn] ?? { invocations: 0, peakRssMb: 0, cpuSeconds: 0 };
    steps[m.fn] = s;
    s.invocations++;
    s.peakRssMb = Math.max(s.peakRssMb, m.peakRssMb);
    s.cpuSeconds = Math.round((s.cpuSeconds + m.cpuSeconds) * 10) / 10;
  }
  return steps;
}

/** Both dates of the `loans` book, every step in its own process, two at a time in the maps. */
export async function benchSteps(opts: { loans: number; dir: string }): Promise<Record<string, unknown>> {
  const book = await twoDayBook(opts.loans, opts.dir);
  const scratch = mkdtempSync(join(tmpdir(), 'risk-audit-bench-steps-'));
  try {
    const work = join(scratch, 'work');
    mkdirSync(work);
    const spec: LocalDepsSpec = {
      root: work,
      tapes: { '2026-11-24': book.day1, '2026-11-25': book.day2 },
      // The Lambdas' own shard and bucket sizes (the schema's defaults).
      config: RuntimeConfigSchema.parse({
        BUCKET_NAME: 'local',
        TABLE_NAME: 'local',
        TAPE_CUTOFF: '23:59',
        TIMEZONE: 'UTC',
        REPORT_RECIPIENTS: '',
      }),
      secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
    };
    const baseline: StepMeasurement[] = [];
    // An empty step's process: the loader and the modules every step imports.
    await inChild(scratch, 'no-such-step', {}, spec, baseline).catch(() => undefined);
    const dates: Record<string, unknown>[] = [];
    for (const [snapshotDate, previousSnapshotDate] of [
      ['2026-11-24', undefined],
      ['2026-11-25', '2026-11-24'],
    ] as const) {
      const measured: StepMeasurement[] = [];
      const step = (fn: string, event: unknown) => inChild(scratch, fn, event, spec, measured);
      const t0 = performance.now();
      const result = await runWorkflowLocally(
        { snapshotDate, trigger: 'local', ...(previousSnapshotDate ? { previousSnapshotDate } : {}) },
        {
          workers: 2,
          runFunction: step,
          mapFunction: (threads) => ({ run: limited(threads, step), close: async () => undefined }),
          dataBucket: new FsArtifactStore(join(work, 'artifacts')),
        },
      );
      if (!result.ok) throw new Error(`the run of ${snapshotDate} failed: ${result.reason}`);
      dates.push({
        snapshotDate,
        previous: previousSnapshotDate ?? null,
        shards: result.plan.shardCount,
        buckets: result.plan.scoreBuckets,
        wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
        steps: bySteps(measured),
        invocations: measured,
      });
    }
    return {
      loans: opts.loans,
      machine: {
        cpus: cpus().length,
        loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
        node: process.version,
      },
      baselinePeakRssMb: baseline[0]?.peakRssMb ?? null,
      dates,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === '--child') {
  await child(process.argv[3]!);
} else if (isMain) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const result = await benchSteps({ loans, dir: join(import.meta.dirname, '.data') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
