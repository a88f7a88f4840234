import { describe, expect, it } from 'vitest';
import { compileDateFormat, parseExcelSerial } from '../../../../shared/domain/tape/date-format.ts';
import {
  compileExpression,
  ExpressionError,
  type ExprValue,
  parseExpression,
} from '../../../../shared/domain/tape/expression.ts';
import { FieldRow } from '../../../../shared/domain/tape/field-row.ts';
import {
  compileMapping,
  describeHeaderProblems,
  parseMapping,
} from '../../../../shared/domain/tape/mapping.ts';
import { RowValidator } from '../../../../shared/domain/tape/row-validator.ts';
import { ConfigError } from '../../../../shared/errors.ts';
import { collectSink } from './helpers.ts';

describe('Function: parseExpression', () => {
  const evalOn = (src: string, header: string[], row: string[]): ExprValue =>
    compileExpression(parseExpression(src), (n) => header.indexOf(n))(FieldRow.of(row), 1);

  it('respects precedence, parentheses and unary minus', () => {
    expect(evalOn('a + b * c', ['a', 'b', 'c'], ['1', '2', '3'])).toBe(7);
    expect(evalOn('(a + b) * c', ['a', 'b', 'c'], ['1', '2', '3'])).toBe(9);
    expect(evalOn('-a - -b', ['a', 'b'], ['5', '2'])).toBe(-3);
    expect(evalOn('a / 4 - 1', ['a'], ['10'])).toBe(1.5);
  });

  it('reads Chinese and quoted column names, and functions', () => {
    expect(evalOn('放款金额 - 已还本金', ['放款金额', '已还本金'], ['1000', '250'])).toBe(750);
    expect(evalOn('"Rating (numeric)" * 2', ['Rating (numeric)'], ['3'])).toBe(6);
    expect(evalOn('max(a - b, 0)', ['a', 'b'], ['1', '5'])).toBe(0);
    expect(evalOn('round(a / 3, 2)', ['a'], ['10'])).toBe(3.33);
  });

  it('gives null when an operand is empty and NaN when one is not a number', () => {
    expect(evalOn('a - b', ['a', 'b'], ['10', ''])).toBeNull();
    expect(evalOn('a - b', ['a', 'b'], ['10', 'x'])).toEqual({ failure: 'column "b" is not a number' });
  });

  it('rejects anything outside the grammar, naming the position', () => {
    expect(() => parseExpression('a +')).toThrow('unexpected end of expression');
    expect(() => parseExpression('a ; b')).toThrow('unexpected character ";" at position 3');
    expect(() => parseExpression('process.exit(1)')).toThrow(ExpressionError);
    expect(() => parseExpression('(a + b')).toThrow('expected )');
  });
});

describe('Function: compileDateFormat', () => {
  it('reads the usual lender formats', () => {
    expect(compileDateFormat('YYYY/MM/DD')('2026/03/05')).toBe('2026-03-05');
    expect(compileDateFormat('YYYY/M/D')('2026/3/5')).toBe('2026-03-05');
    expect(compileDateFormat('YYYYMMDD')('20260305')).toBe('2026-03-05');
    expect(compileDateFormat('MM/DD/YYYY')('03/05/2026')).toBe('2026-03-05');
    expect(compileDateFormat('YYYY-MM-DD HH:mm:ss')('2026-03-05 23:59:59')).toBe('2026-03-05');
    expect(compileDateFormat('DD-MM-YYYY HH:mm')('14-08-2009 00:00')).toBe('2009-08-14');
    expect(compileDateFormat('YYYY年M月D日')('2026年3月5日')).toBe('2026-03-05');
  });

  it('refuses impossible dates and times', () => {
    expect(compileDateFormat('YYYYMMDD')('20260230')).toBeNull();
    expect(compileDateFormat('YYYY-MM-DD HH:mm:ss')('2026-03-05 24:00:00')).toBeNull();
    expect(compileDateFormat('YYYY/MM/DD')('2026-03-05')).toBeNull();
  });

  it('reads Excel serial days', () => {
    expect(parseExcelSerial('45658')).toBe('2025-01-01');
    expect(parseExcelSerial('45658.75')).toBe('2025-01-01');
    expect(parseExcelSerial('61')).toBe('1900-03-01');
    expect(parseExcelSerial('abc')).toBeNull();
    expect(compileDateFormat('excel')('46000')).toBe('2025-12-09');
  });

  it('refuses a format without year, month and day', () => {
    expect(() => compileDateFormat('MM/DD')).toThrow('needs YYYY');
  });
});

describe('Function: parseMapping', () => {
  it('reads YAML and JSON', () => {
    const yaml = parseMapping('columns:\n  loan_id: 贷款编号\n  principal: { from: 放款金额, unit: fen }\n');
    const json = parseMapping(
      '{"columns": {"loan_id": "贷款编号", "principal": {"from": "放款金额", "unit": "fen"}}}',
    );
    expect(yaml).toEqual(json);
    expect(yaml.columns.principal).toEqual({ from: '放款金额', unit: 'fen' });
  });

  it('names the field of a mistake', () => {
    expect(() => parseMapping('columns:\n  principal: { from: a, unit: cents }\n', 'm.yaml')).toThrow(
      /column mapping m\.yaml is invalid: columns\.principal\.unit: /,
    );
    expect(() => parseMapping('columns:\n  princpal: a\n', 'm.yaml')).toThrow(
      'columns: Unrecognized key: "princpal"',
    );
    expect(() => parseMapping('columns:\n  principal: { from: a, constant: 1 }\n', 'm.yaml')).toThrow(
      'give exactly one of from, constant or expr',
    );
    expect(() => parseMapping('colums: {}\n', 'm.yaml')).toThrow(ConfigError);
    expect(() => parseMapping('columns:\n  principal: { expr: "a +" }\n', 'm.yaml')).toThrow(
      'columns.principal: unexpected end of expression',
    );
    expect(() => parseMapping('columns: [\n', 'm.yaml')).toThrow('is not valid YAML or JSON');
  });
});

describe('Function: compileMapping', () => {
  const mapping = parseMapping(`
encoding: gbk
dateFormat: YYYY/MM/DD
columns:
  snapshot_date: 数据日期
  loan_id: 贷款编号
  borrower_id: 客户编号
  borrower_type: { from: 客户类型, values: { 个人: individual, 企业: enterprise } }
  product: { from: 产品, values: { 订单贷: order_financing, 信用贷: credit_loan, 消费贷: consumer_credit } }
  principal: { from: 放款金额分, unit: fen }
  outstanding_principal: { expr: "放款金额分 - 已还本金分", unit: fen }
  annual_rate: { from: 年化利率, unit: percent }
  term_months: 期限
  origination_date: 放款日期
  maturity_date: { from: 放款日期, addMonths: 期限 }
  days_past_due: 逾期天数
  currency: { constant: CNY }
  is_student: { from: 是否学生, values: { 是: true, 否: false } }
  industry: { from: 行业, values: { 零售: retail }, otherwise: other }
`);
  const header = [
    '数据日期',
    '贷款编号',
    '客户编号',
    '客户类型',
    '产品',
    '放款金额分',
    '已还本金分',
    '年化利率',
    '期限',
    '放款日期',
    '逾期天数',
    '是否学生',
    '行业',
    '备注',
  ];

  function validate(row: string[]) {
    const sink = collectSink();
    const v = new RowValidator(sink, {});
    v.setPart('t.csv', compileMapping(mapping, header));
    v.acceptFields(FieldRow.of(row), 2, row.join(','), 0, row.join(',').length, header.length, null);
    return sink;
  }

  it('renames, maps values, scales units, parses dates, adds months and computes columns', () => {
    const sink = validate([
      '2026/11/25',
      'D-1',
      'C-9',
      '企业',
      '订单贷',
      '1234567',
      '234567',
      '18.5',
      '6',
      '2026/08/31',
      '0',
      '否',
      '批发',
      '无',
    ]);
    expect(sink.quarantined).toEqual([]);
    expect(sink.loans[0]).toMatchObject({
      snapshotDate: '2026-11-25',
      loanId: 'D-1',
      borrowerType: 'enterprise',
      product: 'order_financing',
      principal: 12345.67,
      outstandingPrincipal: 10000,
      annualRate: 0.185,
      originationDate: '2026-08-31',
      maturityDate: '2027-02-28',
      currency: 'CNY',
      isStudent: false,
      industry: 'other',
    });
  });

  it('quarantines a value the map does not know', () => {
    const sink = validate([
      '2026/11/25',
      'D-1',
      'C-9',
      '个体户',
      '订单贷',
      '100',
      '0',
      '18',
      '6',
      '2026/08/31',
      '0',
      '否',
      '零售',
      '',
    ]);
    expect(sink.quarantined[0]!.codes).toEqual(['VALUE_NOT_ALLOWED']);
  });

  it('lists unused source columns and reports required columns whose source is missing', () => {
    const plan = compileMapping(mapping, header);
    expect(plan.unknownColumns).toEqual(['备注']);
    const short = compileMapping(
      mapping,
      header.filter((h) => h !== '放款金额分'),
    );
    expect(short.missingRequired).toEqual(['principal', 'outstanding_principal']);
    expect(describeHeaderProblems(short)).toBe(
      'its header lacks the required columns principal (mapped from "放款金额分"), outstanding_principal (mapped from "放款金额分")',
    );
  });

  it('reads canonical names directly when there is no mapping, trimming the header and a BOM', () => {
    const plan = compileMapping(undefined, ['\uFEFFsnapshot_date', ' loan_id ', 'extra']);
    expect(plan.specs[0]!.index).toBe(0);
    expect(plan.specs[1]!.index).toBe(1);
    expect(plan.unknownColumns).toEqual(['extra']);
    expect(plan.missingRequired).toContain('principal');
  });
});
