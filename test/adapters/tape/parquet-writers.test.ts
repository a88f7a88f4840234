import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTapeParts } from '../../../shared/adapters/tape/local-tape-source.ts';
import { decimalText, float32Text } from '../../../shared/adapters/tape/parquet-reader.ts';
import { scanTape } from '../../../shared/adapters/tape/read-tape.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';
import type { AuditDocument, AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { collectSink } from '../../unit/domain/tape/helpers.ts';

// Parquet tapes written by another tool (DuckDB, shaped the way Arrow-based writers such as
// pyarrow/pandas/Polars and Spark write theirs) must audit to exactly the figures of the CSV of
// the same rows. The CSV is ours; the Parquet bytes are DuckDB's.

/** The figures of an audit: everything but where the bytes came from (digests, part names). */
function figures(doc: AuditDocument): unknown {
  if (doc.status === 'failed') throw new Error(`the audit failed: ${doc.error}`);
  const { input, findings, ...rest } = structuredClone(doc) as AuditResult;
  const { sha256: _sha, parts: _parts, ...counts } = input;
  return { ...rest, input: counts, findings: findings.filter((f) => f.code !== 'TAPE_DIGEST') };
}

/** Column casts of a writer style, applied to DuckDB's read of the CSV. */
type Style = Record<string, string>;

// DuckDB's own choice of types: exact decimals, DATE, INTEGER.
const DUCKDB: Style = {
  principal: 'DECIMAL(18,2)',
  outstanding_principal: 'DECIMAL(18,2)',
  annual_rate: 'DECIMAL(9,4)',
  term_months: 'INTEGER',
  origination_date: 'DATE',
  maturity_date: 'DATE',
  snapshot_date: 'DATE',
  days_past_due: 'INTEGER',
  borrower_age: 'INTEGER',
  annual_income: 'DECIMAL(18,2)',
  monthly_debt_payments: 'DECIMAL(18,2)',
  other_lenders_count: 'INTEGER',
  credit_score: 'INTEGER',
  is_student: 'BOOLEAN',
  own_funding_share: 'DOUBLE',
};
// pandas through pyarrow: float64 amounts, int64 counts, datetime64[ns] (local, no zone), a
// float32 rate column as a careless frame would hold it.
const ARROW: Style = {
  ...DUCKDB,
  principal: 'DOUBLE',
  outstanding_principal: 'DOUBLE',
  annual_rate: 'FLOAT',
  annual_income: 'DOUBLE',
  monthly_debt_payments: 'DOUBLE',
  term_months: 'BIGINT',
  days_past_due: 'BIGINT',
  credit_score: 'BIGINT',
  origination_date: 'TIMESTAMP_NS',
  maturity_date: 'TIMESTAMP_NS',
  snapshot_date: 'TIMESTAMP_NS',
};
// Spark in an Asia/Shanghai session: DECIMAL(38,x) as fixed-length bytes, timestamps stored as
// UTC instants (midnight in Shanghai is 16:00 UTC the day before), milliseconds here.
const SPARK: Style = {
  ...DUCKDB,
  principal: 'DECIMAL(38,2)',
  outstanding_principal: 'DECIMAL(38,2)',
  annual_rate: 'DECIMAL(38,4)',
  annual_income: 'DECIMAL(38,2)',
  monthly_debt_payments: 'DECIMAL(38,2)',
  origination_date: 'INSTANT',
  maturity_date: 'INSTANT',
  snapshot_date: 'INSTANT',
};

function selectList(columns: readonly string[], style: Style): string {
  return columns
    .map((c) => {
      const t = style[c];
      if (t === undefined) return `"${c}"`;
      if (t === 'INSTANT') return `timezone('Asia/Shanghai', "${c}"::TIMESTAMP) AS "${c}"`;
      return `"${c}"::${t} AS "${c}"`;
    })
    .join(', ');
}

describe('Parquet tapes written by other tools', () => {
  let dir: string;
  let columns: string[];
  let csvDay2: AuditDocument;
  let db: Awaited<ReturnType<typeof DuckDBInstance.create>>;

  /** Writes the day-2 CSV as Parquet through DuckDB in a style, codec and page layout. */
  async function writeParquet(name: string, style: Style, options: string): Promise<string> {
    const con = await db.connect();
    const path = join(dir, name);
    await con.run(
      `COPY (SELECT ${selectList(columns, style)} FROM read_csv('${join(dir, 'day2.csv')}', all_varchar = true, header = true))
       TO '${path}' (FORMAT parquet, ${options})`,
    );
    return path;
  }

  async function scoreFile(snapshot: string, out: string): Promise<AuditDocument> {
    return scoreLocal({ snapshot, previous: join(dir, 'day1.csv'), out: join(dir, out) });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-parquet-'));
    const day1: Loan[] = [...generateBook({ loans: 6_000, date: '2026-11-24', seed: 11 })];
    await writeTape(join(dir, 'day1.csv'), day1);
    await writeTape(join(dir, 'day2.csv'), rollForward(day1, { date: '2026-11-25', seed: 11 }));
    db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    const head = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_csv('${join(dir, 'day2.csv')}')`);
    columns = head.getRows().map((r) => String(r[0]));
    csvDay2 = await scoreFile(join(dir, 'day2.csv'), 'csv');
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('audits the CSV itself (the reference) with every section filled', () => {
    if (csvDay2.status === 'failed') throw new Error(csvDay2.error);
    expect(csvDay2.input.rowsValid).toBeGreaterThan(5_900);
    expect(csvDay2.previousSnapshotDate).toBe('2026-11-24');
  });

  const cases: [name: string, style: Style, options: string][] = [
    ['duckdb-snappy.parquet', DUCKDB, "CODEC 'snappy', ROW_GROUP_SIZE 2048"],
    ['duckdb-zstd-v2.parquet', DUCKDB, "CODEC 'zstd', PARQUET_VERSION V2, ROW_GROUP_SIZE 2048"],
    ['duckdb-gzip-plain.parquet', DUCKDB, "CODEC 'gzip', DICTIONARY_SIZE_LIMIT 1"],
    ['duckdb-brotli.parquet', DUCKDB, "CODEC 'brotli'"],
    ['duckdb-lz4.parquet', DUCKDB, "CODEC 'lz4'"],
    ['arrow-style-snappy.parquet', ARROW, "CODEC 'snappy', ROW_GROUP_SIZE 4096"],
    ['arrow-style-uncompressed.parquet', ARROW, "CODEC 'uncompressed', DICTIONARY_SIZE_LIMIT 1"],
    ['spark-style-gzip.parquet', SPARK, "CODEC 'gzip', ROW_GROUP_SIZE 2048"],
    ['spark-style-zstd.parquet', SPARK, "CODEC 'zstd', PARQUET_VERSION V2"],
  ];
  for (const [name, style, options] of cases) {
    it(`gives every figure of the CSV for ${name} (${options})`, async () => {
      const path = await writeParquet(name, style, options);
      const audit = await scoreFile(path, `out-${name}`);
      expect(figures(audit)).toEqual(figures(csvDay2));
    }, 60_000);
  }

  it('reads a file of several row groups, dictionary and plain pages, as written', async () => {
    const path = await writeParquet('layout.parquet', DUCKDB, "CODEC 'zstd', ROW_GROUP_SIZE 2048");
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(meta.row_groups.length).toBeGreaterThan(2);
    const encodings = new Set(
      meta.row_groups.flatMap((g) => g.columns.flatMap((c) => c.meta_data?.encodings ?? [])),
    );
    expect(encodings.has('RLE_DICTIONARY') || encodings.has('PLAIN_DICTIONARY')).toBe(true);
    expect(encodings.has('PLAIN')).toBe(true);
  });

  it('gives nulls as empty cells, booleans as true/false and exact DECIMAL(38) values', async () => {
    const con = await db.connect();
    const path = join(dir, 'values.parquet');
    await con.run(`COPY (SELECT * FROM (VALUES
        ('2026-11-25'::DATE, 'A', 'P1', 'individual', 'credit_loan', 12345678901234567890.12::DECIMAL(38,2), 0.005::DECIMAL(9,3), 0.18::FLOAT, 12, '2026-01-01'::DATE, '2027-01-01'::DATE, 0, NULL::VARCHAR, true),
        ('2026-11-25'::DATE, 'B', 'P2', 'individual', 'credit_loan', 100.10::DECIMAL(38,2), 100.1::DECIMAL(9,3), 0.2::FLOAT, 12, '2026-01-01'::DATE, '2027-01-01'::DATE, 0, 'Zhejiang', NULL::BOOLEAN)
      ) t(snapshot_date, loan_id, borrower_id, borrower_type, product, principal, outstanding_principal, annual_rate, term_months, origination_date, maturity_date, days_past_due, region, is_student))
      TO '${path}' (FORMAT parquet, CODEC 'snappy')`);
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(path), { snapshotDate: '2026-11-25' }, sink);
    expect(stats.rowsRead).toBe(2);
    expect(sink.quarantined).toEqual([]);
    const [a, b] = sink.loans;
    // 12345678901234567890.12 is past a double's 15-17 digits: read exactly, then the nearest double.
    expect(a!.principal).toBe(Number('12345678901234567890.12'));
    expect(a!.outstandingPrincipal).toBe(0.005);
    expect(a!.annualRate).toBe(0.18);
    expect(a!.region).toBeNull();
    expect(a!.isStudent).toBe(true);
    expect(b!.principal).toBe(100.1);
    expect(b!.annualRate).toBe(0.2);
    expect(b!.isStudent).toBeNull();
    expect(b!.region).toBe('Zhejiang');
  });

  it('quarantines a row whose read column holds a list, and names the column', async () => {
    const con = await db.connect();
    const path = join(dir, 'nested.parquet');
    await con.run(`COPY (SELECT '2026-11-25'::DATE AS snapshot_date, 'L' || i AS loan_id, 'P' || i AS borrower_id,
        'individual' AS borrower_type, 'credit_loan' AS product, 100.0 AS principal, 50.0 AS outstanding_principal,
        0.1 AS annual_rate, 12 AS term_months, '2026-01-01'::DATE AS origination_date, '2027-01-01'::DATE AS maturity_date,
        0 AS days_past_due, CASE WHEN i = 1 THEN ['a', 'b'] ELSE ['z'] END AS tags, CASE WHEN i = 2 THEN NULL ELSE 'Hubei' END AS region
      FROM range(3) t(i)) TO '${path}' (FORMAT parquet)`);
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(path), { snapshotDate: '2026-11-25' }, sink);
    // An unread list column is ignored; its name is listed as unknown.
    expect(stats.rowsRead).toBe(3);
    expect(stats.rowsValid).toBe(3);
    expect(stats.unknownColumns).toEqual(['tags']);
    const mapped = collectSink();
    const read = await scanTape(
      await localTapeParts(path),
      { snapshotDate: '2026-11-25', mapping: { columns: { industry: { from: 'tags' } } } },
      mapped,
    );
    expect([read.rowsRead, read.rowsValid, read.rowsQuarantined]).toEqual([3, 0, 3]);
    expect(mapped.quarantined[0]).toMatchObject({
      line: 1,
      codes: ['MALFORMED_ROW'],
      detail: 'column "tags" holds a structure (an object or a list), not a value',
    });
  });

  it('dates an instant in the tape time zone, and a local timestamp by its wall clock', async () => {
    const con = await db.connect();
    const path = join(dir, 'times.parquet');
    await con.run(`COPY (SELECT timezone('Asia/Shanghai', TIMESTAMP '2026-11-25 00:30:00') AS snapshot_date,
        'L1' AS loan_id, 'P1' AS borrower_id, 'individual' AS borrower_type, 'credit_loan' AS product, 100 AS principal,
        50 AS outstanding_principal, 0.1 AS annual_rate, 12 AS term_months, TIMESTAMP_S '2026-01-01 23:59:59' AS origination_date,
        TIMESTAMP_MS '2027-01-01 00:00:00' AS maturity_date, 0 AS days_past_due) TO '${path}' (FORMAT parquet)`);
    const shanghai = collectSink();
    await scanTape(await localTapeParts(path), {}, shanghai);
    expect(shanghai.loans[0]).toMatchObject({
      snapshotDate: '2026-11-25',
      originationDate: '2026-01-01',
      maturityDate: '2027-01-01',
    });
    // The same instant is still 2026-11-24 in London.
    const london = collectSink();
    await scanTape(
      await localTapeParts(path),
      { mapping: { timeZone: 'Europe/London', columns: {} } },
      london,
    );
    expect(london.loans[0]!.snapshotDate).toBe('2026-11-24');
  });
});

describe('Function: decimalText', () => {
  it('places the decimal point exactly, with no binary fraction in between', () => {
    expect(decimalText(12345n, 2)).toBe('123.45');
    expect(decimalText(-5n, 3)).toBe('-0.005');
    expect(decimalText(1000n, 3)).toBe('1');
    expect(decimalText(12n, 0)).toBe('12');
    expect(decimalText(7n, -2)).toBe('700');
  });
});

describe('Function: float32Text', () => {
  it('writes the shortest decimal that is the same 32-bit float', () => {
    expect(float32Text(Math.fround(0.18))).toBe('0.18');
    expect(float32Text(Math.fround(0.1825))).toBe('0.1825');
    expect(float32Text(Math.fround(1234.56))).toBe('1234.56');
    expect(float32Text(Math.fround(16777217))).toBe('16777216');
  });
});
