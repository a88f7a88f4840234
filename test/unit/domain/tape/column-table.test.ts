import { describe, expect, it } from 'vitest';
import {
  OPTIONAL_COLUMNS,
  REQUIRED_COLUMNS,
  TAPE_COLUMN_TABLE,
  TAPE_COLUMNS,
} from '../../../../shared/domain/loan.ts';
import { identityPlan } from '../../../../shared/domain/tape/column-plan.ts';
import { FieldRow } from '../../../../shared/domain/tape/field-row.ts';
import { RowValidator } from '../../../../shared/domain/tape/row-validator.ts';
import { collectSink, goodRow } from './helpers.ts';

/** Validates one row (cells by column name) and returns what the sink and the counts got. */
function validate(cellsByColumn: Record<string, string>) {
  const sink = collectSink();
  const v = new RowValidator(sink, { snapshotDate: '2026-11-25' });
  v.setPart('tape.csv', identityPlan([...TAPE_COLUMNS]));
  const f = TAPE_COLUMNS.map((c) => cellsByColumn[c] ?? '');
  const raw = f.join(',');
  v.acceptFields(FieldRow.of(f), 2, raw, 0, raw.length, TAPE_COLUMNS.length, null);
  return { sink, stats: v.stats() };
}

describe('TAPE_COLUMN_TABLE', () => {
  it('transcribes the columns of loan-tape.md in its order, the first twelve required', () => {
    // Typed from the contract's column table, not from the code.
    expect(REQUIRED_COLUMNS).toEqual([
      'snapshot_date',
      'loan_id',
      'borrower_id',
      'borrower_type',
      'product',
      'principal',
      'outstanding_principal',
      'annual_rate',
      'term_months',
      'origination_date',
      'maturity_date',
      'days_past_due',
    ]);
    expect(OPTIONAL_COLUMNS).toEqual([
      'currency',
      'region',
      'industry',
      'merchant_id',
      'borrower_age',
      'annual_income',
      'monthly_debt_payments',
      'other_lenders_count',
      'credit_score',
      'is_student',
      'own_funding_share',
      'loan_purpose',
      'partner_id',
      'related_party_group',
      'reported_classification',
    ]);
    const integers = TAPE_COLUMN_TABLE.filter((c) => 'integer' in c && c.integer).map((c) => c.column);
    expect(integers).toEqual([
      'term_months',
      'days_past_due',
      'borrower_age',
      'other_lenders_count',
      'credit_score',
    ]);
    const positive = TAPE_COLUMN_TABLE.filter((c) => 'min' in c && c.min === 'positive').map((c) => c.column);
    expect(positive).toEqual(['principal', 'term_months']);
  });
});

describe('Class: RowValidator, driven by the column table', () => {
  it('accepts the reference row with every column filled', () => {
    const { sink } = validate(
      goodRow({
        merchant_id: 'M1',
        loan_purpose: 'business',
        partner_id: 'P',
        related_party_group: 'G',
        reported_classification: 'normal',
      }),
    );
    expect(sink.quarantined).toEqual([]);
    expect(sink.loans).toHaveLength(1);
  });

  for (const entry of TAPE_COLUMN_TABLE) {
    if (entry.required) {
      it(`quarantines a row whose required ${entry.column} is empty, naming it`, () => {
        const { sink, stats } = validate(goodRow({ [entry.column]: '' }));
        expect(sink.loans).toEqual([]);
        expect(sink.quarantined[0]?.codes).toContain('MISSING_REQUIRED');
        expect(sink.quarantined[0]?.detail).toContain(`${entry.column}: missing`);
        expect(stats.rowsQuarantined).toBe(1);
      });
    } else {
      it(`keeps a row whose optional ${entry.column} is empty and counts it missing`, () => {
        const { sink, stats } = validate(goodRow({ [entry.column]: '' }));
        expect(sink.quarantined).toEqual([]);
        const expected =
          entry.column === 'currency' ? 'CNY' : entry.column === 'own_funding_share' ? 1 : null;
        expect(sink.loans[0]?.[entry.field]).toBe(expected);
        expect(stats.missingCounts[entry.column]).toBe(1);
        const others = Object.entries(stats.missingCounts).filter(([c]) => c !== entry.column);
        // The reference row leaves merchant_id and four more columns empty; no other count moves.
        for (const [column, n] of others)
          expect(n, column).toBe(
            [
              'merchant_id',
              'loan_purpose',
              'partner_id',
              'related_party_group',
              'reported_classification',
            ].includes(column)
              ? 1
              : 0,
          );
      });
    }
    const bad: [string, string][] =
      entry.kind === 'number'
        ? [
            ['abc', 'UNPARSEABLE_NUMBER'],
            ...('integer' in entry && entry.integer ? ([['1.5', 'NOT_INTEGER']] as [string, string][]) : []),
            ...('min' in entry ? ([['-1', 'NEGATIVE']] as [string, string][]) : []),
            ...('min' in entry && entry.min === 'positive'
              ? ([['0', 'NOT_POSITIVE']] as [string, string][])
              : []),
          ]
        : entry.kind === 'date'
          ? [['2026-02-30', 'INVALID_DATE']]
          : entry.kind === 'boolean'
            ? [['maybe', 'INVALID_BOOLEAN']]
            : entry.kind === 'choice' || entry.kind === 'currency'
              ? [['not-a-value', 'VALUE_NOT_ALLOWED']]
              : [];
    for (const [cell, code] of bad) {
      it(`quarantines ${entry.column} = ${JSON.stringify(cell)} as ${code}`, () => {
        const { sink } = validate(goodRow({ [entry.column]: cell }));
        expect(sink.loans).toEqual([]);
        expect(sink.quarantined[0]?.codes).toContain(code);
        expect(sink.quarantined[0]?.detail).toContain(`${entry.column}:`);
      });
    }
  }

  it('reads each column into its own Loan field (distinct values everywhere)', () => {
    const { sink } = validate(
      goodRow({
        merchant_id: 'M7',
        borrower_age: '41',
        annual_income: '99000',
        monthly_debt_payments: '1234',
        other_lenders_count: '3',
        credit_score: '655',
        is_student: 'true',
        own_funding_share: '0.3',
        loan_purpose: 'business',
        partner_id: 'PX',
        related_party_group: 'GX',
        reported_classification: 'substandard',
      }),
    );
    const loan = sink.loans[0]!;
    expect([loan.borrowerAge, loan.annualIncome, loan.monthlyDebtPayments, loan.otherLendersCount]).toEqual([
      41, 99000, 1234, 3,
    ]);
    expect([loan.creditScore, loan.isStudent, loan.ownFundingShare, loan.loanPurpose]).toEqual([
      655,
      true,
      0.3,
      'business',
    ]);
    expect([loan.merchantId, loan.partnerId, loan.relatedPartyGroup, loan.reportedClassification]).toEqual([
      'M7',
      'PX',
      'GX',
      'substandard',
    ]);
    expect([
      loan.principal,
      loan.outstandingPrincipal,
      loan.annualRate,
      loan.termMonths,
      loan.daysPastDue,
    ]).toEqual([10000, 6000, 0.18, 12, 0]);
  });
});
