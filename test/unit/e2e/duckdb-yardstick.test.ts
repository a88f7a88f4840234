import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareFigures, duckdbFigures, runDuckdbAudit } from '../../../bench/duckdb-reference.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';
import type { AuditDocument } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';

// The bench's yardstick (DuckDB running the audit's aggregations as SQL) must do the engine's work:
// on a clean two-day book its figures equal the engine's audit.json. Rows the engine quarantines
// are not mirrored in the SQL (its typed reader refuses them instead), so the book has none.
// `score` runs the whole workflow (report included): more than the unit default on a busy machine.
describe('The DuckDB yardstick of `npm run bench -- --only duckdb`', { timeout: 60_000 }, () => {
  let dir: string;
  let audit: AuditDocument;
  let figures: Map<string, number>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-duckdb-'));
    const day1: Loan[] = [...generateBook({ loans: 20_000, date: '2026-11-24', seed: 5 })];
    await writeTape(join(dir, 'day1.csv'), day1);
    await writeTape(join(dir, 'day2.csv'), rollForward(day1, { date: '2026-11-25', seed: 5 }));
    audit = await scoreLocal({
      snapshot: join(dir, 'day2.csv'),
      previous: join(dir, 'day1.csv'),
      out: join(dir, 'out'),
    });
    const { results } = await runDuckdbAudit({
      day1: join(dir, 'day1.csv'),
      day2: join(dir, 'day2.csv'),
      date1: '2026-11-24',
      date2: '2026-11-25',
      validate: true,
    });
    figures = duckdbFigures(results);
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes the same figures as the engine, field by field', () => {
    expect(audit.status).toBe('ok');
    const comparison = compareFigures(figures, audit);
    expect(comparison.differing).toEqual([]);
    // Every section is covered: buckets, segments, rules, flags, borrowers, drift, missing rates.
    expect(comparison.compared).toBeGreaterThan(200);
    expect(comparison.identical).toBeGreaterThan(195);
    for (const path of [
      'portfolio.dpdBuckets.91-180.outstanding',
      'concentration.borrowerHhi',
      'compliance.rules.INDIVIDUAL_BALANCE_CAP.borrowers',
      'vulnerability.anyFlag.loans',
      'drift.newLoans',
      'dataQuality.missingRate.credit_score',
    ]) {
      expect(figures.has(path)).toBe(true);
    }
  });

  it('reports every figure where the two disagree', () => {
    if (audit.status === 'failed') throw new Error('the engine run failed');
    const changed = structuredClone(audit);
    changed.portfolio.loanCount += 1;
    changed.drift.newLoans = (changed.drift.newLoans ?? 0) + 2;
    const comparison = compareFigures(figures, changed);
    expect(comparison.differing).toEqual([
      `portfolio.loanCount: engine ${audit.portfolio.loanCount + 1}, SQL ${audit.portfolio.loanCount}`,
      `drift.newLoans: engine ${(audit.drift.newLoans ?? 0) + 2}, SQL ${audit.drift.newLoans}`,
    ]);
  });
});
