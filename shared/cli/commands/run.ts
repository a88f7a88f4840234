import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { FsArtifactStore } from '../../adapters/fs-artifact-store.ts';
import { RiskAuditError } from '../../errors.ts';
import { AuditResultSchema } from '../../schema/audit-document.ts';
import { isSplittable } from '../../use-cases/prepare-run.ts';
import { readArtifact } from '../../use-cases/read-artifact.ts';
import type { RunPlan } from '../../use-cases/workflow-types.ts';
import {
  auditDate,
  peekSnapshotDate,
  requestBuckets,
  requestShards,
  uploadTape,
  usePolicy,
  withLocalStack,
  writeOutputs,
} from '../local-pipeline.ts';
import {
  BUCKETS_HELP,
  DEFAULT_STATE_DIR,
  isoDateOption,
  OPTION,
  parseBuckets,
  parseShards,
} from '../options.ts';
import { headlineLines } from '../output.ts';
import { checkPreviousGiven, localRunDate } from '../peek.ts';

export interface RunOptions {
  snapshot: string;
  /** The run's date; default: the date most of the tape's first rows carry. */
  date?: string;
  previous?: string;
  out: string;
  state?: string;
  /** About this many row-aligned shards of the day's tape, scored on worker threads. */
  shards?: number;
  /** Loan-id buckets (a power of two) the scored loans are merged in, on worker threads. */
  buckets?: number;
  /** A rule pack or risk appetite replacing the default one of its kind. */
  policy?: string;
}

/** A local run that ended in a failed audit: the sentence is already in audit.json and the run record. */
export class RunFailedError extends RiskAuditError {}

/** The full pipeline on the user's own tapes, on the embedded stack (state accumulates in the state folder). */
export async function runLocal(options: RunOptions): Promise<{ files: Record<string, string> }> {
  if (options.policy !== undefined) await usePolicy(options.policy);
  const date = await localRunDate(options.snapshot, options.date);
  const previousDate = options.previous ? await peekSnapshotDate(options.previous) : null;
  if (options.previous !== undefined)
    await checkPreviousGiven(options.snapshot, options.previous, date, previousDate);
  if (options.shards !== undefined) {
    if (options.shards > 1 && !isSplittable(options.snapshot))
      process.stderr.write(
        `risk-audit: ${basename(options.snapshot)} is scored as one shard: only uncompressed CSV or JSON Lines tapes split\n`,
      );
    // The same shard size for the previous day, whose audit runs first in this process.
    requestShards((await stat(options.snapshot)).size, options.shards);
  }
  // The same bucket size for the previous day too (its tape is about as big).
  if (options.buckets !== undefined) requestBuckets((await stat(options.snapshot)).size, options.buckets);
  return withLocalStack({ ...(options.state ? { stateDir: options.state } : {}) }, async () => {
    if (options.previous && previousDate) {
      await uploadTape(options.previous, previousDate);
      // The previous day is audited first (no email) so today's run has its baseline.
      const before = await auditDate(previousDate, { sendReport: false });
      if (!before.ok)
        process.stderr.write(`risk-audit: the previous tape's audit failed: ${before.reason}\n`);
    }
    await uploadTape(options.snapshot, date);
    const result = await auditDate(date, {
      sendReport: true,
      ...(previousDate === null ? {} : { previousDate }),
    });
    const outDir = resolve(options.out);
    const files = await writeOutputs(date, outDir);
    if (result.status === 'already-running') throw new RunFailedError(result.reason);
    if (!result.ok) throw new RunFailedError(`the audit of ${date} failed: ${result.reason}`);
    const audit = await readArtifact(
      new FsArtifactStore(outDir),
      'audit.json',
      AuditResultSchema,
      `audit of ${date}`,
    );
    process.stdout.write(
      `${[...headlineLines(audit), `  ${comparedWith(result.plan, previousDate)}`, `  report: ${files['report.html']}`].join('\n')}\n`,
    );
    return { files };
  });
}

/** The line saying which previous tape the run compared against, or why it compared none. */
export function comparedWith(plan: RunPlan, asked: string | null): string {
  if (plan.previousSnapshotDate !== null) return `compared with: the tape of ${plan.previousSnapshotDate}`;
  const why = plan.warnings.find((w) => w.code === 'PREVIOUS_TAPE_UNREADABLE')?.message;
  if (asked !== null)
    return `compared with: nothing (the previous tape of ${asked} was not usable: ${why ?? 'not found'})`;
  return `compared with: nothing (no tape for the day before ${plan.snapshotDate}; give one with --previous)`;
}

/** `risk-audit run`. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the full pipeline (S3, DynamoDB, email) on your own tape files on the embedded local stack',
    )
    .requiredOption(...OPTION.snapshot)
    .option(...OPTION.runDate, isoDateOption)
    .option('--previous <file>', "the previous day's tape, for drift, roll rates and what changed")
    .option(...OPTION.out, 'out')
    .option(...OPTION.state, DEFAULT_STATE_DIR)
    .option(
      '--shards <n>',
      "split the day's tape into about n row-aligned shards of at least 1 MiB (uncompressed CSV or JSON Lines), scored on worker threads",
      parseShards,
    )
    .option('--buckets <n>', BUCKETS_HELP, parseBuckets)
    .option(...OPTION.policy)
    .action(async (opts: RunOptions) => {
      await runLocal(opts);
    });
}
