import type { Command } from 'commander';
import { localTapeParts } from '../../adapters/tape/local-tape-source.ts';
import { scanTape } from '../../adapters/tape/read-tape.ts';
import { openTapeWriter, tapeFileFormat } from '../../adapters/tape/tape-writer.ts';
import { generateBook, newLoans, rollLoan } from '../../domain/generator/book.ts';
import { isIsoDate, shiftIsoDays } from '../../domain/tape/values.ts';
import { ConfigError } from '../../errors.ts';

/** Options of `risk-audit generate`. */
export interface GenerateOptions {
  loans?: number | undefined;
  date?: string | undefined;
  seed?: string | undefined;
  from?: string | undefined;
  badRows?: number | undefined;
  out: string;
}

/** What generate wrote. */
export interface GenerateSummary {
  out: string;
  date: string;
  loans: number;
  /** Loans carried from --from (before closures), or null for a fresh book. */
  previousLoans: number | null;
}

/**
 * Writes a synthetic tape: a fresh book, or (with `from`) yesterday's tape rolled forward one day.
 * Rolling forward streams the previous tape through the writer, so memory stays flat.
 */
export async function generateTape(options: GenerateOptions): Promise<GenerateSummary> {
  tapeFileFormat(options.out);
  if (options.date !== undefined && !isIsoDate(options.date)) {
    throw new ConfigError(`--date must be a real date as YYYY-MM-DD, got ${options.date}`);
  }
  const seed = options.seed ?? '1';
  if (options.from === undefined) {
    if (options.loans === undefined || !Number.isInteger(options.loans) || options.loans < 1) {
      throw new ConfigError(`--loans must be a whole number of at least 1, got ${String(options.loans)}`);
    }
    if (options.date === undefined) throw new ConfigError('--date is required (YYYY-MM-DD)');
    const writer = openTapeWriter(options.out);
    for (const loan of generateBook({
      loans: options.loans,
      date: options.date,
      seed,
      badRows: options.badRows ?? 0,
    })) {
      writer.write(loan);
    }
    const loans = await writer.close();
    return { out: options.out, date: options.date, loans, previousLoans: null };
  }
  const parts = await localTapeParts(options.from);
  const writer = openTapeWriter(options.out);
  const seen: { count: number; date: string | null; day: string | null } = {
    count: 0,
    date: null,
    day: options.date ?? null,
  };
  const result = await scanTape(
    parts,
    {},
    {
      loan: (loan) => {
        seen.count++;
        if (seen.date === null) {
          seen.date = loan.snapshotDate;
          seen.day ??= shiftIsoDays(loan.snapshotDate, 1);
          if (seen.day <= seen.date) {
            throw new ConfigError(`--date ${seen.day} must be after the previous tape's date ${seen.date}`);
          }
        }
        const next = rollLoan(loan, seen.day!, seed);
        if (next !== null) writer.write(next);
      },
      // Yesterday's bad rows are not carried forward: only valid loans roll.
      quarantine: () => undefined,
    },
  );
  const day = seen.day ?? shiftIsoDays(result.snapshotDate ?? '1970-01-01', 1);
  for (const loan of newLoans(seen.count, seen.date ?? day, {
    date: day,
    seed,
    badRows: options.badRows ?? 0,
  })) {
    writer.write(loan);
  }
  const loans = await writer.close();
  return { out: options.out, date: day, loans, previousLoans: seen.count };
}

function wholeNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number, got ${value}`);
    return n;
  };
}

/** `risk-audit generate`: writes a realistic synthetic loan tape (the demo's data). */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'Write a synthetic loan tape: individuals and enterprises over the three products, lognormal amounts, ' +
        'a few heavy borrowers, a delinquency tail, vulnerable borrowers and a handful of compliance breaches. ' +
        'Deterministic for a seed. With --from, rolls that tape forward one day (repayments, closures, new loans, ' +
        'loans rolling into and curing out of delinquency).',
    )
    .option('--loans <n>', 'number of loans of a fresh book (ignored with --from)', wholeNumber('--loans'))
    .option('--date <YYYY-MM-DD>', "as-of date (default with --from: the previous tape's date + 1)")
    .option('--seed <s>', 'random seed; the same seed gives the same tape', '1')
    .option('--from <file>', "yesterday's tape to roll forward")
    .option(
      '--bad-rows <n>',
      'deliberately invalid rows to mix in (shows quarantine)',
      wholeNumber('--bad-rows'),
      0,
    )
    .requiredOption('--out <file>', 'output file: .csv, .csv.gz, .jsonl, .jsonl.gz or .parquet')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  risk-audit generate --loans 100000 --date 2026-11-24 --seed 7 --out day1.csv.gz\n' +
        '  risk-audit generate --from day1.csv.gz --seed 7 --out day2.csv.gz\n',
    )
    .action(
      async (opts: {
        loans?: number;
        date?: string;
        seed: string;
        from?: string;
        badRows: number;
        out: string;
      }) => {
        const started = Date.now();
        const summary = await generateTape({
          loans: opts.loans,
          date: opts.date,
          seed: opts.seed,
          from: opts.from,
          badRows: opts.badRows,
          out: opts.out,
        });
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        const carried =
          summary.previousLoans === null
            ? ''
            : ` (rolled from ${summary.previousLoans.toLocaleString('en-US')})`;
        process.stdout.write(
          `wrote ${summary.loans.toLocaleString('en-US')} loans as of ${summary.date}${carried} to ${summary.out} in ${secs}s\n`,
        );
      },
    );
}
