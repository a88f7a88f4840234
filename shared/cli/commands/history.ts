import type { Command } from 'commander';
import { nodeGzip } from '../../adapters/gzip.ts';
import { LOCAL_BORROWER_REF_KEY } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { LoanHistoryEntry } from '../../ports/risk-store.ts';
import { loanHistory } from '../../use-cases/loan-history.ts';
import { addStoreTargetOptions, fmt, formatTable, type StoreTargetOptions, withResults } from './runs.ts';

/** The rows of a loan's history table: its first audited day, then one per date its risk state changed. */
export function historyRows(items: readonly LoanHistoryEntry[]): string[][] {
  return items.map((h) => [
    h.snapshotDate,
    h.change === 'baseline' ? 'first day' : h.change,
    h.previousGrade !== null && h.grade !== null && h.previousGrade !== h.grade
      ? `${h.previousGrade}->${h.grade}`
      : fmt.text(h.grade ?? (h.previousGrade === null ? null : `(${h.previousGrade})`)),
    h.previousDpdBucket !== null && h.dpdBucket !== null && h.previousDpdBucket !== h.dpdBucket
      ? `${h.previousDpdBucket}->${h.dpdBucket}`
      : fmt.text(h.dpdBucket),
    fmt.text(h.classification),
    h.pd === null ? '-' : fmt.pct(h.pd, 1),
    fmt.money(h.outstanding),
    h.flags.length === 0 ? '-' : h.flags.join(','),
  ]);
}

interface HistoryOptions extends StoreTargetOptions {
  loan?: string;
  json?: boolean;
}

/**
 * The key of borrower references, for a loan no stored item names the borrower of: the local
 * stack's (BORROWER_REF_KEY or its default); for a deployed stack only BORROWER_REF_KEY if given
 * (its key is a secret in Secrets Manager), else none and the reference is left out.
 */
function borrowerRefKey(deployed: boolean): string | null {
  return process.env.BORROWER_REF_KEY ?? (deployed ? null : LOCAL_BORROWER_REF_KEY);
}

/** Registers `risk-audit history --loan ID`: how a loan got where it is, from its first audited day. */
export function registerHistory(program: Command): void {
  addStoreTargetOptions(
    program
      .command('history')
      .description(
        "show a loan's risk history: its state on the first audited date it appears, then every date its grade, DPD bucket, classification or flags changed",
      )
      .requiredOption('--loan <id>', 'the loan id (loan_id of the tape)')
      .option(
        '--bucket <name>',
        "with --table: the deployed stack's bucket, whose score files hold a loan's first day",
      ),
  ).action(async (opts: HistoryOptions) => {
    const loanId = (opts.loan ?? '').trim();
    if (loanId === '') throw new ConfigError('--loan needs a loan id');
    await withResults(opts, async (store, artifacts, where) => {
      const items =
        artifacts === null
          ? await store.getLoanHistory(loanId)
          : await loanHistory(loanId, {
              store,
              artifacts,
              gzip: nodeGzip,
              borrowerRefKey: borrowerRefKey(opts.table !== undefined),
            });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      if (items.length === 0) {
        process.stdout.write(`No history for loan ${loanId} in ${where}.\n`);
        return;
      }
      const note =
        artifacts === null && items[0]?.change !== 'new'
          ? "\n(its state on the first audited day is in that date's score file: add --bucket to read it)\n"
          : '\n';
      process.stdout.write(
        `Loan ${loanId} (borrower ${items[items.length - 1]?.borrowerRef ?? '-'})\n${formatTable(
          ['date', 'change', 'grade', 'DPD bucket', 'classification', 'PD', 'outstanding', 'flags'],
          historyRows(items),
        )}${note}`,
      );
    });
  });
}
