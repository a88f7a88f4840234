import type { Command } from 'commander';
import {
  deployedClients,
  type ExecutionStatus,
  executionStatus,
  readStackOutputs,
  startAudit,
} from '../../adapters/deployed-stack.ts';
import { addDays, daysBetween } from '../../domain/calendar.ts';
import { ConfigError, RiskAuditError } from '../../errors.ts';
import { OnDemandRequestSchema } from '../../use-cases/workflow-types.ts';

export interface InvokeOptions {
  date?: string;
  from?: string;
  to?: string;
  stack: string;
  region?: string;
  wait: boolean;
  pollSeconds: number;
  /** A re-run asked for by a person: a new execution even within start-audit's idempotency window. */
  rerun?: boolean;
}

/** A deployed run that did not succeed. */
export class DeployedRunFailedError extends RiskAuditError {}

/** The dates an invoke covers, in date order: one date, or every date from `from` to `to`. */
export function datesToRun(options: Pick<InvokeOptions, 'date' | 'from' | 'to'>): string[] {
  const valid = (d: string, flag: string): string => {
    if (!OnDemandRequestSchema.safeParse({ snapshotDate: d }).success) {
      throw new ConfigError(`${flag} must be a real date as YYYY-MM-DD, got ${d}`);
    }
    return d;
  };
  if (options.date !== undefined) {
    if (options.from !== undefined || options.to !== undefined) {
      throw new ConfigError('give either --date or --from/--to, not both');
    }
    return [valid(options.date, '--date')];
  }
  if (options.from === undefined || options.to === undefined) {
    throw new ConfigError('give --date D, or --from D1 --to D2 for a backfill');
  }
  const from = valid(options.from, '--from');
  const to = valid(options.to, '--to');
  const n = daysBetween(from, to);
  if (n < 0) throw new ConfigError(`--from ${from} is after --to ${to}`);
  if (n > 366) throw new ConfigError(`a backfill covers at most 367 days, got ${n + 1}`);
  return Array.from({ length: n + 1 }, (_, i) => addDays(from, i));
}

/** Polls an execution until it ends, printing each new step; returns the final status. */
export async function followExecution(
  poll: () => Promise<ExecutionStatus>,
  options: { pollMs: number; print: (line: string) => void; sleep?: (ms: number) => Promise<void> },
): Promise<ExecutionStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastStep: string | null = null;
  for (;;) {
    const s = await poll();
    if (s.step !== null && s.step !== lastStep) {
      options.print(`  ${s.step}...`);
      lastStep = s.step;
    }
    if (s.status !== 'RUNNING') return s;
    await sleep(options.pollMs);
  }
}

/** `risk-audit invoke`: starts (and follows) audits of a deployed stack, one date or a backfill in date order. */
export async function invokeDeployed(options: InvokeOptions): Promise<void> {
  const dates = datesToRun(options);
  const clients = deployedClients(options.region);
  const outputs = await readStackOutputs(clients.cfn, options.stack);
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  for (const date of dates) {
    const started = await startAudit(clients.lambda, outputs.startAuditFunctionName, date, {
      rerun: options.rerun === true,
    });
    print(`${date}: execution ${started.executionId}`);
    if (!options.wait) continue;
    const final = await followExecution(() => executionStatus(clients.sfn, started.executionId), {
      pollMs: options.pollSeconds * 1000,
      print,
    });
    print(`${date}: ${final.status.toLowerCase()}`);
    if (final.status !== 'SUCCEEDED') {
      throw new DeployedRunFailedError(
        `the audit of ${date} ended ${final.status.toLowerCase()}: ${final.error ?? 'no error given'}`,
      );
    }
  }
}

/** Registers `risk-audit invoke`. */
export function registerInvoke(program: Command): void {
  program
    .command('invoke')
    .description(
      'Start the audit of a date (or a backfill of dates, in order) on a deployed stack and follow it',
    )
    .option('--date <YYYY-MM-DD>', 'the as-of date to audit')
    .option('--from <YYYY-MM-DD>', 'first date of a backfill')
    .option('--to <YYYY-MM-DD>', 'last date of a backfill')
    .option('--stack <name>', 'the CloudFormation stack name', 'RiskAudit')
    .option('--region <region>', "AWS region (default: the environment's)")
    .option(
      '--rerun',
      'audit the date again even if it was started within the hour (a plain start returns that execution)',
    )
    .option('--no-wait', 'start and return without following the run')
    .option('--poll-seconds <n>', 'seconds between status checks', (v) => Number(v), 5)
    .action(async (opts: InvokeOptions) => {
      await invokeDeployed(opts);
    });
}
