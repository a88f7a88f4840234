/**
 * Benchmark of tape intake (read + decompress + decode + parse + map + validate) on generated
 * tapes. Run alone with `npx tsx bench/ingest.ts [loans] [dir]`; `benchIngest` is also called by
 * bench/run.ts. Each measurement runs in a fresh child process so its peak RSS is its own, not
 * the generator's; CPU time is reported beside wall time because the machine may be shared.
 * Two tape sizes show that peak memory does not grow with the tape's length (beyond the loan-id
 * hashes kept for duplicate detection, 8-16 bytes a loan). Each figure is the best of two runs
 * (five for the plain and shuffled CSV, the headline figures), with the median wall time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inferSchema, initParser } from 'udsv';
import { decodeText } from '../shared/adapters/tape/byte-streams.ts';
import { localTapeParts, openLocalFile } from '../shared/adapters/tape/local-tape-source.ts';
import { scanTape } from '../shared/adapters/tape/read-tape.ts';
import { writeTape } from '../shared/adapters/tape/tape-writer.ts';
import { generateBook } from '../shared/domain/generator/book.ts';
import { CsvScanner } from '../shared/domain/tape/csv-scanner.ts';

type Mode = 'scan' | 'udsv' | 'scanner';

interface Measurement {
  rows: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

/** Runs one measurement in this process (the child side). */
async function measure(mode: Mode, file: string): Promise<Measurement> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let rows = 0;
  if (mode === 'scan') {
    let valid = 0;
    const stats = await scanTape(
      await localTapeParts(file),
      {},
      {
        loan: () => {
          valid++;
        },
        quarantine: () => undefined,
      },
    );
    rows = stats.rowsRead;
    if (valid !== stats.rowsValid) throw new Error('sink and stats disagree');
  } else {
    // Parse only (no validation), to compare CSV parsers on equal terms: same stream, same decoder.
    let parser: ReturnType<typeof initParser> | null = null;
    const scanner = new CsvScanner(() => {
      rows++;
    });
    for await (const text of decodeText(openLocalFile(file), file, undefined)) {
      if (mode === 'scanner') scanner.push(text);
      else {
        // Quote handling forced on: inferring it from the first chunk misreads later quoted fields.
        parser ??= initParser(inferSchema(text, { encl: '"', col: ',', row: '\n' }));
        parser.chunk<string[]>(text, parser.stringArrs, () => {
          rows++;
        });
      }
    }
    if (mode === 'scanner') {
      scanner.end();
      rows--; // header
    } else parser?.end();
  }
  const c = process.cpuUsage(c0);
  return {
    rows,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: (c.user + c.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * Best (least CPU) of `runs` child measurements, with the median wall time beside it: the machine
 * is shared and noise only ever adds time, so the best run is the code's speed and the median
 * shows the spread.
 */
function best(mode: Mode, file: string, runs: number): Measurement & { medianWallSeconds: number } {
  const all = Array.from({ length: runs }, () => child(mode, file));
  const fastest = all.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
  const walls = all.map((m) => m.wallSeconds).sort((a, b) => a - b);
  return {
    ...fastest,
    peakRssMb: Math.max(...all.map((m) => m.peakRssMb)),
    medianWallSeconds: walls[Math.floor(walls.length / 2)]!,
  };
}

function child(mode: Mode, file: string): Measurement {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, new URL(import.meta.url).pathname, '--measure', mode, file],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measurement;
}

function report(m: Measurement & { medianWallSeconds?: number }, bytes: number): Record<string, number> {
  const mb = bytes / 1e6;
  const r = (x: number) => Math.round(x);
  return {
    rows: m.rows,
    fileMb: Math.round(mb * 10) / 10,
    wallSeconds: Math.round(m.wallSeconds * 100) / 100,
    ...(m.medianWallSeconds === undefined
      ? {}
      : { medianWallSeconds: Math.round(m.medianWallSeconds * 100) / 100 }),
    cpuSeconds: Math.round(m.cpuSeconds * 100) / 100,
    rowsPerSecWall: r(m.rows / m.wallSeconds),
    rowsPerSecCpu: r(m.rows / m.cpuSeconds),
    mbPerSecWall: Math.round((mb / m.wallSeconds) * 10) / 10,
    peakRssMb: r(m.peakRssMb),
  };
}

/** Writes `from`'s rows in a fixed random order (header first), as an export not sorted by loan id. */
function writeShuffled(from: string, to: string): void {
  const [header, ...rows] = readFileSync(from, 'utf8').trimEnd().split('\n');
  let x = 7;
  for (let i = rows.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  writeFileSync(to, `${header}\n${rows.join('\n')}\n`);
}

/**
 * Generates a `loans`-loan tape as CSV, CSV.gz and JSONL (plus a 1/4-size CSV for the memory
 * comparison and a shuffled copy of the CSV) in `dir`, then measures read + parse + validate of each in a child process.
 */
export async function benchIngest(opts: { loans: number; dir: string }): Promise<Record<string, unknown>> {
  mkdirSync(opts.dir, { recursive: true });
  const date = '2026-11-25';
  const files = {
    csv: join(opts.dir, `tape-${opts.loans}.csv`),
    csvGz: join(opts.dir, `tape-${opts.loans}.csv.gz`),
    jsonl: join(opts.dir, `tape-${opts.loans}.jsonl`),
    csvQuarter: join(opts.dir, `tape-${Math.round(opts.loans / 4)}.csv`),
    csvShuffled: join(opts.dir, `tape-${opts.loans}-shuffled.csv`),
  };
  const gen0 = performance.now();
  await writeTape(files.csv, generateBook({ loans: opts.loans, date, seed: 1 }));
  const generateCsvSeconds = (performance.now() - gen0) / 1000;
  await writeTape(files.csvGz, generateBook({ loans: opts.loans, date, seed: 1 }));
  await writeTape(files.jsonl, generateBook({ loans: opts.loans, date, seed: 1 }));
  await writeTape(files.csvQuarter, generateBook({ loans: Math.round(opts.loans / 4), date, seed: 1 }));
  writeShuffled(files.csv, files.csvShuffled);
  const size = (f: string) => statSync(f).size;
  const result: Record<string, unknown> = {
    loans: opts.loans,
    machine: {
      cpus: cpus().length,
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      node: process.version,
    },
    generateCsvSeconds: Math.round(generateCsvSeconds * 10) / 10,
    intake: {
      csv: report(best('scan', files.csv, 5), size(files.csv)),
      csvGz: report(best('scan', files.csvGz, 2), size(files.csvGz)),
      jsonl: report(best('scan', files.jsonl, 1), size(files.jsonl)),
      [`csv${Math.round(opts.loans / 4)}`]: report(best('scan', files.csvQuarter, 2), size(files.csvQuarter)),
      // The same rows in random order: the loan-id set cannot use its in-order path.
      csvShuffled: report(best('scan', files.csvShuffled, 5), size(files.csvShuffled)),
    },
    csvParseOnly: {
      csvScanner: report(best('scanner', files.csv, 2), size(files.csv)),
      udsvQuotesForced: report(best('udsv', files.csv, 2), size(files.csv)),
    },
  };
  return result;
}

const self = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (self && process.argv[2] === '--measure') {
  const m = await measure(process.argv[3] as Mode, process.argv[4]!);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else if (self) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const dir = process.argv[3] ?? join(process.env.TMPDIR ?? '/tmp', 'risk-audit-bench-ingest');
  const result = await benchIngest({ loans, dir });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
