import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import type { WatchlistEntry } from '../../ports/risk-store.ts';
import { parseWholeNumber } from '../options.ts';
import { addStoreTargetOptions, fmt, formatTable, type StoreTargetOptions, withRiskStore } from './runs.ts';

/** The rows of a watchlist table, in rank order. */
export function watchlistRows(entries: readonly WatchlistEntry[]): string[][] {
  return entries.map((e) => [
    String(e.rank),
    e.loanId,
    e.grade,
    String(Math.round(e.score)),
    fmt.pct(e.pd, 1),
    e.dpdBucket,
    e.classification,
    fmt.money(e.outstanding),
    fmt.money(e.el),
    e.product,
    e.flags.length === 0 ? '-' : e.flags.join(','),
    e.reasons.length === 0 ? '-' : e.reasons.join(','),
  ]);
}

interface WatchlistOptions extends StoreTargetOptions {
  date?: string;
  limit: string;
  json?: boolean;
}

/** Registers `risk-audit watchlist --date D`: the riskiest loans of a date (grade D/E or any breach). */
export function registerWatchlist(program: Command): void {
  addStoreTargetOptions(
    program
      .command('watchlist')
      .description("show a date's watchlist, riskiest first (grade D/E or any compliance breach)")
      .option('--date <yyyy-mm-dd>', 'the as-of date (default: the latest completed run)')
      .option('--limit <n>', 'how many entries', '50'),
  ).action(async (opts: WatchlistOptions) => {
    if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
      throw new ConfigError(`--date must be a date like 2026-01-31, got ${opts.date}`);
    }
    const limit = parseWholeNumber('--limit', opts.limit, 1, 100_000);
    await withRiskStore(opts, async (store, where) => {
      const date =
        opts.date ??
        (await store.listRuns(30)).find((r) => r.status === 'ok' || r.status === 'partial')?.snapshotDate;
      if (date === undefined) {
        process.stdout.write(`No completed run recorded yet in ${where}.\n`);
        return;
      }
      const entries = await store.getWatchlist(date, limit);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) {
        process.stdout.write(`No watchlist for ${date} in ${where}.\n`);
        return;
      }
      process.stdout.write(
        `Watchlist ${date} (top ${entries.length})\n${formatTable(
          [
            'rank',
            'loan',
            'grade',
            'score',
            'PD',
            'DPD',
            'classification',
            'outstanding',
            'exp. loss',
            'product',
            'flags',
            'reasons',
          ],
          watchlistRows(entries),
        )}\n`,
      );
    });
  });
}
