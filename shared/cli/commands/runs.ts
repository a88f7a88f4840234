import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createDocumentClient, createDynamoClient, createS3Client } from '../../adapters/aws-clients.ts';
import { DynamoRiskStore } from '../../adapters/dynamo-risk-store.ts';
import { S3ArtifactStore } from '../../adapters/s3-artifact-store.ts';
import { ConfigError } from '../../errors.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import type { ArtifactStore } from '../../ports/artifact-store.ts';
import type { RiskStore, RunSummary } from '../../ports/risk-store.ts';
import { LOCAL_BUCKET } from '../../schema/tables.ts';
import { parseWholeNumber } from '../options.ts';

/** Where the store commands read: the local state folder (default) or a deployed table (and bucket). */
export interface StoreTargetOptions {
  state?: string;
  table?: string;
  bucket?: string;
  region?: string;
}

/** Adds --state / --table / --region to a store command. */
export function addStoreTargetOptions(command: Command): Command {
  return command
    .option('--state <dir>', 'state folder of the local stack', '.risk-audit')
    .option('--table <name>', 'read a deployed stack: its DynamoDB table name (uses the real AWS endpoints)')
    .option('--region <region>', 'AWS region of the deployed table (default: AWS_REGION)')
    .option('--json', 'print JSON for machines instead of a table');
}

/** Opens the store the options name, runs `work` on it, and always closes clients and stops a local stack. */
export async function withRiskStore<T>(
  options: StoreTargetOptions,
  work: (store: RiskStore, where: string) => Promise<T>,
): Promise<T> {
  return withResults(options, (store, _artifacts, where) => work(store, where));
}

/**
 * Like withRiskStore, with the run files too (score files): the local stack's bucket, or a
 * deployed stack's bucket when `bucket` is given (null otherwise).
 */
export async function withResults<T>(
  options: StoreTargetOptions,
  work: (store: RiskStore, artifacts: ArtifactStore | null, where: string) => Promise<T>,
): Promise<T> {
  if (options.table !== undefined) {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new ConfigError('--table needs --region (or AWS_REGION) to find the deployed table');
    // The real endpoints: endpoint overrides of a local session are left out on purpose.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_ENDPOINT_URL')),
    );
    env.AWS_REGION = region;
    const ddb = createDynamoClient(env);
    const doc = createDocumentClient(ddb);
    const s3 = options.bucket === undefined ? null : createS3Client(env);
    try {
      return await work(
        new DynamoRiskStore(doc, options.table),
        s3 === null || options.bucket === undefined ? null : new S3ArtifactStore(s3, options.bucket),
        `table ${options.table} (${region})`,
      );
    } finally {
      doc.destroy();
      ddb.destroy();
      s3?.destroy();
    }
  }
  const stateDir = resolve(options.state ?? '.risk-audit');
  const stack = await startLocalStack({ stateDir, quiet: true });
  const ddb = createDynamoClient(stack.env);
  const doc = createDocumentClient(ddb);
  const s3 = createS3Client(stack.env);
  try {
    return await work(
      new DynamoRiskStore(doc, stack.env.TABLE_NAME!),
      new S3ArtifactStore(s3, stack.env.BUCKET_NAME ?? LOCAL_BUCKET),
      `local state ${stateDir}`,
    );
  } finally {
    doc.destroy();
    ddb.destroy();
    s3.destroy();
    await stack.stop();
  }
}

/** Left-aligned text columns (right-aligned when every value of a column is a number-like string). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+%?$|^-$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Formatting helpers shared by the store commands. */
export const fmt = {
  money: (x: number | null): string =>
    x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: 0 }),
  pct: (x: number | null, digits = 2): string => (x === null ? '-' : `${(x * 100).toFixed(digits)}%`),
  count: (x: number | null): string => (x === null ? '-' : x.toLocaleString('en-US')),
  text: (x: string | null | undefined): string => (x === null || x === undefined || x === '' ? '-' : x),
};

function duration(run: RunSummary): string {
  if (run.finishedAt === null) return '-';
  const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${(ms / 60_000).toFixed(1)}m`;
}

/** The rows of the runs table. */
export function runRows(runs: readonly RunSummary[]): string[][] {
  return runs.map((r) => [
    r.snapshotDate,
    r.status,
    fmt.text(r.overall),
    fmt.count(r.loanCount),
    fmt.money(r.totalOutstanding),
    fmt.pct(r.nplRatio),
    fmt.money(r.expectedLoss),
    fmt.count(r.loansInBreach ?? null),
    fmt.count(r.rulesBreached ?? null),
    fmt.count(r.findings),
    fmt.count(r.rowsQuarantined),
    duration(r),
    r.error === null ? r.runId : `${r.runId}: ${r.error}`,
  ]);
}

const RUN_HEADERS = [
  'date',
  'status',
  'overall',
  'loans',
  'outstanding',
  'NPL',
  'exp. loss',
  'loans in breach',
  'rules breached',
  'findings',
  'quarantined',
  'took',
  'run',
] as const;

interface RunsOptions extends StoreTargetOptions {
  last: string;
  json?: boolean;
}

/** Registers `risk-audit runs [--last N]`: the last runs, newest first, for trends. */
export function registerRuns(program: Command): void {
  addStoreTargetOptions(
    program
      .command('runs')
      .description('list the last audit runs, newest first (status, headline figures, errors)')
      .option('--last <n>', 'how many runs', '10'),
  ).action(async (opts: RunsOptions) => {
    const last = parseWholeNumber('--last', opts.last, 1, 1000);
    await withRiskStore(opts, async (store, where) => {
      const runs = await store.listRuns(last);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (runs.length === 0) {
        process.stdout.write(`No runs recorded yet in ${where}.\n`);
        return;
      }
      process.stdout.write(`${formatTable(RUN_HEADERS, runRows(runs))}\n`);
    });
  });
}
