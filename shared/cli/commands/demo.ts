import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { FsArtifactStore } from '../../adapters/fs-artifact-store.ts';
import type { AuditResult } from '../../domain/audit-result.ts';
import { addDays } from '../../domain/calendar.ts';
import { defaultPolicyPaths } from '../../domain/policy/policy.ts';
import { ConfigError } from '../../errors.ts';
import type { LocalStack } from '../../local/local-stack.ts';
import { AuditResultSchema } from '../../schema/audit-document.ts';
import { readArtifact } from '../../use-cases/read-artifact.ts';
import {
  auditDate,
  requestBuckets,
  requestShards,
  uploadTape,
  usePolicy,
  withLocalStack,
  writeOutputs,
} from '../local-pipeline.ts';
import { BUCKETS_HELP, DEFAULT_STATE_DIR, OPTION, parseBuckets, parseShards } from '../options.ts';
import { headlineLines } from '../output.ts';
import { generateTape } from './generate.ts';

export interface DemoOptions {
  loans: number;
  out: string;
  date: string;
  hold?: boolean;
  state?: string;
  fresh?: boolean;
  seed: string;
  /** About this many shards a day, scored on worker threads; the tapes are then written uncompressed. */
  shards?: number;
  /** Loan-id buckets (a power of two) the scored loans are merged in, on worker threads. */
  buckets?: number;
  /** A rule pack or risk appetite replacing the default one of its kind. */
  policy?: string;
}

function parseCount(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 100 || n > 20_000_000) {
    throw new ConfigError(`--loans must be a whole number from 100 to 20,000,000, got ${value}`);
  }
  return n;
}

/** Waits for Ctrl-C while the stack stays up. */
function holdUntilInterrupted(stack: LocalStack): Promise<void> {
  process.stdout.write(`\nLocal stack held: emails at ${stack.endpoints.sesWeb} · press Ctrl-C to stop\n`);
  return new Promise((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}

/**
 * The demo: a two-day synthetic book through the whole pipeline on the embedded stack, through
 * the same handlers as Lambda, with the report emailed to the local SES.
 */
export async function runDemo(
  options: DemoOptions,
): Promise<{ audit: AuditResult; files: Record<string, string> }> {
  const work = await mkdtemp(join(tmpdir(), 'risk-audit-demo-'));
  // The demo's lender: the default online micro-loan company with example net assets, so the
  // net-asset limits are checked too (the steps read POLICY_FILE, as the Lambdas do).
  process.env.POLICY_FILE ??= join(
    dirname(defaultPolicyPaths().rules),
    'lenders',
    'demo-online-micro-loan.yaml',
  );
  const day2 = options.date;
  const day1 = addDays(day2, -1);
  try {
    const bar = new SingleBar({
      format: ' {task} [{bar}] {percentage}% · {value}/{total}',
      hideCursor: true,
    });
    const log = (line: string): void => {
      process.stdout.write(`${line}\n`);
    };
    log(`Generating a two-day book of ${options.loans.toLocaleString('en-US')} loans (${day1}, ${day2})...`);
    // A gzip tape cannot be read from the middle: asked for shards, the demo writes plain CSV.
    const ext = options.shards === undefined ? 'csv.gz' : 'csv';
    const tape1 = join(work, `loans-${day1}.${ext}`);
    const tape2 = join(work, `loans-${day2}.${ext}`);
    bar.start(2, 0, { task: 'generate' });
    await generateTape({ loans: options.loans, date: day1, seed: options.seed, badRows: 0, out: tape1 });
    bar.update(1);
    await generateTape({ from: tape1, date: day2, seed: options.seed, badRows: 12, out: tape2 });
    bar.update(2);
    bar.stop();
    if (options.policy !== undefined) await usePolicy(options.policy);
    if (options.shards !== undefined) requestShards((await stat(tape2)).size, options.shards);
    if (options.buckets !== undefined) requestBuckets((await stat(tape2)).size, options.buckets);
    return await withLocalStack(
      {
        ...(options.state ? { stateDir: options.state } : {}),
        fresh: options.fresh ?? false,
        ...(options.hold ? { hold: holdUntilInterrupted } : {}),
      },
      async (stack) => {
        log(`Local AWS stack up in ${(stack.startupMs / 1000).toFixed(1)} s (state ${stack.stateDir})`);
        await uploadTape(tape1, day1);
        await uploadTape(tape2, day2);
        log('Tapes uploaded to S3; auditing both days through the Lambda handlers...');
        for (const [date, email] of [
          [day1, false],
          [day2, true],
        ] as const) {
          // The steps are the state machine's (its definition says which and in what order).
          process.stdout.write(`  ${date}:`);
          const details: Record<string, string> = {};
          const result = await auditDate(date, {
            sendReport: email,
            onStep: (s, detail) => {
              if (detail) details[s] = ` (${detail})`;
              process.stdout.write(` ${s}`);
            },
          });
          process.stdout.write(result.ok ? ' · done\n' : ' · failed\n');
          log(
            `    ${Object.entries(result.timings)
              .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s${details[k] ?? ''}`)
              .join(' · ')}`,
          );
          if (!result.ok) throw new ConfigError(`the demo audit of ${date} failed: ${result.reason}`);
        }
        const outDir = resolve(options.out);
        const files = await writeOutputs(day2, outDir);
        const audit = await readArtifact(
          new FsArtifactStore(outDir),
          'audit.json',
          AuditResultSchema,
          `audit of ${day2}`,
        );
        log('');
        for (const line of headlineLines(audit)) log(line);
        log(
          `  full report: ${files['report.html']} · email: email.html, report.txt, report.eml (also in the local SES)`,
        );
        log(`  audit:  ${files['audit.json']} · quarantine: ${files['quarantine.csv']}`);
        return { audit, files };
      },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `risk-audit demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Audit a generated two-day book end to end on the embedded local AWS stack (S3, DynamoDB, SES), email included',
    )
    .option('--loans <n>', 'loans in the synthetic book', parseCount, 50_000)
    .option(
      '--out <dir>',
      'where audit.json, report.html, report.txt, report.eml and quarantine.csv go',
      'out',
    )
    .option(
      '--date <YYYY-MM-DD>',
      'as-of date of the second day',
      addDays(new Date().toISOString().slice(0, 10), -1),
    )
    .option('--seed <seed>', 'seed of the synthetic book', '42')
    .option(...OPTION.state, DEFAULT_STATE_DIR)
    .option('--fresh', 'wipe the state folder first')
    .option('--hold', 'keep the local stack up afterwards and print the local email page')
    .option(
      '--shards <n>',
      'split each day into about n shards of at least 1 MiB (tapes written as plain CSV), scored on worker threads',
      parseShards,
    )
    .option('--buckets <n>', BUCKETS_HELP, parseBuckets)
    .option(...OPTION.policy)
    .action(async (opts: DemoOptions) => {
      await runDemo(opts);
    });
}
