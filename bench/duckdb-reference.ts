/**
 * The yardstick of issue 4: DuckDB, one thread, running the engine's aggregations as SQL over the
 * same two-day book, timed beside `risk-audit score` (previous day as its tape, one worker) in
 * turns, so both meet the same minute of this machine. The SQL restates the definitions (the
 * contracts audit-result.md and loan-tape.md, the default policy files, the scorecard's table) in
 * SQL's own terms, nothing shared with the engine's code, and its figures are compared with the
 * engine's audit.json: the comparison proves both did the same work (and cross-checks the engine
 * once more on a million loans).
 *
 * Three DuckDB runs: the same work (row checks and the repeated-id rule included), the
 * aggregations only (every row taken as read), and DuckDB's floor (one streaming pass typing every
 * column of both tapes, no audit).
 *
 * What the SQL does, like the engine: reads both tapes with every column typed; keeps the first row
 * of each loan id and the rows that pass the row-validity rules; per loan, the DPD bucket, the
 * five categories (card scale for consumer credit), the IFRS 9 stage, the maturity band, the
 * scorecard, PD, LGD and expected loss, the loan rules and vulnerability flags; then the portfolio
 * sums, every segment table, the borrower table (exposure, HHI, top 10, balance caps), roll rates
 * (a join with the previous day by loan id), the PSI inputs and missing counts. What it leaves out
 * (so the engine carries more than DuckDB here): quarantine lines with line numbers and reasons,
 * the sha256 of the tape, keyed borrower references, ratings and findings.
 *
 * Run alone: `npx tsx bench/duckdb-reference.ts [loans]` (needs the book of `bench/score.ts`).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { twoDayBook } from './score.ts';

const COLUMNS = `{
  'snapshot_date': 'DATE', 'loan_id': 'VARCHAR', 'borrower_id': 'VARCHAR', 'borrower_type': 'VARCHAR',
  'product': 'VARCHAR', 'principal': 'DOUBLE', 'outstanding_principal': 'DOUBLE', 'annual_rate': 'DOUBLE',
  'term_months': 'INTEGER', 'origination_date': 'DATE', 'maturity_date': 'DATE', 'days_past_due': 'INTEGER',
  'currency': 'VARCHAR', 'region': 'VARCHAR', 'industry': 'VARCHAR', 'merchant_id': 'VARCHAR',
  'borrower_age': 'INTEGER', 'annual_income': 'DOUBLE', 'monthly_debt_payments': 'DOUBLE',
  'other_lenders_count': 'INTEGER', 'credit_score': 'INTEGER', 'is_student': 'BOOLEAN',
  'own_funding_share': 'DOUBLE'}`;

/**
 * The first row of each loan id, kept when it passes loan-tape.md's row-validity rules; with
 * `validate` false, every row as read (the most generous yardstick: typed parsing and the
 * aggregations, no row checks and no repeated-id rule).
 */
function validLoans(path: string, date: string, validate: boolean): string {
  if (!validate) return `SELECT * FROM read_csv('${path}', header = true, columns = ${COLUMNS})`;
  return `
    WITH raw AS (
      SELECT *, row_number() OVER () AS rn
      FROM read_csv('${path}', header = true, columns = ${COLUMNS})
    ), firsts AS (
      -- The fastest "first row of each id" of those tried (DISTINCT ON, min(rn) per id joined
      -- back, rn IN that subquery): 1.7 s a tape against 1.6 to 5 s.
      SELECT * FROM raw QUALIFY row_number() OVER (PARTITION BY loan_id ORDER BY rn) = 1
    )
    SELECT * FROM firsts
    WHERE snapshot_date = DATE '${date}' AND loan_id IS NOT NULL AND borrower_id IS NOT NULL
      AND borrower_type IN ('individual', 'enterprise')
      AND product IN ('order_financing', 'credit_loan', 'consumer_credit')
      AND principal > 0 AND outstanding_principal >= 0 AND annual_rate >= 0 AND term_months > 0
      AND origination_date IS NOT NULL AND maturity_date IS NOT NULL AND days_past_due >= 0
      AND (currency IS NULL OR regexp_full_match(currency, '[A-Z]{3}'))
      AND coalesce(borrower_age, 0) >= 0 AND coalesce(annual_income, 0) >= 0
      AND coalesce(monthly_debt_payments, 0) >= 0 AND coalesce(other_lenders_count, 0) >= 0
      AND coalesce(credit_score, 0) >= 0
      AND coalesce(own_funding_share, 1) BETWEEN 0 AND 1
      AND outstanding_principal <= principal * 1.5
      AND maturity_date >= origination_date AND origination_date <= snapshot_date`;
}

/** Per-loan figures of the day's tape (constants: policies/default-rules.yaml and risk-appetite.yaml). */
function scoredLoans(path: string, date: string, validate: boolean): string {
  return `
    CREATE TEMP TABLE cur AS
    WITH v AS (${validLoans(path, date, validate)}),
    d AS (
      SELECT *,
        round(outstanding_principal * 100)::BIGINT AS fen,
        round(principal * 100)::BIGINT AS pfen,
        days_past_due AS dpd,
        CASE WHEN monthly_debt_payments IS NOT NULL AND annual_income > 0
          THEN monthly_debt_payments / (annual_income / 12) END AS dti,
        snapshot_date - origination_date AS seasoning,
        maturity_date - snapshot_date AS m
      FROM v
    ), s AS (
      SELECT *,
        650
        + CASE WHEN dpd <= 0 THEN 0 WHEN dpd <= 30 THEN -150 WHEN dpd <= 60 THEN -220 WHEN dpd <= 90 THEN -300 ELSE -400 END
        + CASE WHEN credit_score IS NULL THEN -30 WHEN credit_score <= 549 THEN -60 WHEN credit_score <= 599 THEN -35
            WHEN credit_score <= 649 THEN -15 WHEN credit_score <= 699 THEN 0 WHEN credit_score <= 749 THEN 20 ELSE 40 END
        + CASE WHEN dti IS NULL THEN -10 WHEN dti <= 0.3 THEN 10 WHEN dti <= 0.5 THEN 0 WHEN dti <= 0.7 THEN -30 ELSE -50 END
        + CASE WHEN other_lenders_count IS NULL THEN -5 WHEN other_lenders_count <= 0 THEN 10
            WHEN other_lenders_count <= 2 THEN 0 WHEN other_lenders_count <= 4 THEN -30 ELSE -50 END
        + CASE WHEN borrower_age IS NULL THEN 0 WHEN borrower_age <= 17 THEN -40 WHEN borrower_age <= 22 THEN -25
            WHEN borrower_age <= 25 THEN -10 WHEN borrower_age <= 60 THEN 0 ELSE -10 END
        + CASE WHEN seasoning <= 89 THEN -15 WHEN seasoning <= 364 THEN -5 ELSE 5 END
        + CASE product WHEN 'order_financing' THEN 10 WHEN 'credit_loan' THEN 0 ELSE -5 END
        + CASE WHEN annual_rate <= 0.12 THEN 10 WHEN annual_rate <= 0.24 THEN 0 WHEN annual_rate <= 0.36 THEN -20 ELSE -40 END
        AS score
      FROM d
    )
    SELECT loan_id, borrower_id, borrower_type, fen, pfen, annual_rate, annual_income,
      coalesce(own_funding_share, 1) AS own_share,
      coalesce(industry, 'unknown') AS industry, coalesce(region, 'unknown') AS region,
      CASE product WHEN 'order_financing' THEN 0 WHEN 'credit_loan' THEN 1 ELSE 2 END AS prod,
      CASE WHEN dpd <= 0 THEN 0 WHEN dpd <= 30 THEN 1 WHEN dpd <= 60 THEN 2 WHEN dpd <= 90 THEN 3
        WHEN dpd <= 180 THEN 4 WHEN dpd <= 360 THEN 5 ELSE 6 END AS dpd_idx,
      CASE WHEN dpd <= 0 THEN 0 WHEN dpd <= 90 THEN 1
        WHEN product = 'consumer_credit' THEN (CASE WHEN dpd <= 120 THEN 2 WHEN dpd <= 180 THEN 3 ELSE 4 END)
        ELSE (CASE WHEN dpd <= 270 THEN 2 WHEN dpd <= 360 THEN 3 ELSE 4 END) END AS cls,
      CASE WHEN dpd <= 30 THEN 1 WHEN dpd <= 90 THEN 2 ELSE 3 END AS stage,
      CASE WHEN m < 0 THEN 0 WHEN m <= 7 THEN 1 WHEN m <= 30 THEN 2 WHEN m <= 90 THEN 3 WHEN m <= 365 THEN 4 ELSE 5 END AS mat,
      CASE WHEN credit_score IS NULL THEN 0 WHEN credit_score < 550 THEN 1 WHEN credit_score < 600 THEN 2
        WHEN credit_score < 650 THEN 3 WHEN credit_score < 700 THEN 4 WHEN credit_score < 750 THEN 5 ELSE 6 END AS cband,
      (CASE WHEN dpd > 90 THEN 1 ELSE 1 / (1 + 30 * pow(2, (score - 600) / 50)) END)
        * (CASE product WHEN 'order_financing' THEN 0.45 WHEN 'credit_loan' THEN 0.75 ELSE 0.85 END)
        * (fen / 100) AS el,
      annual_rate > 0.36 AS apr36,
      annual_rate > 0.24 AND annual_rate <= 0.36 AS apr24,
      coalesce(borrower_age < 18, false) AS minor,
      coalesce(is_student, false) AND borrower_type = 'individual' AS student,
      coalesce(own_funding_share, 1) < 0.3 AS colending,
      coalesce(borrower_age BETWEEN 18 AND 22, false) AS young,
      coalesce(dti > 0.5, false) AS high_dti,
      coalesce(other_lenders_count >= 3, false) AS multi,
      credit_score IS NULL OR credit_score < 550 AS thin,
      currency IS NULL AS miss_currency, region IS NULL AS miss_region, industry IS NULL AS miss_industry,
      merchant_id IS NULL AS miss_merchant, borrower_age IS NULL AS miss_age, annual_income IS NULL AS miss_income,
      monthly_debt_payments IS NULL AS miss_debt, other_lenders_count IS NULL AS miss_lenders,
      credit_score IS NULL AS miss_score, is_student IS NULL AS miss_student, own_funding_share IS NULL AS miss_share
    FROM s`;
}

function previousLoans(path: string, date: string, validate: boolean): string {
  return `
    CREATE TEMP TABLE prev AS
    SELECT loan_id,
      CASE WHEN days_past_due <= 0 THEN 0 WHEN days_past_due <= 30 THEN 1 WHEN days_past_due <= 60 THEN 2
        WHEN days_past_due <= 90 THEN 3 WHEN days_past_due <= 180 THEN 4 WHEN days_past_due <= 360 THEN 5 ELSE 6 END AS dpd_idx,
      CASE WHEN credit_score IS NULL THEN 0 WHEN credit_score < 550 THEN 1 WHEN credit_score < 600 THEN 2
        WHEN credit_score < 650 THEN 3 WHEN credit_score < 700 THEN 4 WHEN credit_score < 750 THEN 5 ELSE 6 END AS cband,
      CASE product WHEN 'order_financing' THEN 0 WHEN 'credit_loan' THEN 1 ELSE 2 END AS prod
    FROM (${validLoans(path, date, validate)})`;
}

const AGGREGATES = {
  totals: `SELECT count(*) AS loans, sum(fen) AS fen, sum(pfen) AS pfen, fsum(annual_rate * fen) AS rate_fen,
      fsum(el) AS el, fsum((1 - own_share) * fen) AS partner_fen,
      count(*) FILTER (apr36) AS apr36_loans, sum(fen) FILTER (apr36) AS apr36_fen,
      count(*) FILTER (apr24) AS apr24_loans, sum(fen) FILTER (apr24) AS apr24_fen,
      count(*) FILTER (minor) AS minor_loans, sum(fen) FILTER (minor) AS minor_fen,
      count(*) FILTER (student) AS student_loans, sum(fen) FILTER (student) AS student_fen,
      count(*) FILTER (colending) AS colending_loans, sum(fen) FILTER (colending) AS colending_fen,
      count(*) FILTER (young) AS young_loans, sum(fen) FILTER (young) AS young_fen,
      count(*) FILTER (high_dti) AS high_dti_loans, sum(fen) FILTER (high_dti) AS high_dti_fen,
      count(*) FILTER (multi) AS multi_loans, sum(fen) FILTER (multi) AS multi_fen,
      count(*) FILTER (thin) AS thin_loans, sum(fen) FILTER (thin) AS thin_fen,
      count(*) FILTER (young OR high_dti OR multi OR thin) AS any_loans,
      sum(fen) FILTER (young OR high_dti OR multi OR thin) AS any_fen,
      count(*) FILTER (miss_currency) AS miss_currency, count(*) FILTER (miss_region) AS miss_region,
      count(*) FILTER (miss_industry) AS miss_industry, count(*) FILTER (miss_merchant) AS miss_merchant,
      count(*) FILTER (miss_age) AS miss_age, count(*) FILTER (miss_income) AS miss_income,
      count(*) FILTER (miss_debt) AS miss_debt, count(*) FILTER (miss_lenders) AS miss_lenders,
      count(*) FILTER (miss_score) AS miss_score, count(*) FILTER (miss_student) AS miss_student,
      count(*) FILTER (miss_share) AS miss_share
    FROM cur`,
  dpd: 'SELECT dpd_idx AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  cls: 'SELECT cls AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  stage: 'SELECT stage AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  mat: 'SELECT mat AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  cband: 'SELECT cband AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  prod: 'SELECT prod AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  industry: 'SELECT industry AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  region: 'SELECT region AS k, count(*) AS n, sum(fen) AS fen FROM cur GROUP BY ALL ORDER BY k',
  borrowers: `
    WITH b AS (
      SELECT borrower_id, sum(fen) AS fen, count(*) AS loans,
        bool_or(borrower_type = 'individual') AS ind, bool_or(borrower_type = 'enterprise') AS ent,
        max(annual_income) AS income, bool_or(apr36) AS apr36, bool_or(apr24) AS apr24,
        bool_or(minor) AS minor, bool_or(student) AS student, bool_or(colending) AS colending
      FROM cur GROUP BY borrower_id
    ), t AS (SELECT sum(fen)::DOUBLE AS total FROM b), caps AS (
      SELECT *,
        ind AND (fen / 100 > 300000 OR (income IS NOT NULL AND fen / 100 > income / 3)) AS ind_cap,
        ent AND fen / 100 > 1000000 AS ent_cap
      FROM b
    )
    SELECT count(*) AS borrowers, fsum((fen / total) * (fen / total)) AS hhi, max(fen) AS largest,
      (SELECT sum(fen) FROM (SELECT fen FROM b ORDER BY fen DESC LIMIT 10)) AS top10,
      count(*) FILTER (ind_cap) AS ind_borrowers, sum(loans) FILTER (ind_cap) AS ind_loans,
      sum(fen) FILTER (ind_cap) AS ind_fen,
      count(*) FILTER (ent_cap) AS ent_borrowers, sum(loans) FILTER (ent_cap) AS ent_loans,
      sum(fen) FILTER (ent_cap) AS ent_fen,
      count(*) FILTER (apr36) AS apr36_borrowers, count(*) FILTER (apr24) AS apr24_borrowers,
      count(*) FILTER (minor) AS minor_borrowers, count(*) FILTER (student) AS student_borrowers,
      count(*) FILTER (colending) AS colending_borrowers
    FROM caps, t`,
  roll: `SELECT p.dpd_idx AS f, c.dpd_idx AS t, count(*) AS n FROM cur c JOIN prev p USING (loan_id)
    GROUP BY ALL ORDER BY f, t`,
  prevDpd: 'SELECT dpd_idx AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
  prevBand: 'SELECT cband AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
  prevProd: 'SELECT prod AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
};

type Rows = Record<string, unknown>[];

/**
 * DuckDB's floor on this machine: one streaming pass over every column of both tapes, each value
 * typed and folded into a sum or a max, with no audit at all (nothing kept, grouped or joined).
 */
export async function runDuckdbParseOnly(opts: { day1: string; day2: string }): Promise<{ seconds: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await instance.connect();
  for (const path of [opts.day1, opts.day2]) {
    await con.runAndReadAll(`
      SELECT count(*), max(snapshot_date), max(loan_id), max(borrower_id), max(borrower_type), max(product),
        sum(principal), sum(outstanding_principal), sum(annual_rate), sum(term_months), max(origination_date),
        max(maturity_date), sum(days_past_due), max(currency), max(region), max(industry), max(merchant_id),
        sum(borrower_age), sum(annual_income), sum(monthly_debt_payments), sum(other_lenders_count),
        sum(credit_score), count(is_student), sum(own_funding_share)
      FROM read_csv('${path}', header = true, columns = ${COLUMNS})`);
  }
  const seconds = (performance.now() - t0) / 1000;
  con.closeSync();
  instance.closeSync();
  return { seconds };
}

/** Runs the whole SQL audit once in this process; returns its raw result rows and its wall time. */
export async function runDuckdbAudit(opts: {
  day1: string;
  day2: string;
  date1: string;
  date2: string;
  validate: boolean;
}): Promise<{ seconds: number; results: Record<string, Rows> }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await instance.connect();
  await con.run(scoredLoans(opts.day2, opts.date2, opts.validate));
  await con.run(previousLoans(opts.day1, opts.date1, opts.validate));
  const results: Record<string, Rows> = {};
  for (const [name, sql] of Object.entries(AGGREGATES)) {
    results[name] = (await con.runAndReadAll(sql)).getRowObjectsJS() as Rows;
  }
  const seconds = (performance.now() - t0) / 1000;
  con.closeSync();
  instance.closeSync();
  return { seconds, results };
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

const DPD = ['0', '1-30', '31-60', '61-90', '91-180', '181-360', '361+'];
const CLASSES = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'];
const MATURITY = ['overdue', '0-7', '8-30', '31-90', '91-365', '366+'];

function psi(cur: number[], prev: number[]): number {
  const n = cur.reduce((a, b) => a + b, 0);
  const m = prev.reduce((a, b) => a + b, 0);
  let sum = 0;
  cur.forEach((c, i) => {
    if (c === 0 && prev[i] === 0) return;
    const a = Math.max(c / n, 0.0001);
    const e = Math.max(prev[i]! / m, 0.0001);
    sum += (a - e) * Math.log(a / e);
  });
  return sum;
}

const byKey = (rows: Rows, size: number, field = 'n'): number[] => {
  const out = new Array<number>(size).fill(0);
  for (const r of rows) out[num(r.k)] = num(r[field]);
  return out;
};

/** The SQL results laid out as the audit.json fields they correspond to (path -> value). */
export function duckdbFigures(r: Record<string, Rows>): Map<string, number> {
  const f = new Map<string, number>();
  const t = r.totals![0]!;
  const total = num(t.fen);
  const loans = num(t.loans);
  f.set('portfolio.loanCount', loans);
  f.set('portfolio.totalPrincipal', num(t.pfen) / 100);
  f.set('portfolio.totalOutstanding', total / 100);
  f.set('portfolio.weightedAverageRate', num(t.rate_fen) / total);
  f.set('portfolio.expectedLoss', num(t.el));
  const seg = (rows: Rows, names: readonly string[], path: string, counts = true) => {
    for (const row of rows) {
      const name = names[num(row.k) - (path === 'portfolio.ifrs9Stages' ? 1 : 0)]!;
      if (counts) f.set(`${path}.${name}.count`, num(row.n));
      f.set(counts ? `${path}.${name}.outstanding` : `${path}.${name}`, num(row.fen) / 100);
    }
  };
  seg(r.dpd!, DPD, 'portfolio.dpdBuckets');
  seg(r.cls!, CLASSES, 'portfolio.classification');
  seg(r.stage!, ['1', '2', '3'], 'portfolio.ifrs9Stages');
  seg(r.mat!, MATURITY, 'portfolio.maturityLadder', false);
  const npl = r.cls!.filter((x) => num(x.k) >= 2).reduce((a, x) => a + num(x.fen), 0);
  f.set('portfolio.nplRatio', npl / total);
  for (const [rows, path] of [
    [r.industry!, 'concentration.byIndustry'],
    [r.region!, 'concentration.byRegion'],
  ] as const) {
    let hhi = 0;
    for (const row of rows) {
      f.set(`${path}.${row.k as string}.count`, num(row.n));
      f.set(`${path}.${row.k as string}.outstanding`, num(row.fen) / 100);
      hhi += (num(row.fen) / total) ** 2;
    }
    f.set(path === 'concentration.byIndustry' ? 'concentration.industryHhi' : 'concentration.regionHhi', hhi);
  }
  const b = r.borrowers![0]!;
  f.set('portfolio.borrowerCount', num(b.borrowers));
  f.set('concentration.borrowerHhi', num(b.hhi));
  f.set('concentration.largestBorrowerShare', num(b.largest) / total);
  f.set('concentration.top10BorrowerShare', num(b.top10) / total);
  const rule = (code: string, loansN: unknown, borrowers: unknown, fen: unknown) => {
    f.set(`compliance.rules.${code}.loans`, num(loansN));
    f.set(`compliance.rules.${code}.borrowers`, num(borrowers));
    f.set(`compliance.rules.${code}.outstanding`, num(fen) / 100);
  };
  rule('APR_ABOVE_36', t.apr36_loans, b.apr36_borrowers, t.apr36_fen);
  rule('APR_ABOVE_24', t.apr24_loans, b.apr24_borrowers, t.apr24_fen);
  rule('MINOR_BORROWER', t.minor_loans, b.minor_borrowers, t.minor_fen);
  rule('STUDENT_BORROWER', t.student_loans, b.student_borrowers, t.student_fen);
  rule('CO_LENDING_OWN_SHARE', t.colending_loans, b.colending_borrowers, t.colending_fen);
  rule('INDIVIDUAL_BALANCE_CAP', b.ind_loans, b.ind_borrowers, b.ind_fen);
  rule('ENTERPRISE_BALANCE_CAP', b.ent_loans, b.ent_borrowers, b.ent_fen);
  for (const [code, key] of [
    ['YOUNG_BORROWER', 'young'],
    ['HIGH_DTI', 'high_dti'],
    ['MULTI_LENDING', 'multi'],
    ['THIN_FILE', 'thin'],
  ] as const) {
    f.set(`vulnerability.flags.${code}.loans`, num(t[`${key}_loans`]));
    f.set(`vulnerability.flags.${code}.outstanding`, num(t[`${key}_fen`]) / 100);
  }
  f.set('vulnerability.anyFlag.loans', num(t.any_loans));
  f.set('vulnerability.anyFlag.outstanding', num(t.any_fen) / 100);
  const missing: [string, string][] = [
    ['currency', 'miss_currency'],
    ['region', 'miss_region'],
    ['industry', 'miss_industry'],
    ['merchant_id', 'miss_merchant'],
    ['borrower_age', 'miss_age'],
    ['annual_income', 'miss_income'],
    ['monthly_debt_payments', 'miss_debt'],
    ['other_lenders_count', 'miss_lenders'],
    ['credit_score', 'miss_score'],
    ['is_student', 'miss_student'],
    ['own_funding_share', 'miss_share'],
  ];
  for (const [col, key] of missing) f.set(`dataQuality.missingRate.${col}`, num(t[key]) / loans);
  // Drift: PSI over loan counts, roll rates over the previous day's bucket counts.
  const prevDpd = byKey(r.prevDpd!, 7);
  f.set('drift.psi.dpdBucket', psi(byKey(r.dpd!, 7), prevDpd));
  f.set('drift.psi.creditScore', psi(byKey(r.cband!, 7), byKey(r.prevBand!, 7)));
  f.set('drift.psi.product', psi(byKey(r.prod!, 3), byKey(r.prevProd!, 3)));
  let matched = 0;
  const moved = new Array<number>(7).fill(0);
  for (const row of r.roll!) {
    const from = num(row.f);
    matched += num(row.n);
    moved[from]! += num(row.n);
    f.set(`drift.rollRates.${DPD[from]}.${DPD[num(row.t)]}`, num(row.n) / prevDpd[from]!);
  }
  prevDpd.forEach((n, i) => {
    if (n > moved[i]!) f.set(`drift.rollRates.${DPD[i]}.closed`, (n - moved[i]!) / n);
  });
  f.set('drift.newLoans', loans - matched);
  f.set('dataQuality.rowCountChange', loans / prevDpd.reduce((a, x) => a + x, 0) - 1);
  return f;
}

function at(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * Compares the SQL figures with the engine's audit.json: integers (counts, fen sums) must be equal;
 * doubles built from sums of doubles (rates, EL, HHI, PSI) may differ in the last bits, since the
 * engine sums them exactly and DuckDB does not, so they are compared to a relative 1e-9.
 */
export function compareFigures(
  sql: Map<string, number>,
  audit: unknown,
): { compared: number; identical: number; withinTolerance: number; differing: string[] } {
  let identical = 0;
  let withinTolerance = 0;
  const differing: string[] = [];
  for (const [path, want] of sql) {
    const got = at(audit, path);
    if (got === want) identical++;
    else if (typeof got === 'number' && Math.abs(got - want) <= 1e-9 * Math.max(Math.abs(want), 1e-12))
      withinTolerance++;
    else differing.push(`${path}: engine ${String(got)}, SQL ${want}`);
  }
  return { compared: sql.size, identical, withinTolerance, differing };
}

interface Timed {
  seconds: number;
  peakRssMb: number;
}

function child(args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * `risk-audit score` (1 worker, previous day as its tape) against DuckDB with one thread, doing
 * the same work (row checks included), the aggregations only, and its parse-only floor; in turns,
 * best of `runs` each. `engineSpeedRatio` is DuckDB's time over the engine's: above 1, the engine
 * is faster.
 */
export async function benchDuckdb(opts: { loans: number; dir: string; runs?: number }) {
  const book = await twoDayBook(opts.loans, opts.dir);
  const out = join(opts.dir, 'out-duck');
  const runs = opts.runs ?? 3;
  const best: (Timed & { results?: Record<string, Rows>; loans?: number })[] = [];
  const configs: (() => Timed & { results?: Record<string, Rows>; loans?: number })[] = [
    () => {
      const e = child([join(import.meta.dirname, 'score-child.ts'), book.day2, book.day1, out, '1']);
      return { seconds: e.wallSeconds as number, peakRssMb: e.peakRssMb as number, loans: e.loans as number };
    },
    () => child([import.meta.filename, '--child', 'validate', book.day1, book.day2]) as never,
    () => child([import.meta.filename, '--child', 'aggregate', book.day1, book.day2]) as never,
    () => child([import.meta.filename, '--child', 'parse', book.day1, book.day2]) as never,
  ];
  for (let i = 0; i < runs; i++) {
    configs.forEach((run, k) => {
      const r = run();
      if (best[k] === undefined || r.seconds < best[k]!.seconds) best[k] = r;
    });
  }
  const [engine, full, aggregates, parse] = best as [
    Timed & { loans: number },
    Timed & { results: Record<string, Rows> },
    Timed & { results: Record<string, Rows> },
    Timed,
  ];
  const audit = JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')) as unknown;
  const summary = (t: Timed) => ({
    seconds: round2(t.seconds),
    loansPerSecond: Math.round(engine.loans / t.seconds),
    peakRssMb: Math.round(t.peakRssMb),
  });
  return {
    loans: engine.loans,
    engineOneWorker: summary(engine),
    duckdbSameWork: { ...summary(full), engineSpeedRatio: round2(full.seconds / engine.seconds) },
    duckdbAggregatesOnly: {
      ...summary(aggregates),
      engineSpeedRatio: round2(aggregates.seconds / engine.seconds),
    },
    duckdbParseOnly: { ...summary(parse), engineSpeedRatio: round2(parse.seconds / engine.seconds) },
    figures: {
      sameWork: compareFigures(duckdbFigures(full.results), audit),
      aggregatesOnly: compareFigures(duckdbFigures(aggregates.results), audit),
    },
  };
}

if (process.argv[2] === '--child') {
  const [mode, day1, day2] = process.argv.slice(3) as [string, string, string];
  const dateOf = (p: string) => {
    const head = Buffer.alloc(4096);
    const fd = openSync(p, 'r');
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    return head.toString('latin1').split('\n')[1]!.slice(0, 10);
  };
  if (mode === 'parse') {
    const { seconds } = await runDuckdbParseOnly({ day1, day2 });
    process.stdout.write(
      `${JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
    process.exit(0);
  }
  const { seconds, results } = await runDuckdbAudit({
    day1,
    day2,
    date1: dateOf(day1),
    date2: dateOf(day2),
    validate: mode === 'validate',
  });
  const json = JSON.stringify(
    { seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, results },
    (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v),
  );
  process.stdout.write(`${json}\n`);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const result = await benchDuckdb({ loans, dir: join(import.meta.dirname, '.data') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
