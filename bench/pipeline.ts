/**
 * The whole pipeline on the embedded local stack, as a user runs it: `risk-audit run --snapshot
 * day2 --previous day1` on the score bench's two-day book (S3 in s3rver, DynamoDB Local, SES):
 * prepare, score, merge, the loan-id buckets' merges (score files, what changed, DynamoDB writes),
 * finalize and the report, for both dates; once with the book in one loan-id bucket (the default
 * below 1 GiB of tape) and once in two (SCORE_BUCKET_BYTES at half the tape), whose merges run on
 * two worker threads as the second Distributed Map would run them on two Lambdas. Reports the
 * wall time and, from the steps' own log lines, the loans whose risk state changed (the history
 * items written) and the step timings (`bucket.*`: the slowest bucket).
 * Run alone: `npx tsx bench/pipeline.ts [loans] [--default-only]`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { twoDayBook } from './score.ts';

interface FinalizedLine {
  message: string;
  snapshotDate: string;
  buckets: number;
  loanChanges: number;
  watchlist: number;
  breaches: number;
  baseline: boolean;
  timings: Record<string, number>;
}

/**
 * `risk-audit run` on a two-day book of `loans` loans, in one and in two loan-id buckets, or
 * with the default buckets only (`defaultOnly`: the big book, two buckets of 1 GiB at 10M).
 */
export async function benchPipeline(opts: {
  loans: number;
  dir: string;
  defaultOnly?: boolean;
}): Promise<Record<string, unknown>> {
  const book = await twoDayBook(opts.loans, opts.dir);
  if (opts.defaultOnly === true) return { defaultBuckets: await runPipeline(opts.loans, book, undefined) };
  const halfTape = Math.ceil(statSync(book.day2).size / 2);
  return {
    oneBucket: await runPipeline(opts.loans, book, undefined),
    twoBuckets: await runPipeline(opts.loans, book, halfTape),
  };
}

/** One `risk-audit run` of both dates in a fresh state folder, SCORE_BUCKET_BYTES as given. */
async function runPipeline(
  loans: number,
  book: { day1: string; day2: string },
  bucketBytes: number | undefined,
): Promise<Record<string, unknown>> {
  const scratch = mkdtempSync(join(tmpdir(), 'risk-audit-bench-pipeline-'));
  try {
    const t0 = performance.now();
    const stdout = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '..', 'shared', 'cli', 'main.ts'),
        'run',
        '--snapshot',
        book.day2,
        '--previous',
        book.day1,
        '--out',
        join(scratch, 'out'),
        '--state',
        join(scratch, 'state'),
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // The steps' own log lines carry the counts and timings read below.
          POWERTOOLS_LOG_LEVEL: 'INFO',
          ...(bucketBytes === undefined ? {} : { SCORE_BUCKET_BYTES: String(bucketBytes) }),
        },
      },
    );
    const wallSeconds = (performance.now() - t0) / 1000;
    const finalized = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as FinalizedLine)
      .filter((r) => r.message === 'run finalized');
    return {
      loans,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      dates: finalized.map((f) => ({
        snapshotDate: f.snapshotDate,
        buckets: f.buckets,
        baseline: f.baseline,
        loanChanges: f.loanChanges,
        changedShare: Math.round((f.loanChanges / loans) * 10_000) / 10_000,
        watchlist: f.watchlist,
        breaches: f.breaches,
        stepMs: f.timings,
      })),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const defaultOnly = process.argv.includes('--default-only');
  const result = await benchPipeline({ loans, dir: join(import.meta.dirname, '.data'), defaultOnly });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
