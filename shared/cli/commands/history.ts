import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import type { LoanHistoryItem } from '../../ports/risk-store.ts';
import { addStoreTargetOptions, fmt, formatTable, type StoreTargetOptions, withRiskStore } from './runs.ts';

/** The rows of a loan's history table: one per date its risk state changed. */
export function historyRows(items: readonly LoanHistoryItem[]): string[][] {
  return items.map((h) => [
    h.snapshotDate,
    h.change,
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

/** Registers `risk-audit history --loan ID`: how a loan got where it is, one line per change. */
export function registerHistory(program: Command): void {
  addStoreTargetOptions(
    program
      .command('history')
      .description(
        "show a loan's risk history: every date its grade, DPD bucket, classification or flags changed",
      )
      .requiredOption('--loan <id>', 'the loan id (loan_id of the tape)'),
  ).action(async (opts: HistoryOptions) => {
    const loanId = (opts.loan ?? '').trim();
    if (loanId === '') throw new ConfigError('--loan needs a loan id');
    await withRiskStore(opts, async (store, where) => {
      const items = await store.getLoanHistory(loanId);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        return;
      }
      if (items.length === 0) {
        process.stdout.write(`No history for loan ${loanId} in ${where}.\n`);
        return;
      }
      process.stdout.write(
        `Loan ${loanId} (borrower ${items[items.length - 1]?.borrowerRef ?? '-'})\n${formatTable(
          ['date', 'change', 'grade', 'DPD bucket', 'classification', 'PD', 'outstanding', 'flags'],
          historyRows(items),
        )}\n`,
      );
    });
  });
}
