import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client } from '../adapters/aws-clients.ts';
import { loadPolicy } from '../adapters/config-files.ts';
import { S3ArtifactStore } from '../adapters/s3-artifact-store.ts';
import { MIN_SHARD_BYTES } from '../config.ts';
import { applyLocalEnv, type LocalStack, startLocalStack } from '../local/local-stack.ts';
import { KEYS, LOCAL_BUCKET } from '../schema/tables.ts';
import { type LocalRunResult, runWorkflowLocally } from './local-runner.ts';

export { peekSnapshotDate } from './peek.ts';

/** Environment of the local runs: quiet Powertools, a local sender and recipient. */
const LOCAL_DEFAULTS: Record<string, string> = {
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_TRACE_ENABLED: 'false',
  REPORT_SENDER: 'risk-audit@example.com',
  REPORT_RECIPIENTS: 'risk-team@example.com',
};

/** Starts the embedded stack, points this process at it, runs `work`, and always stops the stack. */
export async function withLocalStack<T>(
  options: {
    stateDir?: string;
    fresh?: boolean;
    quiet?: boolean;
    hold?: (stack: LocalStack) => Promise<void>;
  },
  work: (stack: LocalStack) => Promise<T>,
): Promise<T> {
  const stack = await startLocalStack({
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    fresh: options.fresh ?? false,
    quiet: options.quiet ?? true,
  });
  try {
    applyLocalEnv(stack);
    for (const [k, v] of Object.entries(LOCAL_DEFAULTS)) process.env[k] ??= v;
    const result = await work(stack);
    if (options.hold) await options.hold(stack);
    return result;
  } finally {
    await stack.stop();
  }
}

/** Uploads a local tape file to the bucket under its date's prefix, streaming. */
export async function uploadTape(
  path: string,
  date: string,
  client: S3Client = createS3Client(),
): Promise<string> {
  const key = `${KEYS.tapePrefix(date)}${basename(path)}`;
  const bytes = (await stat(path)).size;
  await new Upload({
    client,
    params: {
      Bucket: process.env.BUCKET_NAME ?? LOCAL_BUCKET,
      Key: key,
      Body: createReadStream(path),
      ContentLength: bytes,
    },
  }).done();
  return key;
}

/**
 * Asks the prepare step to split a tape of `tapeBytes` into about `shards` row-aligned byte
 * ranges, through SHARD_BYTES (never below the minimum it accepts, so a small tape gets fewer).
 * Only uncompressed CSV and JSON Lines tapes split: a gzip or Parquet file stays one shard. Call
 * it before the first run: the prepare handler reads its environment once.
 */
export function requestShards(tapeBytes: number, shards: number): number {
  const shardBytes = Math.max(MIN_SHARD_BYTES, Math.ceil(tapeBytes / shards));
  process.env.SHARD_BYTES = String(shardBytes);
  return shardBytes;
}

/**
 * Makes every step (in this process and on worker threads started after) read the rule pack or
 * risk appetite in `file` instead of the default of its kind, as the stack's `policyFile` does
 * (POLICY_FILE); the file is loaded and checked now, so a mistake fails before anything runs.
 */
export async function usePolicy(file: string): Promise<void> {
  const path = resolve(file);
  await loadPolicy(path);
  process.env.POLICY_FILE = path;
}

/**
 * Asks the prepare step to split a tape of `tapeBytes` into `buckets` loan-id buckets (a power of
 * two), merged on worker threads, through SCORE_BUCKET_BYTES. Call it before the first run: the
 * prepare handler reads its environment once.
 */
export function requestBuckets(tapeBytes: number, buckets: number): number {
  const bucketBytes = Math.max(1024, Math.ceil(tapeBytes / buckets));
  process.env.SCORE_BUCKET_BYTES = String(bucketBytes);
  return bucketBytes;
}

/** Runs the audit workflow of one date through the Lambda handlers, its shards on worker threads. */
export function auditDate(
  date: string,
  options: {
    sendReport: boolean;
    /** The previous tape's date to compare against (default: the day before). */
    previousDate?: string;
    onStep?: (s: string, detail?: string) => void;
  },
): Promise<LocalRunResult> {
  return runWorkflowLocally(
    {
      snapshotDate: date,
      ...(options.previousDate === undefined ? {} : { previousSnapshotDate: options.previousDate }),
      trigger: 'local',
    },
    { sendReport: options.sendReport, ...(options.onStep ? { onStep: options.onStep } : {}) },
  );
}

/** Copies a date's audit, quarantine file, full report and email from the bucket into a folder. */
export async function writeOutputs(date: string, outDir: string): Promise<Record<string, string>> {
  await mkdir(outDir, { recursive: true });
  const store = new S3ArtifactStore(createS3Client(), process.env.BUCKET_NAME ?? LOCAL_BUCKET);
  const files: Record<string, string> = {
    'audit.json': KEYS.audit(date),
    'quarantine.csv': KEYS.quarantine(date),
    'report.html': KEYS.reportHtml(date),
    'email.html': KEYS.emailHtml(date),
    'report.txt': KEYS.reportText(date),
    'report.eml': KEYS.reportEml(date),
  };
  const written: Record<string, string> = {};
  for (const [name, key] of Object.entries(files)) {
    const bytes = await store.get(key);
    if (bytes === null) continue;
    const path = join(outDir, name);
    await writeFile(path, bytes);
    written[name] = path;
  }
  return written;
}
