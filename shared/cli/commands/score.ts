import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadMapping, loadPolicy } from '../../adapters/config-files.ts';
import {
  isLocalPreviousIndex,
  localTapeParts,
  readLocalPreviousIndex,
} from '../../adapters/tape/local-tape-source.ts';
import { QuarantineFileWriter } from '../../adapters/tape/quarantine-writer.ts';
import type { TapeScanResult } from '../../adapters/tape/scan-tape.ts';
import { type AuditDocument, failedAudit } from '../../domain/audit-result.ts';
import { PartialMerger } from '../../domain/engine/accumulator.ts';
import type { PreviousTape } from '../../domain/engine/previous-tape.ts';
import { policyInForce } from '../../domain/policy/policy.ts';
import { mappingReadsWholeParts } from '../../domain/tape/mapping.ts';
import { QUARANTINE_CSV_HEADER } from '../../domain/tape/quarantine-csv.ts';
import { isIsoDate } from '../../domain/tape/values.ts';
import { ConfigError, toSentence } from '../../errors.ts';
import {
  auditShard,
  carriedIndex,
  combineRangeParts,
  countCrossShardRepeats,
  crossShardRepeatFinding,
  expectedBorrowers,
  finalizeShards,
  loadPreviousTape,
  mergeScans,
  mergeShards,
  type ShardAudit,
  tapeLevelFindings,
} from '../../use-cases/audit-engine.ts';
import type { PreviousIndexExtra } from '../../use-cases/score-shard.ts';
import { printHeadline } from '../output.ts';
import { auditInWorkers, loadPreviousInWorkers } from '../parallel-score.ts';
import { checkPreviousGiven, dateSourceOf, peekSnapshotDate } from '../peek.ts';
import { runShardJob, type WorkerJob } from '../shard-jobs.ts';
import { WorkerPool } from '../worker-pool.ts';

export interface ScoreOptions {
  snapshot: string;
  /** The run's date; default: the date most of the tape's first rows carry. */
  date?: string;
  previous?: string;
  mapping?: string;
  policy?: string;
  out: string;
  borrowerRefKey?: string;
  /** Row-aligned byte-range shards of the tape, scored on worker threads. @default 1 */
  shards?: number;
  /** Threads scoring at once, the main thread included. @default min(shards, CPUs) */
  workers?: number;
  /**
   * Also write the tape's drift index here: the next day's `previous` can then be this file
   * instead of the tape, which is not read again.
   */
  indexOut?: string;
  /** Filled with each phase's wall time in milliseconds (for benchmarks). */
  phases?: Record<string, number>;
}

/** Audits local tape files with no AWS at all; returns the audit document it wrote. */
export async function scoreLocal(options: ScoreOptions): Promise<AuditDocument> {
  await mkdir(options.out, { recursive: true });
  const auditPath = join(options.out, 'audit.json');
  const quarantinePath = join(options.out, 'quarantine.csv');
  let pool: WorkerPool<WorkerJob> | null = null;
  let quarantineOpen: QuarantineFileWriter | null = null;
  let quarantineWritten = false;
  let t = performance.now();
  const lap = (phase: string): void => {
    const now = performance.now();
    if (options.phases) options.phases[phase] = Math.round(now - t);
    t = now;
  };
  try {
    const [loaded, mapping] = await Promise.all([loadPolicy(options.policy), loadMapping(options.mapping)]);
    // A panel read for each loan's latest row, or row() ids, need each part whole: one shard.
    const shards = mappingReadsWholeParts(mapping) ? 1 : (options.shards ?? 1);
    // The main thread is one of the workers: `--workers 2` starts one thread beside it.
    pool =
      shards > 1
        ? new WorkerPool<WorkerJob>(
            options.workers ?? Math.min(shards, availableParallelism()),
            'shard-worker-impl.ts',
            { inline: runShardJob },
          )
        : null;
    // A drift index written by an earlier run stands in for its tape: nothing to read again. It is
    // read while the settings load (its pages fault in on the file-reading thread meanwhile).
    const previousIndex =
      options.previous !== undefined && (await isLocalPreviousIndex(options.previous))
        ? options.previous
        : null;
    const indexRead = previousIndex !== null ? readIndexFile(previousIndex, pool !== null) : null;
    // Not awaited yet: a failure still surfaces when it is.
    indexRead?.catch(() => undefined);
    const parts = await localTapeParts(options.snapshot);
    // Every shard checks rows against the run's date, known up front, so 1 or N shards agree.
    const tapeDate = options.date ?? (await peekSnapshotDate(options.snapshot, mapping));
    const previousDate =
      options.previous === undefined || previousIndex !== null
        ? null
        : await peekSnapshotDate(options.previous, mapping);
    if (options.previous !== undefined)
      await checkPreviousGiven(options.snapshot, options.previous, tapeDate, previousDate);
    const policy = policyInForce(loaded, tapeDate);
    const quarantine = new QuarantineFileWriter(quarantinePath);
    quarantineOpen = quarantine;
    lap('setup');
    let prev: { previous: PreviousTape; intake: TapeScanResult } | null = null;
    let merged: ReturnType<typeof mergeShards>;
    let repeats = 0;
    let indexShards: Pick<ShardAudit, 'indexEntries'>[] = [];
    const keepIndexEntries = options.indexOut !== undefined;
    if (indexRead !== null) {
      prev = await indexRead;
      await checkPreviousGiven(options.snapshot, options.previous!, tapeDate, prev.intake.snapshotDate);
    }
    if (pool === null) {
      if (options.previous && previousIndex === null)
        prev = await loadPreviousTape(await localTapeParts(options.previous), {
          snapshotDate: previousDate ?? undefined,
          mapping,
        });
      lap('previousTape');
      const shard = await auditShard(parts, {
        snapshotDate: tapeDate,
        mapping,
        policy,
        previous: prev?.previous ?? null,
        keepIndexEntries,
        quarantine,
      });
      lap('shards');
      merged = mergeShards([shard]);
      indexShards = [shard];
    } else {
      // Both tapes are read in row-aligned ranges on the same threads: first the previous day's
      // (merged into one index the workers share), then the day's shards.
      try {
        if (options.previous && previousIndex === null) {
          prev = await loadPreviousInWorkers(pool, await localTapeParts(options.previous), {
            ranges: shards,
            snapshotDate: previousDate!,
            mappingFile: options.mapping,
          });
        }
        lap('previousTape');
        // Each shard's borrowers merge as it finishes, into the first one's table (adopted),
        // sized for the whole tape as auditShard would size it.
        const tapeBytes = parts.reduce((n, p) => n + (p.bytes ?? 0), 0);
        const merger = new PartialMerger(expectedBorrowers(tapeBytes), true);
        const run = await auditInWorkers(pool, parts, {
          shards,
          snapshotDate: tapeDate,
          previous: prev?.previous ?? null,
          mappingFile: options.mapping,
          policyFile: options.policy,
          keepIndexEntries,
          quarantinePath: (i) => shardQuarantinePath(options.out, i),
          onShard: (shard) => merger.add(shard.partial),
        });
        lap('shards');
        indexShards = run.shards;
        merged = { partial: merger.result(), intake: mergeScans(run.shards.map((s) => s.intake)) };
        repeats = countCrossShardRepeats(
          run.shards.map((r) => ({ valid: r.idHashes, quarantined: r.quarantinedIdHashes })),
        );
        merged.intake = combineRangeParts(merged.intake, await run.digests);
        // The shards' files, in shard order, under the one header.
        for (let i = 0; i < run.shards.length; i++)
          await quarantine.append(shardQuarantinePath(options.out, i));
      } finally {
        await pool.close();
        pool = null;
      }
    }
    await quarantine.close();
    quarantineOpen = null;
    quarantineWritten = true;
    const snapshotDate = tapeDate;
    const tapeFindings = tapeLevelFindings(
      {
        snapshotDate,
        // Local files carry no arrival time worth judging: the cutoff check is the pipeline's.
        parts: parts.map((p) => ({ key: p.key, bytes: p.bytes ?? 0, lastModified: null })),
        stats: merged.intake,
        previous: prev ? { columns: prev.intake.columns, rowsValid: prev.intake.rowsValid } : null,
      },
      { cutoff: '23:59', timeZone: 'UTC' },
    );
    const audit = finalizeShards(merged, {
      snapshotDate,
      dateSource: dateSourceOf(options.date),
      previousSnapshotDate: prev?.intake.snapshotDate ?? null,
      previousIntake: prev?.intake ?? null,
      policy,
      borrowerRefKey: options.borrowerRefKey ?? process.env.BORROWER_REF_KEY ?? 'risk-audit-local-key',
      tapeFindings:
        repeats > 0
          ? [...tapeFindings, crossShardRepeatFinding({ loans: repeats, outstanding: null })]
          : tapeFindings,
    });
    if (repeats > 0) audit.status = 'partial';
    lap('mergeAndFinalize');
    if (options.indexOut !== undefined) {
      await writeFile(options.indexOut, carriedIndex(snapshotDate, indexShards, merged.intake));
      lap('indexOut');
    }
    await writeFile(auditPath, `${JSON.stringify(audit, null, 2)}\n`);
    lap('write');
    return audit;
  } catch (error) {
    await pool?.close();
    // The rows quarantined before the failure stay in quarantine.csv (every row, for a tape
    // whose every row was quarantined); a run that failed before reading has only the header.
    if (quarantineOpen !== null) await quarantineOpen.close().catch(() => undefined);
    else if (!quarantineWritten) await writeFile(quarantinePath, `${QUARANTINE_CSV_HEADER}\n`);
    const failed = failedAudit({ snapshotDate: null, error: toSentence(error), failedAt: new Date() });
    await writeFile(auditPath, `${JSON.stringify(failed, null, 2)}\n`);
    return failed;
  } finally {
    await Promise.all(
      Array.from({ length: options.shards ?? 1 }, (_, i) =>
        rm(shardQuarantinePath(options.out, i), { force: true }),
      ),
    );
  }
}

/** Where shard i of a threaded run writes its quarantined rows before they are joined. */
function shardQuarantinePath(out: string, shard: number): string {
  return join(out, `.quarantine-shard-${String(shard).padStart(4, '0')}.csv`);
}

/** A drift index file written by `--index-out`, with the intake counts of its tape. */
async function readIndexFile(
  path: string,
  shared: boolean,
): Promise<{ previous: PreviousTape; intake: TapeScanResult }> {
  const { tape, extra } = await readLocalPreviousIndex<Partial<PreviousIndexExtra>>(path, shared);
  if (extra.intake === undefined)
    throw new ConfigError(`${path} is a drift index without its tape's intake counts`);
  return { previous: tape, intake: extra.intake };
}

/** `--date`: a real calendar date as YYYY-MM-DD. */
export function isoDateOption(value: string): string {
  if (!isIsoDate(value)) throw new ConfigError(`--date must be a real date as YYYY-MM-DD, got ${value}`);
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new ConfigError(`expected a whole number from 1 to 1024, got ${value}`);
  return n;
}

/** `risk-audit score`: the engine alone on local files. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'Audit local tape files with the engine alone (no AWS): writes DIR/audit.json and DIR/quarantine.csv',
    )
    .requiredOption(
      '--snapshot <file>',
      "the day's tape: a CSV, JSON Lines or Parquet file (optionally .gz), or a folder of parts",
    )
    .option(
      '--date <YYYY-MM-DD>',
      "the run's date (default: the date most of the tape's first rows carry)",
      isoDateOption,
    )
    .option(
      '--previous <file>',
      "the previous day's tape, for drift and roll rates, or the drift index its run wrote (--index-out)",
    )
    .option('--mapping <file>', "a column mapping (YAML or JSON) for a lender's own export")
    .option('--policy <file>', 'a rule pack or risk appetite replacing the default one of its kind')
    .option('--out <dir>', 'output folder', 'out')
    .option(
      '--shards <n>',
      'split the tape into N row-aligned shards scored on worker threads',
      positiveInt,
      1,
    )
    .option(
      '--workers <n>',
      'threads scoring at once, the main thread included (default: min(shards, CPUs))',
      positiveInt,
    )
    .option(
      '--index-out <file>',
      "also write this tape's drift index, to give as the next day's --previous (the tape is then not read again)",
    )
    .action(async (opts: ScoreOptions) => {
      const audit = await scoreLocal(opts);
      if (audit.status === 'failed') {
        process.stderr.write(`risk-audit: ${audit.error}\n`);
        process.exitCode = 1;
        return;
      }
      printHeadline(audit, { auditPath: join(opts.out, 'audit.json') });
    });
}
