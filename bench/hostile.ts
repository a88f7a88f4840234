/**
 * Benchmarks of hostile input: a tape of 1,000,000 quarantined rows (beside the same tape with
 * every row valid, for its memory) and a JSON Lines tape whose second line is 64 MiB long. Each
 * runs `risk-audit score` in a fresh child process, so its peak RSS is its own; a memory flat in
 * the number of quarantined rows shows as the two 1M tapes peaking alike. Run alone with
 * `npx tsx bench/hostile.ts [dir] [--root CHECKOUT]` (another checkout's code, for a before/after
 * comparison); bench/run.ts calls `benchHostile` as `--only hostile`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeTape } from '../shared/adapters/tape/tape-writer.ts';
import { generateBook } from '../shared/domain/generator/book.ts';
import { loanToCsvLine, loanToJsonLine, TAPE_CSV_HEADER } from '../shared/domain/tape/tape-row.ts';

interface Measurement {
  status: string;
  error: string | null;
  rowsRead: number | null;
  rowsQuarantined: number | null;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** The child side: one `score` run of `file` with the code of checkout `root`. */
async function measure(root: string, file: string, out: string): Promise<Measurement> {
  const { scoreLocal } = (await import(pathToFileURL(join(root, 'shared/cli/commands/score.ts')).href)) as {
    scoreLocal: (o: { snapshot: string; out: string }) => Promise<Record<string, unknown>>;
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const audit = (await scoreLocal({ snapshot: file, out })) as {
    status: string;
    error?: string;
    input?: { rowsRead: number; rowsQuarantined: number };
  };
  const c = process.cpuUsage(c0);
  return {
    status: audit.status,
    error: audit.error ?? null,
    rowsRead: audit.input?.rowsRead ?? null,
    rowsQuarantined: audit.input?.rowsQuarantined ?? null,
    wallSeconds: Math.round(((performance.now() - t0) / 1000) * 100) / 100,
    cpuSeconds: Math.round(((c.user + c.system) / 1e6) * 100) / 100,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function child(root: string, file: string, out: string): Measurement {
  const stdout = execFileSync(
    process.execPath,
    [...process.execArgv, new URL(import.meta.url).pathname, '--measure', root, file, out],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measurement;
}

/** Best (least CPU) of `runs` children, with the highest peak RSS of them. */
function best(root: string, file: string, out: string, runs: number): Measurement {
  const all = Array.from({ length: runs }, () => child(root, file, out));
  const fastest = all.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
  return { ...fastest, peakRssMb: Math.max(...all.map((m) => m.peakRssMb)) };
}

/** Writes lines through one reused 8 MiB buffer. */
function writeLines(path: string, lines: Iterable<string>): void {
  const fd = openSync(path, 'w');
  let buffer = Buffer.allocUnsafe(8 << 20);
  let used = 0;
  for (const line of lines) {
    const need = Buffer.byteLength(line) + 1;
    if (used + need > buffer.byteLength) {
      writeSync(fd, buffer, 0, used);
      used = 0;
      if (need > buffer.byteLength) buffer = Buffer.allocUnsafe(need);
    }
    used += buffer.write(line, used);
    buffer[used++] = 10;
  }
  writeSync(fd, buffer, 0, used);
  closeSync(fd);
}

/**
 * Writes the tapes in `dir` and measures: 1M valid rows; the same 1M rows each made invalid (an
 * annual_rate of "n/a"), beside 1,000 valid ones so the run is partial rather than failed; a
 * JSON Lines tape whose second line is a 64 MiB string (the run fails on it, in one sentence).
 */
export async function benchHostile(opts: {
  dir: string;
  root?: string;
  runs?: number;
}): Promise<Record<string, unknown>> {
  mkdirSync(opts.dir, { recursive: true });
  const root = resolve(opts.root ?? join(import.meta.dirname, '..'));
  const runs = opts.runs ?? 3;
  const date = '2026-11-25';
  const valid = join(opts.dir, 'hostile-1m-valid.csv');
  const quarantined = join(opts.dir, 'hostile-1m-quarantined.csv');
  const longLine = join(opts.dir, 'hostile-64mib-line.jsonl');
  await writeTape(valid, generateBook({ loans: 1_000_000, date, seed: 5 }));
  writeLines(
    quarantined,
    (function* () {
      yield TAPE_CSV_HEADER;
      let i = 0;
      for (const loan of generateBook({ loans: 1_001_000, date, seed: 5 })) {
        yield loanToCsvLine(i++ < 1000 ? loan : { ...loan, annualRate: Number.NaN });
      }
    })(),
  );
  const [first] = generateBook({ loans: 1, date, seed: 5 });
  writeLines(longLine, [loanToJsonLine(first!), `{"loan_id": "${'x'.repeat(64 << 20)}"}`]);
  const mb = (f: string) => Math.round(statSync(f).size / 1e5) / 10;
  const out = join(opts.dir, 'hostile-out');
  return {
    machine: {
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      node: process.version,
    },
    root,
    valid1m: { fileMb: mb(valid), ...best(root, valid, out, runs) },
    quarantined1m: {
      fileMb: mb(quarantined),
      ...best(root, quarantined, out, runs),
      quarantineCsvMb: mb(join(out, 'quarantine.csv')),
    },
    jsonlLine64MiB: { fileMb: mb(longLine), ...best(root, longLine, out, runs) },
  };
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (self && process.argv[2] === '--measure') {
  const m = await measure(process.argv[3]!, process.argv[4]!, process.argv[5]!);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else if (self) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? args[rootAt + 1] : undefined;
  const dir =
    args.find((a, i) => !a.startsWith('--') && (rootAt < 0 || i !== rootAt + 1)) ??
    join(process.env.TMPDIR ?? '/tmp', 'risk-audit-bench-hostile');
  const result = await benchHostile({ dir, ...(root === undefined ? {} : { root }) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
