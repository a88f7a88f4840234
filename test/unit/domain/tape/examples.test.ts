import { readFileSync } from 'node:fs';
import { inferSchema, initParser } from 'udsv';
import { describe, expect, it } from 'vitest';
import { localTapeParts } from '../../../../shared/adapters/tape/local-tape-source.ts';
import { scanTape } from '../../../../shared/adapters/tape/read-tape.ts';
import { parseMapping } from '../../../../shared/domain/tape/mapping.ts';
import { collectSink } from './helpers.ts';

const root = new URL('../../../../', import.meta.url).pathname;
const PROSPER = `${root}examples/data/prosper/prosperLoanData_199rows.csv`;

describe('Example: prosper-mapping.yaml', () => {
  // Expected figures come from a different parser (udsv, quotes forced on) and plain arithmetic
  // over the raw columns, not from the mapping code under test.
  const text = readFileSync(PROSPER, 'utf8');
  const parser = initParser(inferSchema(text, { encl: '"' }));
  const raw = parser.stringObjs(text) as Record<string, string>[];
  const seen = new Set<string>();
  const expected = { rows: raw.length, duplicates: 0, negative: 0, valid: 0, outstanding: 0, principal: 0 };
  for (const r of raw) {
    const duplicate = seen.has(r.LoanKey!);
    seen.add(r.LoanKey!);
    const outstanding = Number(r.LoanOriginalAmount) - Number(r.LP_CustomerPrincipalPayments);
    if (duplicate) expected.duplicates++;
    if (outstanding < 0) expected.negative++;
    if (!duplicate && outstanding >= 0) {
      expected.valid++;
      expected.outstanding += outstanding;
      expected.principal += Number(r.LoanOriginalAmount);
    }
  }

  it('audits the Prosper snapshot with figures matching an independent count', async () => {
    const mapping = parseMapping(
      readFileSync(`${root}examples/prosper-mapping.yaml`, 'utf8'),
      'prosper-mapping.yaml',
    );
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(PROSPER), { mapping }, sink);
    expect(expected).toMatchObject({ rows: 199, duplicates: 1, negative: 4 });
    expect(stats.rowsRead).toBe(expected.rows);
    expect(stats.rowsValid).toBe(expected.valid);
    expect(stats.quarantineByCode).toEqual({
      DUPLICATE_LOAN_ID: expected.duplicates,
      NEGATIVE: expected.negative,
    });
    expect(sink.loans.reduce((s, l) => s + l.outstandingPrincipal, 0)).toBeCloseTo(expected.outstanding, 4);
    expect(sink.loans.reduce((s, l) => s + l.principal, 0)).toBe(expected.principal);
    expect(stats.unknownColumns).toContain('ListingKey');
    expect(stats.snapshotDate).toBe('2014-03-10');
  });

  it('maps the first loan as worked out by hand', async () => {
    const mapping = parseMapping(readFileSync(`${root}examples/prosper-mapping.yaml`, 'utf8'));
    const sink = collectSink();
    await scanTape(await localTapeParts(PROSPER), { mapping }, sink);
    // Row 2: LoanOriginalAmount 9425, principal repaid 9425, APR 0.16516, Term 36,
    // originated 12-09-2007 (day first), Completed; StatedMonthlyIncome 3083, DTI 0.17.
    expect(sink.loans[0]).toMatchObject({
      loanId: 'E33A3400205839220442E84',
      borrowerType: 'individual',
      product: 'credit_loan',
      principal: 9425,
      outstandingPrincipal: 0,
      annualRate: 0.16516,
      termMonths: 36,
      originationDate: '2007-09-12',
      maturityDate: '2010-09-12',
      currency: 'USD',
      region: 'CO',
      annualIncome: 36996,
      creditScore: 640,
    });
    expect(sink.loans[0]!.monthlyDebtPayments).toBeCloseTo(524.11, 9);
  });
});

describe('Example: chinese-header-mapping.yaml', () => {
  it('reads the Chinese-header sample: 6 valid loans, 2 quarantined with their reasons', async () => {
    const mapping = parseMapping(readFileSync(`${root}examples/chinese-header-mapping.yaml`, 'utf8'));
    const sink = collectSink();
    const stats = await scanTape(await localTapeParts(`${root}examples/chinese-tape.csv`), { mapping }, sink);
    expect(stats).toMatchObject({ rowsRead: 8, rowsValid: 6, rowsQuarantined: 2, unknownColumns: ['备注'] });
    expect(sink.quarantined.map((q) => [q.line, q.codes])).toEqual([
      [7, ['INVALID_DATE']],
      [8, ['VALUE_NOT_ALLOWED']],
    ]);
    // DK0002: 12,000,000 fen lent, none repaid, 12.5%, 30% own funds, order financing of an enterprise.
    expect(sink.loans[1]).toMatchObject({
      loanId: 'DK0002',
      borrowerType: 'enterprise',
      product: 'order_financing',
      principal: 120000,
      outstandingPrincipal: 120000,
      annualRate: 0.125,
      maturityDate: '2027-01-15',
      merchantId: 'M100233',
      ownFundingShare: 0.3,
      isStudent: null,
    });
    // 个体工商户 maps to enterprise; 是 maps to a student.
    expect(sink.loans[3]!.borrowerType).toBe('enterprise');
    expect(sink.loans[4]).toMatchObject({ isStudent: true, annualRate: 0.365, creditScore: null });
    const total = sink.loans.reduce((s, l) => s + l.outstandingPrincipal, 0);
    // (500000-150000 + 12000000 + 3000000-500000 + 80000000-20000000 + 200000 + 2000000-1800000) fen.
    expect(total).toBe(752500);
  });
});
