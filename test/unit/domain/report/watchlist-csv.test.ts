import { describe, expect, it } from 'vitest';
import type { WatchlistRow } from '../../../../shared/domain/report/types.ts';
import {
  buildWatchlistCsv,
  neutraliseCell,
  WATCHLIST_COLUMNS,
} from '../../../../shared/domain/report/watchlist-csv.ts';

const ROW: WatchlistRow = {
  loanRef: 'L-****-83A1',
  grade: 'E',
  score: 512,
  pd: 0.312,
  dpdBucket: '61-90',
  classification: 'special_mention',
  outstanding: 286000.456,
  product: 'order_financing',
  region: 'Zhejiang',
  industry: 'Catering, "Fast"',
  flags: ['MULTI_LENDING', 'HIGH_DTI'],
  reasons: ['rolled 31-60 to 61-90'],
};

describe('Function: neutraliseCell', () => {
  it('puts a quote before every formula trigger', () => {
    expect(neutraliseCell('=1+2')).toBe("'=1+2");
    expect(neutraliseCell('+1')).toBe("'+1");
    expect(neutraliseCell('-1')).toBe("'-1");
    expect(neutraliseCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutraliseCell('\t=1')).toBe("'\t=1");
    expect(neutraliseCell('\r=1')).toBe("'\r=1");
  });

  it('leaves ordinary text alone and drops other control characters', () => {
    expect(neutraliseCell('Zhejiang')).toBe('Zhejiang');
    expect(neutraliseCell('a=b')).toBe('a=b');
    expect(neutraliseCell('\u0000=1')).toBe("'=1");
  });
});

describe('Function: buildWatchlistCsv', () => {
  it('writes a BOM, the header and CRLF lines', () => {
    const csv = buildWatchlistCsv([ROW]);
    expect(csv.startsWith('\uFEFFloan_ref,grade,score,pd,')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[0]).toBe(WATCHLIST_COLUMNS.join(','));
    expect(lines[1]).toBe(
      'L-****-83A1,E,512,0.312,61-90,special_mention,286000.46,order_financing,Zhejiang,"Catering, ""Fast""",MULTI_LENDING; HIGH_DTI,rolled 31-60 to 61-90',
    );
    expect(lines[2]).toBe('');
  });

  it('writes empty cells for unknown values', () => {
    const csv = buildWatchlistCsv([
      { ...ROW, score: null, region: null, industry: null, flags: [], reasons: [] },
    ]);
    expect(csv.split('\r\n')[1]).toBe(
      'L-****-83A1,E,,0.312,61-90,special_mention,286000.46,order_financing,,,,',
    );
  });

  it('neutralises formulas coming from the tape', () => {
    const csv = buildWatchlistCsv([{ ...ROW, industry: '=HYPERLINK("http://x","y")', region: '@evil' }]);
    expect(csv.split('\r\n')[1]).toContain(`,'@evil,"'=HYPERLINK(""http://x"",""y"")",`);
  });

  it('never writes a field the columns do not list', () => {
    const leaky = {
      ...ROW,
      borrowerId: 'BORROWER-0042-RAW',
      annualIncome: 123456,
      borrowerAge: 19,
    } as WatchlistRow;
    const csv = buildWatchlistCsv([leaky]);
    expect(csv).not.toContain('BORROWER-0042-RAW');
    expect(csv).not.toContain('123456');
    expect(csv.split('\r\n')[1]?.split(',').length).toBe(WATCHLIST_COLUMNS.length + 1); // the quoted industry holds one comma
  });
});
