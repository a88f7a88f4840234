import { describe, expect, it } from 'vitest';
import { hash64, hashKey, hashOut } from '../../../../shared/domain/engine/hash.ts';
import { OPTIONAL_COLUMNS, TAPE_COLUMNS } from '../../../../shared/domain/loan.ts';
import { identityPlan } from '../../../../shared/domain/tape/column-plan.ts';
import { FieldRow } from '../../../../shared/domain/tape/field-row.ts';
import {
  assertIntakeInvariant,
  IntakeInvariantError,
  RowValidator,
} from '../../../../shared/domain/tape/row-validator.ts';
import { cells, collectSink, goodRow } from './helpers.ts';

function run(
  rows: Record<string, string>[],
  snapshotDate: string | null = '2026-11-25',
  header: string[] = [...TAPE_COLUMNS],
) {
  const sink = collectSink();
  const v = new RowValidator(sink, snapshotDate === null ? {} : { snapshotDate });
  v.setPart('tape.csv', identityPlan(header));
  rows.forEach((r, i) => {
    const f = header.map((c) => r[c] ?? '');
    const raw = f.join(',');
    v.acceptFields(FieldRow.of(f), i + 2, raw, 0, raw.length, header.length, null);
  });
  return { sink, stats: v.stats(), validator: v };
}

/** Codes of the single row `overrides` produces. */
function codesOf(overrides: Record<string, string>): string[] {
  const { sink } = run([goodRow(overrides)]);
  return sink.quarantined[0]?.codes ?? [];
}

describe('Class: RowValidator', () => {
  it('turns a valid row into a Loan with typed values', () => {
    const { sink, stats } = run([
      goodRow({
        merchant_id: 'M9',
        is_student: 'Y',
        own_funding_share: '0.4',
        loan_purpose: 'business',
        partner_id: 'PB-1',
        related_party_group: 'RPG-7',
        reported_classification: 'special_mention',
      }),
    ]);
    expect(sink.quarantined).toEqual([]);
    expect(sink.loans[0]).toEqual({
      snapshotDate: '2026-11-25',
      loanId: 'L1',
      borrowerId: 'B1',
      borrowerType: 'individual',
      product: 'credit_loan',
      principal: 10000,
      outstandingPrincipal: 6000,
      annualRate: 0.18,
      termMonths: 12,
      originationDate: '2026-03-01',
      maturityDate: '2027-03-01',
      daysPastDue: 0,
      currency: 'CNY',
      region: 'Zhejiang',
      industry: 'office_worker',
      merchantId: 'M9',
      borrowerAge: 30,
      annualIncome: 120000,
      monthlyDebtPayments: 2000,
      otherLendersCount: 1,
      creditScore: 700,
      isStudent: true,
      ownFundingShare: 0.4,
      loanPurpose: 'business',
      partnerId: 'PB-1',
      relatedPartyGroup: 'RPG-7',
      reportedClassification: 'special_mention',
    });
    expect(stats).toMatchObject({ rowsRead: 1, rowsValid: 1, rowsQuarantined: 0 });
  });

  it('reads empty optional cells as null, with own_funding_share 1 and currency CNY by default, and counts them', () => {
    const empty = Object.fromEntries(OPTIONAL_COLUMNS.map((c) => [c, '']));
    const { sink, stats } = run([goodRow(empty), goodRow({ loan_id: 'L2', region: '' })]);
    expect(sink.loans[0]).toMatchObject({
      currency: 'CNY',
      ownFundingShare: 1,
      region: null,
      borrowerAge: null,
      annualIncome: null,
      isStudent: null,
      creditScore: null,
      loanPurpose: null,
      partnerId: null,
      relatedPartyGroup: null,
      reportedClassification: null,
    });
    expect(stats.missingCounts).toEqual({
      currency: 1,
      region: 2,
      industry: 1,
      merchant_id: 2,
      borrower_age: 1,
      annual_income: 1,
      monthly_debt_payments: 1,
      other_lenders_count: 1,
      credit_score: 1,
      is_student: 1,
      own_funding_share: 1,
      loan_purpose: 2,
      partner_id: 2,
      related_party_group: 2,
      reported_classification: 2,
    });
  });

  it('treats an absent optional column like an empty one', () => {
    const header = TAPE_COLUMNS.slice(0, 12);
    const { sink, stats } = run([goodRow()], '2026-11-25', [...header]);
    expect(sink.loans[0]!.region).toBeNull();
    expect(stats.missingCounts.region).toBe(1);
  });

  it.each([
    [{ loan_id: '' }, 'MISSING_REQUIRED'],
    [{ principal: '' }, 'MISSING_REQUIRED'],
    [{ maturity_date: '' }, 'MISSING_REQUIRED'],
    [{ principal: 'ten' }, 'UNPARSEABLE_NUMBER'],
    [{ annual_rate: 'NaN' }, 'NOT_FINITE'],
    [{ outstanding_principal: 'Infinity' }, 'NOT_FINITE'],
    [{ term_months: '12.5' }, 'NOT_INTEGER'],
    [{ days_past_due: '-3' }, 'NEGATIVE'],
    [{ annual_income: '-1' }, 'NEGATIVE'],
    [{ principal: '0' }, 'NOT_POSITIVE'],
    [{ own_funding_share: '1.2' }, 'OUT_OF_RANGE'],
    [{ own_funding_share: '-0.1' }, 'NEGATIVE'],
    [{ origination_date: '2026-02-30' }, 'INVALID_DATE'],
    [{ origination_date: '2026/03/01' }, 'INVALID_DATE'],
    [{ is_student: 'maybe' }, 'INVALID_BOOLEAN'],
    [{ product: 'mortgage' }, 'VALUE_NOT_ALLOWED'],
    [{ borrower_type: 'Individual' }, 'VALUE_NOT_ALLOWED'],
    [{ currency: 'yuan' }, 'VALUE_NOT_ALLOWED'],
    [{ loan_purpose: 'travel' }, 'VALUE_NOT_ALLOWED'],
    [{ loan_purpose: 'Consumption' }, 'VALUE_NOT_ALLOWED'],
    [{ reported_classification: 'bad' }, 'VALUE_NOT_ALLOWED'],
    [{ outstanding_principal: '15000.01' }, 'OUTSTANDING_EXCEEDS_PRINCIPAL'],
    [{ maturity_date: '2026-02-28' }, 'MATURITY_BEFORE_ORIGINATION'],
    [{ origination_date: '2026-11-26', maturity_date: '2027-11-26' }, 'ORIGINATION_AFTER_SNAPSHOT'],
    [{ snapshot_date: '2026-11-24' }, 'SNAPSHOT_DATE_MISMATCH'],
  ])('quarantines %o with %s', (overrides, code) => {
    expect(codesOf(overrides)).toEqual([code]);
  });

  it("keeps one currency per tape: the one given, else the first valid row's, an empty cell being CNY", () => {
    // Given: a USD tape quarantines its CNY and empty-currency rows.
    const sink = collectSink();
    const usd = new RowValidator(sink, { snapshotDate: '2026-11-25', currency: 'USD' });
    usd.setPart('tape.csv', identityPlan([...TAPE_COLUMNS]));
    [
      goodRow({ currency: 'USD' }),
      goodRow({ loan_id: 'L2', currency: '' }),
      goodRow({ loan_id: 'L3' }),
    ].forEach((r, i) => {
      const f = cells(r);
      usd.acceptFields(FieldRow.of(f), i + 2, f.join(','), 0, f.join(',').length, TAPE_COLUMNS.length, null);
    });
    expect(usd.currency).toBe('USD');
    expect(sink.loans.map((l) => [l.loanId, l.currency])).toEqual([['L1', 'USD']]);
    expect(sink.quarantined.map((q) => [q.line, q.codes, q.detail])).toEqual([
      [3, ['CURRENCY_MISMATCH'], "currency: differs from the tape's USD"],
      [4, ['CURRENCY_MISMATCH'], "currency: differs from the tape's USD"],
    ]);
    // Not given: a bad first row does not set it; the first valid row does (empty is CNY).
    const { sink: s2, validator } = run(
      [
        goodRow({ currency: 'EUR', principal: 'x' }),
        goodRow({ loan_id: 'L2', currency: '' }),
        goodRow({ loan_id: 'L3', currency: 'CNY' }),
        goodRow({ loan_id: 'L4', currency: 'EUR' }),
      ],
      '2026-11-25',
    );
    expect(validator.currency).toBe('CNY');
    expect(s2.loans.map((l) => l.loanId)).toEqual(['L2', 'L3']);
    expect(s2.quarantined.map((q) => q.codes)).toEqual([['UNPARSEABLE_NUMBER'], ['CURRENCY_MISMATCH']]);
  });

  it('accepts the boundaries: outstanding exactly 1.5 x principal, maturity equal to origination, origination on the snapshot date', () => {
    expect(codesOf({ outstanding_principal: '15000' })).toEqual([]);
    expect(codesOf({ maturity_date: '2026-03-01' })).toEqual([]);
    expect(codesOf({ origination_date: '2026-11-25', maturity_date: '2027-11-25' })).toEqual([]);
    expect(codesOf({ own_funding_share: '0', annual_rate: '0', outstanding_principal: '0' })).toEqual([]);
  });

  it('lists every problem of a row with its codes and a detail naming the columns, and keeps line and raw', () => {
    const { sink } = run([
      goodRow(),
      goodRow({ loan_id: 'L2', principal: '-5', region: 'x', product: 'car' }),
    ]);
    const q = sink.quarantined[0]!;
    expect(q.codes).toEqual(['VALUE_NOT_ALLOWED', 'NEGATIVE']);
    expect(q.detail).toBe(
      'product: not one of order_financing, credit_loan, consumer_credit; principal: negative',
    );
    expect(q.line).toBe(3);
    expect(q.part).toBe('tape.csv');
    expect(q.raw).toContain(',car,-5,');
  });

  it('keeps the first of duplicate loan ids and quarantines every later one', () => {
    const { sink, stats } = run([
      goodRow({ loan_id: 'A', principal: '100', outstanding_principal: '50' }),
      goodRow({ loan_id: 'B' }),
      goodRow({ loan_id: 'A' }),
      goodRow({ loan_id: 'A' }),
    ]);
    expect(sink.loans.map((l) => [l.loanId, l.principal])).toEqual([
      ['A', 100],
      ['B', 10000],
    ]);
    expect(sink.quarantined.map((q) => [q.line, q.codes])).toEqual([
      [4, ['DUPLICATE_LOAN_ID']],
      [5, ['DUPLICATE_LOAN_ID']],
    ]);
    expect(stats.duplicateLoanIds).toBe(2);
  });

  it('tells the sink of each loan id whose first row it quarantined, and of no other', () => {
    const sink = collectSink();
    const firsts: string[] = [];
    const v = new RowValidator(
      { ...sink, firstIdQuarantined: (hi, lo) => firsts.push(hashKey(hi, lo)) },
      { snapshotDate: '2026-11-25' },
    );
    v.setPart('tape.csv', identityPlan([...TAPE_COLUMNS]));
    const rows = [
      goodRow({ loan_id: 'A', principal: 'abc' }), // first of A, quarantined: reported
      goodRow({ loan_id: 'A' }), // a repeat of A: quarantined, not a first
      goodRow({ loan_id: 'B' }), // valid
      goodRow({ loan_id: 'B', principal: '-1' }), // a repeat of B
      goodRow({ loan_id: '', principal: 'abc' }), // no loan id at all
      goodRow({ loan_id: 'C', outstanding_principal: 'x' }), // first of C, quarantined: reported
    ];
    rows.forEach((r, i) => {
      const f = TAPE_COLUMNS.map((c) => r[c] ?? '');
      const raw = f.join(',');
      v.acceptFields(FieldRow.of(f), i + 2, raw, 0, raw.length, TAPE_COLUMNS.length, null);
    });
    const key = (id: string) => {
      hash64(id);
      return hashKey(hashOut.hi, hashOut.lo);
    };
    expect(firsts).toEqual([key('A'), key('C')]);
    expect(sink.loans.map((l) => l.loanId)).toEqual(['B']);
  });

  it('without a run date checks no row against one and counts the dates the rows carry', () => {
    const { validator, sink } = run(
      [
        goodRow({ snapshot_date: 'x' }),
        goodRow({ loan_id: 'L2', snapshot_date: '2026-11-24', origination_date: '2026-01-01' }),
        goodRow({ loan_id: 'L3' }),
        goodRow({ loan_id: 'L4' }),
      ],
      null,
    );
    expect(validator.snapshotDate).toBeNull();
    expect(sink.quarantined.map((q) => q.codes)).toEqual([['INVALID_DATE']]);
    expect(Object.fromEntries(validator.dateCounts)).toEqual({ '2026-11-24': 1, '2026-11-25': 2 });
  });

  it('with a run date counts the rows of each other date it quarantines', () => {
    const { validator, sink } = run(
      [
        goodRow({ loan_id: 'L1', snapshot_date: '2026-11-24', origination_date: '2026-01-01' }),
        goodRow({ loan_id: 'L2' }),
        goodRow({ loan_id: 'L3', snapshot_date: '2026-11-24', origination_date: '2026-01-01' }),
      ],
      '2026-11-25',
    );
    expect(sink.quarantined.map((q) => q.codes)).toEqual([
      ['SNAPSHOT_DATE_MISMATCH'],
      ['SNAPSHOT_DATE_MISMATCH'],
    ]);
    expect(validator.stats().rowsByOtherDate).toEqual({ '2026-11-24': 2 });
  });

  it('quarantines a row whose field count differs from the header as MALFORMED_ROW', () => {
    const sink = collectSink();
    const v = new RowValidator(sink, {});
    v.setPart('p', identityPlan([...TAPE_COLUMNS]));
    const f = cells(goodRow()).slice(0, 20);
    v.acceptFields(FieldRow.of(f), 2, 'raw text', 0, 8, TAPE_COLUMNS.length, null);
    expect(sink.quarantined[0]).toMatchObject({ codes: ['MALFORMED_ROW'], raw: 'raw text', line: 2 });
    expect(sink.quarantined[0]!.detail).toBe(`row has 20 fields but the header has ${TAPE_COLUMNS.length}`);
  });

  it('counts quarantine reasons and keeps rows read = valid + quarantined', () => {
    const rows = [
      goodRow(),
      goodRow({ loan_id: 'L2', principal: 'x' }),
      goodRow({ loan_id: 'L3', principal: 'x', term_months: '0' }),
      goodRow({ loan_id: 'L1' }),
      goodRow({ loan_id: 'L5' }),
    ];
    const { stats } = run(rows);
    expect(stats.rowsRead).toBe(5);
    expect(stats.rowsValid).toBe(2);
    expect(stats.rowsQuarantined).toBe(3);
    expect(stats.quarantineByCode).toEqual({ UNPARSEABLE_NUMBER: 2, NOT_POSITIVE: 1, DUPLICATE_LOAN_ID: 1 });
    expect(stats.parts).toEqual([{ key: 'tape.csv', sha256: '', bytes: 0, rowsRead: 5 }]);
  });
});

describe('Function: assertIntakeInvariant', () => {
  it('passes when the counts add up', () => {
    expect(() =>
      assertIntakeInvariant({ rowsRead: 5, rowsValid: 3, rowsQuarantined: 2, parts: [] }),
    ).not.toThrow();
  });

  it('throws when a row was lost', () => {
    expect(() => assertIntakeInvariant({ rowsRead: 5, rowsValid: 3, rowsQuarantined: 1, parts: [] })).toThrow(
      IntakeInvariantError,
    );
  });

  it('throws when the parts do not add up to the rows read', () => {
    expect(() =>
      assertIntakeInvariant({
        rowsRead: 5,
        rowsValid: 5,
        rowsQuarantined: 0,
        parts: [{ key: 'a', sha256: '', bytes: 1, rowsRead: 4 }],
      }),
    ).toThrow('parts hold 4 rows but 5 were read');
  });
});
