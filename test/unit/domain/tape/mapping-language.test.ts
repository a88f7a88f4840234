import { describe, expect, it } from 'vitest';
import { scanTape } from '../../../../shared/adapters/tape/read-tape.ts';
import {
  compileExpression,
  type ExprValue,
  isCondition,
  parseExpression,
} from '../../../../shared/domain/tape/expression.ts';
import { FieldRow } from '../../../../shared/domain/tape/field-row.ts';
import {
  type ColumnMapping,
  mappingReadsWholeParts,
  parseMapping,
} from '../../../../shared/domain/tape/mapping.ts';
import { collectSink, memoryPart } from './helpers.ts';

const evalOn = (src: string, header: string[], row: string[], rowNumber = 1): ExprValue =>
  compileExpression(parseExpression(src), (n) => header.indexOf(n))(FieldRow.of(row), rowNumber);

/** A minimal tape in some export's own shape, read through a mapping. */
async function read(mapping: string, text: string, snapshotDate = '2026-11-25') {
  const sink = collectSink();
  const stats = await scanTape(
    [memoryPart('export.csv', text)],
    { snapshotDate, mapping: parseMapping(mapping, 'm.yaml') },
    sink,
  );
  expect(stats.rowsRead).toBe(stats.rowsValid + stats.rowsQuarantined);
  return { stats, loans: sink.loans, quarantined: sink.quarantined };
}

/** The required columns as constants (YAML lines), but those a test maps itself. */
function base(...mapped: string[]): string {
  const constants: Record<string, string> = {
    snapshot_date: '"2026-11-25"',
    borrower_id: 'B1',
    borrower_type: 'individual',
    product: 'credit_loan',
    principal: '1000',
    outstanding_principal: '500',
    annual_rate: '0.1',
    term_months: '12',
    origination_date: '"2026-01-01"',
    maturity_date: '"2027-01-01"',
    days_past_due: '0',
  };
  return Object.entries(constants)
    .filter(([c]) => !mapped.includes(c))
    .map(([c, v]) => `\n  ${c}: { constant: ${v} }`)
    .join('');
}

describe('Expressions: conditions, text and empty values', () => {
  it('compares numbers, text, and text holding numbers', () => {
    expect(evalOn("a = 'x'", ['a'], ['x'])).toBe(true);
    expect(evalOn('a >= 2 and b != 3', ['a', 'b'], ['2', '4'])).toBe(true);
    expect(evalOn('not (a < 2) or false', ['a'], ['1'])).toBe(false);
    expect(evalOn("a = '01'", ['a'], ['01'])).toBe(true);
    expect(evalOn('a = 1', ['a'], ['1.0'])).toBe(true);
  });

  it('passes empty values through: empty operands make empty results, if takes empty as false', () => {
    expect(evalOn('a + 1', ['a'], [''])).toBeNull();
    expect(evalOn('a = 1', ['a'], [''])).toBeNull();
    expect(evalOn("if(a = 1, 'one', 'other')", ['a'], [''])).toBe('other');
    expect(evalOn('coalesce(a, b, 0)', ['a', 'b'], ['', '7'])).toBe('7');
    expect(evalOn("concat('L', a, '-', b)", ['a', 'b'], ['12', ''])).toBe('L12-');
    expect(evalOn('false and a = 1', ['a'], [''])).toBe(false);
    expect(evalOn('true or a = 1', ['a'], [''])).toBe(true);
  });

  it('gives row() the row number and text where text is computed', () => {
    expect(evalOn("concat('DE', row())", [], [], 267)).toBe('DE267');
    expect(evalOn("if(a > 0, a, 'none')", ['a'], ['-3'])).toBe('none');
  });

  it('fails a value it cannot compute instead of guessing', () => {
    expect(evalOn('a * 2', ['a'], ['abc'])).toEqual({ failure: 'column "a" is not a number' });
    expect(evalOn('1 > b', ['b'], ['x'])).toEqual({ failure: 'column "b" is not a number' });
    // Text against text compares as text.
    expect(evalOn("a > 'b'", ['a'], ['1'])).toBe(false);
    expect(evalOn('a + (b = 1)', ['a', 'b'], ['1', '1'])).toEqual({
      failure: 'a value is true or false, not a number',
    });
    expect(evalOn('if(a, 1, 2)', ['a'], ['yes'])).toEqual({
      failure: 'a condition gives a value that is not true or false',
    });
  });

  it('knows a condition from a value, and refuses keywords as bare names', () => {
    expect(isCondition(parseExpression("a = 1 and b = 'x'"))).toBe(true);
    expect(isCondition(parseExpression('if(a = 1, b = 2, false)'))).toBe(true);
    expect(isCondition(parseExpression('a + 1'))).toBe(false);
    expect(() => parseExpression('and + 1')).toThrow('quote a column named so');
    expect(evalOn('"and" + 1', ['and'], ['2'])).toBe(3);
    expect(() => parseExpression('if(a, b)')).toThrow('if takes 3 arguments');
  });
});

describe('Mapping: validation names the field', () => {
  it('refuses a where that is not a condition, date arithmetic on a number, and bad delimiters', () => {
    expect(() => parseMapping('where: "a + 1"\ncolumns: {}\n', 'm.yaml')).toThrow(
      'column mapping m.yaml is invalid: where: is not a condition',
    );
    expect(() => parseMapping('columns:\n  principal: { from: a, add: { days: 3 } }\n', 'm.yaml')).toThrow(
      'columns.principal: date arithmetic (add) applies to date columns only',
    );
    expect(() => parseMapping("delimiter: '\"'\ncolumns: {}\n", 'm.yaml')).toThrow('delimiter:');
    expect(() =>
      parseMapping('columns:\n  maturity_date: { from: a, add: { days: 1, months: 2 } }\n'),
    ).toThrow('give exactly one of days, months or years');
    expect(() => parseMapping('columnNames: [a, a]\ncolumns: {}\n', 'm.yaml')).toThrow(
      'names a column twice',
    );
    expect(() => parseMapping('timeZone: Mars/Olympus\ncolumns: {}\n', 'm.yaml')).toThrow(
      'not an IANA time zone',
    );
  });

  it('says which mappings read each part whole', () => {
    const m = (text: string): ColumnMapping => parseMapping(text);
    expect(mappingReadsWholeParts(m('latest: { by: month }\ncolumns: {}\n'))).toBe(true);
    expect(mappingReadsWholeParts(m('columns:\n  loan_id: { expr: "concat(\'G\', row())" }\n'))).toBe(true);
    expect(mappingReadsWholeParts(m('where: "a = 1"\ncolumns:\n  loan_id: id\n'))).toBe(false);
  });
});

describe('Mapping: real export shapes', () => {
  it('reads a semicolon file and a headerless tab file', async () => {
    const semi = await read(
      `delimiter: ";"\ncolumns:${base()}\n  loan_id: Nr\n  region: Land\n`,
      'Nr;Land\nA;Bayern\nB;"Hessen; Nord"\n',
    );
    expect(semi.loans.map((l) => [l.loanId, l.region])).toEqual([
      ['A', 'Bayern'],
      ['B', 'Hessen; Nord'],
    ]);
    const tab = await read(
      `delimiter: tab\ncolumnNames: [id, region]\ncolumns:${base()}\n  loan_id: id\n`,
      'A\tBayern\nB\tHessen\n',
    );
    // No header line: the first line is a row (line 1).
    expect(tab.loans.map((l) => l.loanId)).toEqual(['A', 'B']);
    expect(tab.stats.rowsRead).toBe(2);
  });

  it('filters rows with where, counting them apart from rows read', async () => {
    const r = await read(
      `where: "status = 'open' and amount > 0"\ncolumns:${base()}\n  loan_id: id\n`,
      'id,status,amount\nA,open,5\nB,closed,5\nC,open,\nD,open,x\nE,open,7\n',
    );
    expect(r.loans.map((l) => l.loanId)).toEqual(['A', 'E']);
    // C: an empty amount is not > 0 (not true): filtered. D: not a number: quarantined, not dropped.
    expect(r.stats.rowsFiltered).toBe(2);
    expect(r.quarantined).toEqual([
      expect.objectContaining({
        line: 5,
        codes: ['MALFORMED_ROW'],
        detail: 'where: column "amount" is not a number',
      }),
    ]);
  });

  it("keeps each loan's latest row of a panel; the rest are superseded, a tie is a repeat", async () => {
    const r = await read(
      `latest: { by: month }\ncolumns:${base('outstanding_principal')}\n  loan_id: id\n  outstanding_principal: balance\n`,
      'id,month,balance\nA,1,100\nB,1,50\nA,3,80\nA,2,90\nB,2,40\nB,2,45\nC,,10\n',
    );
    expect(r.loans.map((l) => [l.loanId, l.outstandingPrincipal])).toEqual([
      ['A', 80],
      ['B', 40],
    ]);
    expect(r.stats.rowsSuperseded).toBe(3);
    expect(r.quarantined.map((q) => [q.line, q.codes])).toEqual([
      [7, ['DUPLICATE_LOAN_ID']],
      [8, ['MALFORMED_ROW']],
    ]);
    expect(r.stats.rowsRead).toBe(4);
  });

  it('orders latest by ISO dates too', async () => {
    const r = await read(
      `latest: { by: as_of }\ncolumns:${base('days_past_due')}\n  loan_id: id\n  days_past_due: dpd\n`,
      'id,as_of,dpd\nA,2026-10-31,30\nA,2026-11-30,60\nA,2026-09-30,0\n',
    );
    expect(r.loans.map((l) => l.daysPastDue)).toEqual([60]);
  });

  it('adds days, months and years from a column or a constant, clamping month ends', async () => {
    const r = await read(
      `columns:${base('origination_date', 'maturity_date', 'term_months')}
  loan_id: id
  origination_date: { constant: "2026-11-25", add: { days: offset } }
  maturity_date: { from: start, add: { years: 3 } }
  term_months: { expr: "term * 12" }
`,
      'id,offset,start,term\nA,-30,2024-02-29,2\nB,abc,2026-01-31,1\n',
    );
    expect(r.loans.map((l) => [l.originationDate, l.maturityDate, l.termMonths])).toEqual([
      ['2026-10-26', '2027-02-28', 24],
    ]);
    expect(r.quarantined[0]).toMatchObject({
      codes: ['NOT_INTEGER'],
      detail: 'origination_date: days to add are not a whole number',
    });
  });

  it('looks codes up on text and numbers alike, with otherwise and default', async () => {
    const r = await read(
      `columns:${base('product')}
  loan_id: id
  product: { from: kind, values: { 1: order_financing, 2: consumer_credit } }
  region: { from: prov, values: { ZJ: Zhejiang }, otherwise: other, default: unknown_region }
  industry: { expr: "if(sector = '', 'none', concat('S', sector))" }
`,
      'id,kind,prov,sector\nA,1.0,ZJ,7\nB,02,GD,\nC,2,,1\nD,3,ZJ,1\n',
    );
    expect(r.loans.map((l) => [l.loanId, l.product, l.region, l.industry])).toEqual([
      ['A', 'order_financing', 'Zhejiang', 'S7'],
      ['B', 'consumer_credit', 'other', 'S'],
      ['C', 'consumer_credit', 'unknown_region', 'S1'],
    ]);
    // An unknown code is never guessed: quarantined.
    expect(r.quarantined.map((q) => q.codes)).toEqual([['VALUE_NOT_ALLOWED']]);
  });

  it('computes a text column from an expression instead of turning it into unknown', async () => {
    const r = await read(
      `columns:${base()}\n  loan_id: { expr: "concat(branch, '-', nr)" }\n  region: { expr: "coalesce(prov, city)" }\n`,
      'branch,nr,prov,city\nSH,1,,Shanghai\nBJ,2,Hebei,Langfang\n',
    );
    expect(r.loans.map((l) => [l.loanId, l.region])).toEqual([
      ['SH-1', 'Shanghai'],
      ['BJ-2', 'Hebei'],
    ]);
  });

  it('picks one of two columns of the same name by occurrence', async () => {
    const r = await read(
      `columns:${base('outstanding_principal')}\n  loan_id: id\n  outstanding_principal: { from: amt, occurrence: 2 }\n`,
      'id,amt,amt\nA,1000,250\n',
    );
    expect(r.loans[0]!.outstandingPrincipal).toBe(250);
  });
});
