/**
 * `npm run bench`: every benchmark of the project, one after the other, with the figures printed
 * and written to bench/results.json. Speed and memory are measured here, never asserted in tests.
 *   npm run bench                 # 1,000,000-loan figures
 *   npm run bench -- --big        # adds the 10,000,000-loan local run and the Lambda shard sizes
 *   npm run bench -- --only score # one benchmark (ingest, engine, score, duckdb, merge, pipeline, store, report, hostile, steps, score10m, shard, steps10m, pipeline10m)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDuckdb } from './duckdb-reference.ts';
import { benchEngine } from './engine.ts';
import { benchHostile } from './hostile.ts';
import { benchIngest } from './ingest.ts';
import { benchMergeScores } from './merge-scores.ts';
import { benchPipeline } from './pipeline.ts';
import { benchReport } from './report.ts';
import { benchScore } from './score.ts';
import { benchShard } from './shard.ts';
import { benchSteps } from './steps.ts';
import { benchStore } from './store.ts';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const big = args.includes('--big');
const dir = join(import.meta.dirname, '.data');
const results: Record<string, unknown> = { startedAt: new Date().toISOString() };

const benches: [string, () => Promise<Record<string, unknown>>][] = [
  ['ingest', () => benchIngest({ loans: 1_000_000, dir })],
  ['engine', () => benchEngine({ loans: 1_000_000, dir })],
  ['score', () => benchScore({ loans: 1_000_000, dir })],
  ['duckdb', () => benchDuckdb({ loans: 1_000_000, dir })],
  ['merge', () => benchMergeScores({ loans: 1_000_000, dir })],
  ['pipeline', () => benchPipeline({ loans: 1_000_000, dir })],
  ['store', () => benchStore({})],
  ['report', () => benchReport()],
  ['hostile', () => benchHostile({ dir })],
  ['steps', () => benchSteps({ loans: 1_000_000, dir })],
];
if (big) {
  benches.push(['score10m', () => benchScore({ loans: 10_000_000, dir, runs: 1 })]);
  benches.push([
    'shard',
    () => benchShard({ dir, mibs: [64, 128, 256, 512], books: [1_000_000, 10_000_000], bare: [128] }),
  ]);
  benches.push(['steps10m', () => benchSteps({ loans: 10_000_000, dir })]);
  benches.push(['pipeline10m', () => benchPipeline({ loans: 10_000_000, dir, defaultOnly: true })]);
}

for (const [name, bench] of benches) {
  if (only !== undefined && only !== name) continue;
  process.stderr.write(`bench ${name}...\n`);
  results[name] = await bench();
  process.stdout.write(`${name}: ${JSON.stringify(results[name], null, 2)}\n`);
}
// A partial run (--only) updates its own entries and keeps the others'.
const path = join(import.meta.dirname, 'results.json');
const before =
  only !== undefined && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as object) : {};
writeFileSync(path, `${JSON.stringify({ ...before, ...results }, null, 2)}\n`);
