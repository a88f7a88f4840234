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
  'own_funding_share': 'DOUBLE', 'loan_purpose': 'VARCHAR', 'partner_id': 'VARCHAR',
  'related_party_group': 'VARCHAR', 'reported_classification': 'VARCHAR'}`;

/**
 * The lender whose rules the SQL applies (audit-result.md, compliance): its licence and the
 * figures its limits need. Default: the default pack's, an online micro-loan company with none.
 */
export interface SqlLender {
  licence: 'online_micro_loan_company' | 'micro_loan_company' | 'consumer_finance_company' | 'bank';
  netAssets?: number | null;
  tier1Capital?: number | null;
  licensedRegions?: string[] | null;
}

const DEFAULT_LENDER: SqlLender = { licence: 'online_micro_loan_company' };

/** The one-year LPR series (audit-result.md points to the pack's; restated from the research table). */
const LPR_1Y = `(VALUES
  (DATE '2019-08-20', 0.0425), (DATE '2019-09-20', 0.042), (DATE '2019-11-20', 0.0415),
  (DATE '2020-02-20', 0.0405), (DATE '2020-04-20', 0.0385), (DATE '2021-12-20', 0.038),
  (DATE '2022-01-20', 0.037), (DATE '2022-08-22', 0.0365), (DATE '2023-06-20', 0.0355),
  (DATE '2023-08-21', 0.0345), (DATE '2024-07-22', 0.0335), (DATE '2024-10-21', 0.031),
  (DATE '2025-05-20', 0.03)) AS lpr(f, v)`;

const sqlBool = (b: boolean): string => (b ? 'TRUE' : 'FALSE');

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
      AND coalesce(currency, 'CNY') = 'CNY'
      AND (loan_purpose IS NULL OR loan_purpose IN ('consumption', 'business'))
      AND (reported_classification IS NULL
        OR reported_classification IN ('normal', 'special_mention', 'substandard', 'doubtful', 'loss'))
      AND coalesce(borrower_age, 0) >= 0 AND coalesce(annual_income, 0) >= 0
      AND coalesce(monthly_debt_payments, 0) >= 0 AND coalesce(other_lenders_count, 0) >= 0
      AND coalesce(credit_score, 0) >= 0
      AND coalesce(own_funding_share, 1) BETWEEN 0 AND 1
      AND outstanding_principal <= principal * 1.5
      AND maturity_date >= origination_date AND origination_date <= snapshot_date`;
}

/** Per-loan figures of the day's tape (constants: policies/default-rules.yaml and risk-appetite.yaml). */
function scoredLoans(path: string, date: string, validate: boolean, lender: SqlLender): string {
  const mlc = lender.licence === 'online_micro_loan_company' || lender.licence === 'micro_loan_company';
  const bank = lender.licence === 'bank';
  const cfc = lender.licence === 'consumer_finance_company';
  const regions =
    lender.licence === 'micro_loan_company' && lender.licensedRegions
      ? `(${lender.licensedRegions.map((r) => `'${r.replaceAll("'", "''")}'`).join(', ')})`
      : null;
  return `
    CREATE TEMP TABLE cur AS
    WITH v AS (${validLoans(path, date, validate)}),
    d0 AS (
      SELECT v.*, lpr.v AS lpr FROM v ASOF LEFT JOIN ${LPR_1Y} ON v.origination_date >= lpr.f
    ),
    d AS (
      SELECT *,
        coalesce(loan_purpose, CASE product WHEN 'consumer_credit' THEN 'consumption'
          WHEN 'order_financing' THEN 'business'
          ELSE (CASE borrower_type WHEN 'individual' THEN 'consumption' ELSE 'business' END) END) AS purpose,
        partner_id IS NOT NULL AND coalesce(own_funding_share, 1) < 1 AS colent,
        CASE WHEN days_past_due > 360 THEN 4 WHEN days_past_due > 270 THEN 3 WHEN days_past_due > 90 THEN 2
          WHEN days_past_due > 0 THEN 1 ELSE -1 END AS floor_rank,
        CASE reported_classification WHEN 'normal' THEN 0 WHEN 'special_mention' THEN 1
          WHEN 'substandard' THEN 2 WHEN 'doubtful' THEN 3 WHEN 'loss' THEN 4 END AS reported_rank,
        round(outstanding_principal * 100)::BIGINT AS fen,
        round(principal * 100)::BIGINT AS pfen,
        days_past_due AS dpd,
        CASE WHEN monthly_debt_payments IS NOT NULL AND annual_income > 0
          THEN monthly_debt_payments / (annual_income / 12) END AS dti,
        snapshot_date - origination_date AS seasoning,
        maturity_date - snapshot_date AS m
      FROM d0
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
      purpose, colent, partner_id, related_party_group,
      annual_rate > 0.36 AS c36,
      ${sqlBool(mlc)} AND origination_date >= DATE '2025-12-24' AND annual_rate > 0.24 AS new24,
      ${sqlBool(mlc)} AND origination_date < DATE '2025-12-24' AND annual_rate > 0.24 AS legacy24,
      ${sqlBool(mlc)} AND origination_date >= DATE '2025-12-24' AND lpr IS NOT NULL
        AND round(annual_rate * 1000000) > round(lpr * 1000000) * 4 AS lpr4,
      ${sqlBool(bank)} AND partner_id IS NOT NULL AND origination_date >= DATE '2025-10-01'
        AND annual_rate > 0.24 AS fac24,
      coalesce(borrower_age < 18, false) AS minor,
      borrower_type = 'individual' AND borrower_age IS NULL AS age_unknown,
      ${sqlBool(mlc)} AND coalesce(is_student, false) AND purpose = 'consumption' AS student,
      ${sqlBool(bank || cfc)} AND coalesce(is_student, false) AND purpose = 'consumption' AS student_review,
      ${sqlBool(!bank)} AND coalesce(own_funding_share, 1) < 0.3 AS own_min,
      ${sqlBool(bank)} AND colent AND coalesce(own_funding_share, 1) > 0.7 AS own_max,
      coalesce(reported_rank < floor_rank, false) AS below_floor,
      ${regions === null ? 'FALSE' : `region IS NOT NULL AND region NOT IN ${regions}`} AS out_region,
      coalesce(borrower_age BETWEEN 18 AND 22, false) AS young,
      coalesce(dti > 0.5, false) AS high_dti,
      coalesce(other_lenders_count >= 3, false) AS multi,
      credit_score IS NULL OR credit_score < 550 AS thin,
      currency IS NULL AS miss_currency, region IS NULL AS miss_region, industry IS NULL AS miss_industry,
      merchant_id IS NULL AS miss_merchant, borrower_age IS NULL AS miss_age, annual_income IS NULL AS miss_income,
      monthly_debt_payments IS NULL AS miss_debt, other_lenders_count IS NULL AS miss_lenders,
      credit_score IS NULL AS miss_score, is_student IS NULL AS miss_student, own_funding_share IS NULL AS miss_share,
      loan_purpose IS NULL AS miss_purpose, partner_id IS NULL AS miss_partner,
      related_party_group IS NULL AS miss_group, reported_classification IS NULL AS miss_reported
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

/** Loan-level rules: the flag of `cur` each counts. */
const LOAN_RULES: [code: string, flag: string][] = [
  ['COST_ABOVE_36', 'c36'],
  ['COST_ABOVE_24_NEW', 'new24'],
  ['COST_ABOVE_24_LEGACY', 'legacy24'],
  ['COST_ABOVE_4LPR', 'lpr4'],
  ['COST_ABOVE_24_FACILITATED', 'fac24'],
  ['MINOR_BORROWER', 'minor'],
  ['AGE_UNKNOWN', 'age_unknown'],
  ['STUDENT_CONSUMER_LOAN', 'student'],
  ['STUDENT_LOAN_REVIEW', 'student_review'],
  ['CO_LENDING_OWN_SHARE_MIN', 'own_min'],
  ['CO_LENDING_OWN_SHARE_MAX', 'own_max'],
  ['CLASSIFICATION_BELOW_FLOOR', 'below_floor'],
  ['OUT_OF_LICENSED_REGION', 'out_region'],
];

/** The aggregations of the audit for a lender (limits in fen, to the fen, as audit-result.md's amounts). */
function aggregates(lender: SqlLender): Record<string, string> {
  const mlc = lender.licence === 'online_micro_loan_company' || lender.licence === 'micro_loan_company';
  const online = lender.licence === 'online_micro_loan_company';
  const bank = lender.licence === 'bank';
  const fenOf = (share: number, amount: number | null | undefined): string =>
    amount === null || amount === undefined ? 'NULL' : String(Math.round(share * amount * 100));
  const na10 = mlc ? fenOf(0.1, lender.netAssets) : 'NULL';
  const g15 = mlc ? fenOf(0.15, lender.netAssets) : 'NULL';
  const partnerCap = bank ? fenOf(0.25, lender.tier1Capital) : 'NULL';
  // The loan-level breach rules of this lender on 2026-11-25 (4 x LPR is a watch until 2028).
  const loanBreach = `(c36 OR new24 OR fac24 OR minor OR student OR own_min OR own_max${bank ? ' OR below_floor' : ''})`;
  return {
    totals: `SELECT count(*) AS loans, sum(fen) AS fen, sum(pfen) AS pfen, fsum(annual_rate * fen) AS rate_fen,
      fsum(el) AS el, fsum((1 - own_share) * fen) AS partner_fen,
      ${LOAN_RULES.map(([, f]) => `count(*) FILTER (${f}) AS ${f}_loans, sum(fen) FILTER (${f}) AS ${f}_fen, count(DISTINCT borrower_id) FILTER (${f}) AS ${f}_borrowers`).join(',\n      ')},
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
      count(*) FILTER (miss_share) AS miss_share, count(*) FILTER (miss_purpose) AS miss_purpose,
      count(*) FILTER (miss_partner) AS miss_partner, count(*) FILTER (miss_group) AS miss_group,
      count(*) FILTER (miss_reported) AS miss_reported
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
        coalesce(sum(fen) FILTER (purpose = 'consumption'), 0) AS cfen,
        count(*) FILTER (purpose = 'consumption') AS cloans,
        bool_or(borrower_type = 'individual') AS ind, max(annual_income) AS income
      FROM cur GROUP BY borrower_id
    ), t AS (SELECT sum(fen)::DOUBLE AS total FROM b)
    SELECT count(*) AS borrowers, fsum((fen / total) * (fen / total)) AS hhi, max(fen) AS largest,
      (SELECT sum(fen) FROM (SELECT fen FROM b ORDER BY fen DESC LIMIT 10)) AS top10
    FROM b, t`,
    // The borrower caps, the groups, the partners and the distinct loans in breach.
    caps: `
    CREATE TEMP TABLE bor AS
    WITH b AS (
      SELECT borrower_id, sum(fen) AS fen, count(*) AS loans,
        coalesce(sum(fen) FILTER (purpose = 'consumption'), 0) AS cfen,
        count(*) FILTER (purpose = 'consumption') AS cloans,
        bool_or(borrower_type = 'individual') AS ind, max(annual_income) AS income
      FROM cur GROUP BY borrower_id
    )
    SELECT *,
      ${sqlBool(online)} AND cfen > 20000000 AS cons_cap,
      ${sqlBool(online)} AND fen - cfen > 1000000000 AS bus_cap,
      coalesce(fen > ${na10}, false) AS na10,
      ${sqlBool(bank)} AND ind AND cfen > 20000000 AS line_cap,
      ind AND income IS NOT NULL AND fen / 100 > income / 3 AS income_third
    FROM b`,
    groupsHit: `
    CREATE TEMP TABLE gmem AS
    WITH m AS (SELECT DISTINCT related_party_group AS g, borrower_id FROM cur WHERE related_party_group IS NOT NULL),
    e AS (SELECT g, sum(bor.fen) AS fen FROM m JOIN bor USING (borrower_id) GROUP BY g)
    SELECT DISTINCT borrower_id FROM m JOIN e USING (g) WHERE coalesce(e.fen > ${g15}, false)`,
    partnersHit: `
    CREATE TEMP TABLE phit AS
    SELECT partner_id, count(*) AS n, sum(fen) AS fen FROM cur WHERE colent GROUP BY partner_id
    HAVING coalesce(sum(fen) > ${partnerCap}, false)`,
    aggregateRules: `
    WITH co AS (SELECT count(*) AS n, coalesce(sum(fen), 0) AS fen, count(DISTINCT borrower_id) AS borrowers FROM cur WHERE colent),
    total AS (SELECT sum(fen) AS fen FROM cur),
    th AS (SELECT ${sqlBool(bank)} AND co.fen > 0.5 * total.fen AS hit FROM co, total)
    SELECT
      count(*) FILTER (cons_cap) AS cons_borrowers, coalesce(sum(cloans) FILTER (cons_cap), 0) AS cons_loans,
      coalesce(sum(cfen) FILTER (cons_cap), 0) AS cons_fen,
      count(*) FILTER (bus_cap) AS bus_borrowers, coalesce(sum(loans - cloans) FILTER (bus_cap), 0) AS bus_loans,
      coalesce(sum(fen - cfen) FILTER (bus_cap), 0) AS bus_fen,
      count(*) FILTER (na10) AS na10_borrowers, coalesce(sum(loans) FILTER (na10), 0) AS na10_loans,
      coalesce(sum(fen) FILTER (na10), 0) AS na10_fen,
      count(*) FILTER (line_cap) AS line_borrowers, coalesce(sum(cloans) FILTER (line_cap), 0) AS line_loans,
      coalesce(sum(cfen) FILTER (line_cap), 0) AS line_fen,
      count(*) FILTER (income_third) AS income_borrowers, coalesce(sum(loans) FILTER (income_third), 0) AS income_loans,
      coalesce(sum(fen) FILTER (income_third), 0) AS income_fen,
      (SELECT count(*) FROM gmem) AS g15_borrowers,
      (SELECT coalesce(sum(loans), 0) FROM bor JOIN gmem USING (borrower_id)) AS g15_loans,
      (SELECT coalesce(sum(fen), 0) FROM bor JOIN gmem USING (borrower_id)) AS g15_fen,
      (SELECT coalesce(sum(n), 0) FROM phit) AS partner_loans,
      (SELECT coalesce(sum(fen), 0) FROM phit) AS partner_fen,
      (SELECT count(DISTINCT borrower_id) FROM cur JOIN phit USING (partner_id) WHERE colent) AS partner_borrowers,
      (SELECT CASE WHEN th.hit THEN co.n ELSE 0 END FROM co, th) AS total_loans,
      (SELECT CASE WHEN th.hit THEN co.fen ELSE 0 END FROM co, th) AS total_fen,
      (SELECT CASE WHEN th.hit THEN co.borrowers ELSE 0 END FROM co, th) AS total_borrowers,
      (SELECT count(*) FROM cur c JOIN bor b USING (borrower_id)
        LEFT JOIN gmem g USING (borrower_id) LEFT JOIN phit p ON c.partner_id = p.partner_id, th
        WHERE ${loanBreach}
          OR (b.cons_cap AND c.purpose = 'consumption') OR (b.bus_cap AND c.purpose = 'business') OR b.na10
          OR (b.line_cap AND c.purpose = 'consumption') OR g.borrower_id IS NOT NULL
          OR (c.colent AND (p.partner_id IS NOT NULL OR th.hit))) AS loans_in_breach
    FROM bor`,
    roll: `SELECT p.dpd_idx AS f, c.dpd_idx AS t, count(*) AS n FROM cur c JOIN prev p USING (loan_id)
    GROUP BY ALL ORDER BY f, t`,
    prevDpd: 'SELECT dpd_idx AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
    prevBand: 'SELECT cband AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
    prevProd: 'SELECT prod AS k, count(*) AS n FROM prev GROUP BY ALL ORDER BY k',
  };
}

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
        sum(credit_score), count(is_student), sum(own_funding_share), max(loan_purpose), max(partner_id),
        max(related_party_group), max(reported_classification)
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
  lender?: SqlLender;
}): Promise<{ seconds: number; results: Record<string, Rows> }> {
  const lender = opts.lender ?? DEFAULT_LENDER;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await instance.connect();
  await con.run(scoredLoans(opts.day2, opts.date2, opts.validate, lender));
  await con.run(previousLoans(opts.day1, opts.date1, opts.validate));
  const results: Record<string, Rows> = {};
  for (const [name, sql] of Object.entries(aggregates(lender))) {
    if (sql.trimStart().startsWith('CREATE')) await con.run(sql);
    else results[name] = (await con.runAndReadAll(sql)).getRowObjectsJS() as Rows;
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
  for (const [code, flag] of LOAN_RULES)
    rule(code, t[`${flag}_loans`], t[`${flag}_borrowers`], t[`${flag}_fen`]);
  const a = r.aggregateRules![0]!;
  rule('CONSUMER_BALANCE_CAP', a.cons_loans, a.cons_borrowers, a.cons_fen);
  rule('BUSINESS_BALANCE_CAP', a.bus_loans, a.bus_borrowers, a.bus_fen);
  rule('BORROWER_NET_ASSETS_10', a.na10_loans, a.na10_borrowers, a.na10_fen);
  rule('GROUP_NET_ASSETS_15', a.g15_loans, a.g15_borrowers, a.g15_fen);
  rule('BANK_CONSUMER_LINE_CAP', a.line_loans, a.line_borrowers, a.line_fen);
  rule('INCOME_THIRD_AFFORDABILITY', a.income_loans, a.income_borrowers, a.income_fen);
  rule('CO_LENDING_PARTNER_CAP', a.partner_loans, a.partner_borrowers, a.partner_fen);
  rule('CO_LENDING_TOTAL_CAP', a.total_loans, a.total_borrowers, a.total_fen);
  f.set('compliance.loansInBreach', num(a.loans_in_breach));
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
    ['loan_purpose', 'miss_purpose'],
    ['partner_id', 'miss_partner'],
    ['related_party_group', 'miss_group'],
    ['reported_classification', 'miss_reported'],
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
