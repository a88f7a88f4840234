import { describe, expect, it } from 'vitest';
import { CsvScanner } from '../../../../shared/domain/tape/csv-scanner.ts';
import {
  QUARANTINE_CSV_HEADER,
  quarantineCsvLine,
  safeCsvCell,
} from '../../../../shared/domain/tape/quarantine-csv.ts';

describe('Function: safeCsvCell', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    expect(safeCsvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(safeCsvCell('+1')).toBe("'+1");
    expect(safeCsvCell('-2')).toBe("'-2");
    expect(safeCsvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(safeCsvCell('\tx')).toBe("'\tx");
    expect(safeCsvCell('\rx')).toBe(`"'\rx"`);
  });

  it('leaves ordinary text alone and quotes per RFC 4180', () => {
    expect(safeCsvCell('plain')).toBe('plain');
    expect(safeCsvCell('a,b')).toBe('"a,b"');
    expect(safeCsvCell('x\ny')).toBe('"x\ny"');
  });
});

describe('Function: quarantineCsvLine', () => {
  it('writes line,part,codes,detail,raw that a CSV reader gets back intact', () => {
    const row = {
      part: 'snapshots/2026-11-25/loans.csv',
      line: 42,
      raw: '=cmd|calc,-5,"quoted, text"',
      codes: ['NEGATIVE', 'DUPLICATE_LOAN_ID'],
      detail: 'principal: negative; loan_id: repeats an earlier row',
    };
    const text = `${QUARANTINE_CSV_HEADER}\n${quarantineCsvLine(row)}\n`;
    const records: string[][] = [];
    const s = new CsvScanner((f) => records.push(f.toArray()));
    s.push(text);
    s.end();
    expect(records).toEqual([
      ['line', 'part', 'codes', 'detail', 'raw'],
      ['42', row.part, 'NEGATIVE|DUPLICATE_LOAN_ID', row.detail, `'${row.raw}`],
    ]);
  });
});
