import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareFigures,
  duckdbFigures,
  runDuckdbAudit,
  type SqlLender,
} from '../../bench/duckdb-reference.ts';
import { writeTape } from '../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../shared/cli/commands/score.ts';
import type { AuditDocument } from '../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../shared/domain/generator/book.ts';
import type { Loan } from '../../shared/domain/loan.ts';
import { lenderProfile } from '../unit/domain/engine/helpers.ts';

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
      'compliance.rules.CONSUMER_BALANCE_CAP.borrowers',
      'compliance.rules.COST_ABOVE_4LPR.loans',
      'compliance.loansInBreach',
      'vulnerability.anyFlag.loans',
      'drift.newLoans',
      'dataQuality.missingRate.credit_score',
    ]) {
      expect(figures.has(path)).toBe(true);
    }
  });

  it.each<[string, SqlLender]>([
    [
      'an online micro-loan company with net assets',
      { licence: 'online_micro_loan_company', netAssets: 60_000_000 },
    ],
    ['a bank with Tier 1 capital', { licence: 'bank', tier1Capital: 200_000_000 }],
    [
      'a micro-loan company licensed in two regions',
      { licence: 'micro_loan_company', netAssets: 60_000_000, licensedRegions: ['Guangdong', 'Zhejiang'] },
    ],
  ])(
    'computes every rule and the loans in breach as the engine does for %s',
    async (_name, lender) => {
      const profile = join(dir, `${lender.licence}.yaml`);
      await writeFile(profile, lenderProfile(lender).text);
      const engine = await scoreLocal({
        snapshot: join(dir, 'day2.csv'),
        previous: join(dir, 'day1.csv'),
        policy: profile,
        out: join(dir, `out-${lender.licence}`),
      });
      const { results } = await runDuckdbAudit({
        day1: join(dir, 'day1.csv'),
        day2: join(dir, 'day2.csv'),
        date1: '2026-11-24',
        date2: '2026-11-25',
        validate: true,
        lender,
      });
      const sql = duckdbFigures(results);
      const comparison = compareFigures(sql, engine);
      expect(comparison.differing).toEqual([]);
      // The book crosses the limits these lenders check.
      const hit = [...sql].filter(
        ([path, v]) => /^compliance\.rules\.[A-Z_0-9]+\.loans$/.test(path) && v > 0,
      );
      expect(hit.length).toBeGreaterThanOrEqual(lender.licence === 'bank' ? 6 : 9);
      expect(sql.get('compliance.loansInBreach')).toBeGreaterThan(0);
    },
    60_000,
  );

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
