import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadMapping, loadPolicy } from '../../adapters/config-files.ts';
import { FsArtifactStore } from '../../adapters/fs-artifact-store.ts';
import type { LocalDepsSpec } from '../../adapters/local-deps.ts';
import { isLocalPreviousIndex, localTapeParts } from '../../adapters/tape/local-tape-source.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../../config.ts';
import { type AuditDocument, failedAudit } from '../../domain/audit-result.ts';
import { addDays } from '../../domain/calendar.ts';
import { decodePreviousIndex } from '../../domain/engine/previous-tape.ts';
import { QUARANTINE_CSV_HEADER } from '../../domain/tape/quarantine-csv.ts';
import { VALIDATION_RULES_VERSION } from '../../domain/tape/row-validator.ts';
import { ConfigError, toSentence } from '../../errors.ts';
import { AuditDocumentSchema } from '../../schema/audit-document.ts';
import { KEYS } from '../../schema/tables.ts';
import { type CarriedIndexInfo, mappingFingerprint } from '../../use-cases/prepare-run.ts';
import { readArtifact } from '../../use-cases/read-artifact.ts';
import type { LambdaJob, MapFunction } from '../lambda-worker-impl.ts';
import { runWorkflowLocally } from '../local-runner.ts';
import { runLocalStep } from '../local-steps.ts';
import { isoDateOption, OPTION, parseShards, parseWorkers } from '../options.ts';
import { printHeadline } from '../output.ts';
import { checkPreviousGiven, dateSourceOf, peekSnapshotDate } from '../peek.ts';
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
  /** Threads scoring the shards at once. @default min(shards, CPUs) */
  workers?: number;
  /**
   * Also write the tape's drift index here: the next day's `previous` can then be this file
   * instead of the tape, which is not read again.
   */
  indexOut?: string;
  /** Filled with each workflow step's wall time in milliseconds (for benchmarks). */
  phases?: Record<string, number>;
}

/** Files of a run that `score` copies into its output folder. */
const OUTPUTS = {
  'audit.json': KEYS.audit,
  'quarantine.csv': KEYS.quarantine,
  'report.html': KEYS.reportHtml,
  'report.txt': KEYS.reportText,
} as const;

/** The smallest shard `score --shards` makes (a local file has no Lambda to fill). */
const MIN_LOCAL_SHARD_BYTES = 64 * 1024;

/**
 * Audits local tape files with no AWS at all: the same state machine and steps as the pipeline
 * (prepare, the shards, merge-audit, the loan-id buckets, finalize, the report), run by the local
 * engine over files (a scratch folder as the artifact store and results store); writes
 * audit.json, quarantine.csv, report.html and report.txt, and returns the audit document.
 */
export async function scoreLocal(options: ScoreOptions): Promise<AuditDocument> {
  await mkdir(options.out, { recursive: true });
  const auditPath = join(options.out, 'audit.json');
  const work = await mkdtemp(join(tmpdir(), 'risk-audit-score-'));
  try {
    const [mapping] = await Promise.all([loadMapping(options.mapping), loadPolicy(options.policy)]);
    // The run's date is --date, else the date most of the tape's first rows carry (loan-tape.md).
    const date = options.date ?? (await peekSnapshotDate(options.snapshot, mapping));
    const tapes: Record<string, string> = { [date]: options.snapshot };
    let previousDate: string | null = null;
    if (options.previous !== undefined) {
      const index = (await isLocalPreviousIndex(options.previous))
        ? await readPreviousIndexFile(options.previous)
        : null;
      previousDate = index !== null ? index.snapshotDate : await peekSnapshotDate(options.previous, mapping);
      await checkPreviousGiven(options.snapshot, options.previous, date, previousDate);
      // An index of an empty tape names no date: it stands for the day before.
      previousDate ??= addDays(date, -1);
      if (index !== null)
        await seedPreviousIndex(work, index.bytes, previousDate, mappingFingerprint(mapping));
      else tapes[previousDate] = options.previous;
    }
    const tapeBytes = (await localTapeParts(options.snapshot)).reduce((n, p) => n + (p.bytes ?? 0), 0);
    const shards = options.shards ?? 1;
    const spec: LocalDepsSpec = {
      root: work,
      tapes,
      config: RuntimeConfigSchema.parse({
        BUCKET_NAME: 'local',
        TABLE_NAME: 'local',
        // Local files carry no arrival time worth judging: the cutoff check is the pipeline's.
        TAPE_CUTOFF: '23:59',
        TIMEZONE: 'UTC',
        REPORT_RECIPIENTS: '',
        ...(options.policy ? { POLICY_FILE: options.policy } : {}),
        ...(options.mapping ? { MAPPING_FILE: options.mapping } : {}),
        ...(process.env.POLICY_DIR ? { POLICY_DIR: process.env.POLICY_DIR } : {}),
      }),
      // The borrower-reference key: given, from BORROWER_REF_KEY, or the local default.
      secrets: loadSecretsConfig({
        SECRET_SOURCE: 'environment',
        ...((options.borrowerRefKey ?? process.env.BORROWER_REF_KEY)
          ? { BORROWER_REF_KEY: options.borrowerRefKey ?? process.env.BORROWER_REF_KEY }
          : {}),
      }),
    };
    // One shard unless asked, then row-aligned ranges of about tape/N (the settings' minimum is for Lambda).
    spec.config.SHARD_BYTES =
      shards > 1 ? Math.max(MIN_LOCAL_SHARD_BYTES, Math.ceil(tapeBytes / shards)) : Number.MAX_SAFE_INTEGER;
    const result = await runWorkflowLocally(
      {
        snapshotDate: date,
        trigger: 'local',
        dateSource: dateSourceOf(options.date),
        ...(previousDate === null ? {} : { previousSnapshotDate: previousDate }),
      },
      {
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        runFunction: (fn, event) => runLocalStep(fn, event, spec),
        mapFunction: (threads) => localStepsOnThreads(threads, spec),
        // The steps' artifact store is the maps' data bucket too.
        dataBucket: new FsArtifactStore(join(work, 'artifacts')),
      },
    );
    if (options.phases) Object.assign(options.phases, result.timings);
    const artifacts = join(work, 'artifacts');
    for (const [name, key] of Object.entries(OUTPUTS)) {
      const from = join(artifacts, key(date));
      const there = await stat(from).catch(() => null);
      if (there !== null) await copyFile(from, join(options.out, name));
      else if (name === 'quarantine.csv')
        await writeFile(join(options.out, name), `${QUARANTINE_CSV_HEADER}\n`);
      else await rm(join(options.out, name), { force: true });
    }
    if (options.indexOut !== undefined && result.ok)
      await copyFile(join(artifacts, KEYS.carriedIndex(date)), options.indexOut);
    return await readArtifact(
      new FsArtifactStore(options.out),
      'audit.json',
      AuditDocumentSchema,
      `audit of ${date}`,
    );
  } catch (error) {
    const failed = failedAudit({ snapshotDate: null, error: toSentence(error), failedAt: new Date() });
    await writeFile(auditPath, `${JSON.stringify(failed, null, 2)}\n`);
    await writeFile(join(options.out, 'quarantine.csv'), `${QUARANTINE_CSV_HEADER}\n`);
    return failed;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A drift index file written by `--index-out`: its bytes and the date of its tape (null when empty). */
async function readPreviousIndexFile(
  file: string,
): Promise<{ bytes: Uint8Array; snapshotDate: string | null }> {
  const bytes = new Uint8Array(await readFile(file));
  let decoded: ReturnType<typeof decodePreviousIndex>;
  try {
    decoded = decodePreviousIndex(bytes);
  } catch (error) {
    throw new ConfigError(`drift index ${file} cannot be read: ${toSentence(error)}`, { cause: error });
  }
  const { tape, extra } = decoded;
  if (extra.intake === undefined)
    throw new ConfigError(`${file} is a drift index without its tape's intake counts`);
  return { bytes, snapshotDate: tape.snapshotDate };
}

/**
 * Puts a drift index written by `--index-out` where the previous date's run would have left it
 * (KEYS.carriedIndex), described as built with this mapping and these rules from no tape parts:
 * the prepare step then copies it as this run's previous index, as on AWS.
 */
async function seedPreviousIndex(work: string, bytes: Uint8Array, previousDate: string, mapping: string) {
  const artifacts = join(work, 'artifacts');
  const info: CarriedIndexInfo = { parts: [], mapping, rules: VALIDATION_RULES_VERSION };
  await mkdir(join(artifacts, KEYS.runPrefix(previousDate)), { recursive: true });
  await writeFile(join(artifacts, KEYS.carriedIndex(previousDate)), bytes);
  await writeFile(join(artifacts, KEYS.carriedIndexInfo(previousDate)), JSON.stringify(info));
}

/** The map functions with local ports on worker threads (`risk-audit score --shards`, the merge bench). */
export function localStepsOnThreads(threads: number, local: LocalDepsSpec) {
  const pool = new WorkerPool<LambdaJob>(threads, 'lambda-worker-impl.ts');
  return {
    run: async (fn: string, event: unknown) => (await pool.map([{ fn: fn as MapFunction, event, local }]))[0],
    close: () => pool.close(),
  };
}

/** `risk-audit score`: the engine alone on local files. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      "Audit local tape files with no AWS (the pipeline's steps over local files): writes DIR/audit.json, quarantine.csv, report.html and report.txt",
    )
    .requiredOption(...OPTION.snapshot)
    .option(...OPTION.runDate, isoDateOption)
    .option(
      '--previous <file>',
      "an earlier date's tape, for drift and roll rates, or the drift index its run wrote (--index-out)",
    )
    .option(...OPTION.mapping)
    .option(...OPTION.policy)
    .option(...OPTION.out, 'out')
    .option(
      '--shards <n>',
      'split the tape into N row-aligned shards scored on worker threads',
      parseShards,
      1,
    )
    .option(
      '--workers <n>',
      'worker threads scoring the shards at once (default: min(shards, CPUs))',
      parseWorkers,
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
