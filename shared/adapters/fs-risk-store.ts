import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { breachOrder } from '../domain/engine/ranking.ts';
import { RunInProgressError } from '../errors.ts';
import type {
  BreachEntry,
  BreachItem,
  LoanChange,
  LoanHistoryItem,
  ReplaceReport,
  RiskStore,
  RunSummary,
  WatchlistEntry,
} from '../ports/risk-store.ts';

/**
 * The results store as JSON files under a folder: the store of `risk-audit score`, which runs the
 * workflow's steps with no AWS at all. One file per run record, lease, history part, watchlist
 * and breach index; every step may run on its own thread (they share only the folder). Made for
 * one run's worth of items, not for a book's years of history (DynamoDB's job).
 */
export class FsRiskStore implements RiskStore {
  private readonly root: string;

  public constructor(root: string) {
    this.root = resolve(root);
  }

  private async readJson<T>(...path: string[]): Promise<T | null> {
    try {
      return JSON.parse(await readFile(join(this.root, ...path), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private async writeJson(value: unknown, ...path: string[]): Promise<void> {
    const file = join(this.root, ...path);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, JSON.stringify(value));
  }

  public async acquireLease(snapshotDate: string, runId: string, ttlSeconds: number): Promise<void> {
    const file = join(this.root, 'leases', `${snapshotDate}.json`);
    await mkdir(join(this.root, 'leases'), { recursive: true });
    const until = Date.now() + ttlSeconds * 1000;
    try {
      await writeFile(file, JSON.stringify({ runId, until }), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await this.readJson<{ runId: string; until: number }>('leases', `${snapshotDate}.json`);
    if (held !== null && held.until > Date.now() && held.runId !== runId)
      throw new RunInProgressError(
        `the audit of ${snapshotDate} is already running (run ${held.runId}, lease held until ${new Date(held.until).toISOString()}); wait for it to finish or for its lease to expire`,
      );
    await writeFile(file, JSON.stringify({ runId, until }));
  }

  public async releaseLease(snapshotDate: string, runId: string): Promise<void> {
    const held = await this.readJson<{ runId: string }>('leases', `${snapshotDate}.json`);
    if (held?.runId === runId) await rm(join(this.root, 'leases', `${snapshotDate}.json`), { force: true });
  }

  public async recordRun(summary: RunSummary): Promise<void> {
    await this.writeJson(summary, 'runs', `${summary.snapshotDate}.json`);
  }

  public getRun(snapshotDate: string): Promise<RunSummary | null> {
    return this.readJson<RunSummary>('runs', `${snapshotDate}.json`);
  }

  public async listRuns(limit: number): Promise<RunSummary[]> {
    const names = (await readdir(join(this.root, 'runs')).catch(() => [] as string[])).sort().reverse();
    const out: RunSummary[] = [];
    for (const name of names.slice(0, limit)) {
      const run = await this.readJson<RunSummary>('runs', name);
      if (run !== null) out.push(run);
    }
    return out;
  }

  public async writeLoanChanges(
    snapshotDate: string,
    runId: string,
    part: number,
    changes: readonly LoanChange[],
  ): Promise<ReplaceReport> {
    await this.writeJson(changes, 'history', snapshotDate, runId, `${part}.json`);
    return { written: changes.length, deleted: 0 };
  }

  public async retireLoanChanges(snapshotDate: string, runId: string): Promise<ReplaceReport> {
    const dir = join(this.root, 'history', snapshotDate);
    let deleted = 0;
    for (const run of await readdir(dir).catch(() => [] as string[])) {
      if (run === runId) continue;
      for (const part of await readdir(join(dir, run)))
        deleted += ((await this.readJson<LoanChange[]>('history', snapshotDate, run, part)) ?? []).length;
      await rm(join(dir, run), { recursive: true, force: true });
    }
    return { written: 0, deleted };
  }

  public async getLoanHistory(loanId: string, limit = 1000): Promise<LoanHistoryItem[]> {
    const out: LoanHistoryItem[] = [];
    const dates = (await readdir(join(this.root, 'history')).catch(() => [] as string[])).sort();
    for (const snapshotDate of dates) {
      for (const runId of await readdir(join(this.root, 'history', snapshotDate))) {
        for (const part of await readdir(join(this.root, 'history', snapshotDate, runId))) {
          const changes = (await this.readJson<LoanChange[]>('history', snapshotDate, runId, part)) ?? [];
          for (const c of changes) if (c.loanId === loanId) out.push({ ...c, snapshotDate, runId });
        }
      }
    }
    return out.slice(0, limit);
  }

  public async replaceWatchlist(
    snapshotDate: string,
    _runId: string,
    entries: readonly WatchlistEntry[],
  ): Promise<ReplaceReport> {
    await this.writeJson(entries, 'watchlists', `${snapshotDate}.json`);
    return { written: entries.length, deleted: 0 };
  }

  public async getWatchlist(snapshotDate: string, limit: number): Promise<WatchlistEntry[]> {
    return ((await this.readJson<WatchlistEntry[]>('watchlists', `${snapshotDate}.json`)) ?? []).slice(
      0,
      limit,
    );
  }

  public async replaceBreaches(
    snapshotDate: string,
    runId: string,
    breaches: readonly BreachEntry[],
  ): Promise<ReplaceReport> {
    await this.writeJson(
      breaches.map((b) => ({ ...b, snapshotDate, runId })),
      'breaches',
      `${snapshotDate}.json`,
    );
    return { written: breaches.length, deleted: 0 };
  }

  public async getBreaches(ruleCode: string, snapshotDate: string, limit?: number): Promise<BreachItem[]> {
    const all = (await this.readJson<BreachItem[]>('breaches', `${snapshotDate}.json`)) ?? [];
    const rule = all.filter((b) => b.ruleCode === ruleCode).sort(breachOrder);
    return limit === undefined ? rule : rule.slice(0, limit);
  }
}
