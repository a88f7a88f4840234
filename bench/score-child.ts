/**
 * One measured `risk-audit score` run in its own process (so peak RSS is this run's alone):
 * prints {wallSeconds, cpuSeconds, peakRssMb, loans, status} as JSON on stdout.
 */
import { performance } from 'node:perf_hooks';
import { scoreLocal } from '../shared/cli/commands/score.ts';

const [snapshot, previous, out, shards, indexOut, workers] = process.argv.slice(2);
const t0 = performance.now();
const phases: Record<string, number> = {};
const audit = await scoreLocal({
  phases,
  snapshot: snapshot!,
  ...(previous && previous !== '-' ? { previous } : {}),
  out: out!,
  shards: Number(shards ?? 1),
  workers: Number(workers || shards || 1),
  ...(indexOut && indexOut !== '-' ? { indexOut } : {}),
});
const wallSeconds = (performance.now() - t0) / 1000;
const usage = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({
    wallSeconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssMb: usage.maxRSS / 1024,
    loans: audit.status === 'failed' ? 0 : audit.input.rowsRead,
    status: audit.status,
    phases,
  })}\n`,
);
