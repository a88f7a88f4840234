import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvScanner, CsvSyntaxError } from '../../../../shared/domain/tape/csv-scanner.ts';
import { csvCell } from '../../../../shared/domain/tape/tape-row.ts';

interface Rec {
  fields: string[];
  line: number;
  raw: string;
  malformed: string | null;
}

/** Scans `text` fed in pieces of `size` characters. */
function scan(text: string, size = text.length || 1): Rec[] {
  const out: Rec[] = [];
  const s = new CsvScanner((fields, line, t, start, end, malformed) => {
    out.push({ fields: fields.toArray(), line, raw: t.slice(start, end), malformed });
  });
  for (let i = 0; i < text.length; i += size) s.push(text.slice(i, i + size));
  s.end();
  return out;
}

describe('Class: CsvScanner', () => {
  it('splits plain rows and numbers physical lines from 1', () => {
    const recs = scan('a,b,c\n1,2,3\n4,5,6\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(recs[2]!.raw).toBe('4,5,6');
  });

  it('handles quoted commas, doubled quotes and line breaks, counting the lines a record spans', () => {
    const text = 'id,note\n1,"a,b"\n2,"say ""hi"""\n3,"two\nlines"\n4,end\n';
    const recs = scan(text);
    expect(recs.map((r) => r.fields)).toEqual([
      ['id', 'note'],
      ['1', 'a,b'],
      ['2', 'say "hi"'],
      ['3', 'two\nlines'],
      ['4', 'end'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 4, 6]);
    expect(recs[3]!.raw).toBe('3,"two\nlines"');
  });

  it('reads CRLF files, including CRLF inside quotes, without keeping the CR', () => {
    const recs = scan('a,b\r\n1,"x\r\ny"\r\n2,z\r\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', 'x\r\ny'],
      ['2', 'z'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(recs[2]!.raw).toBe('2,z');
  });

  it('finds quoted fields that appear only late in the file (no guessing from the first chunk)', () => {
    const plain = Array.from({ length: 5000 }, (_, i) => `${i},x`).join('\n');
    const recs = scan(`${plain}\n5000,"late, quoted"\n`, 4096);
    expect(recs).toHaveLength(5001);
    expect(recs[5000]!.fields).toEqual(['5000', 'late, quoted']);
    expect(recs[5000]!.line).toBe(5001);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'h1,h2,h3\r\n"a ""q"" b",2,"multi\nline, with comma"\n,,\nlast,"",x';
    const whole = scan(text);
    for (let size = 1; size <= text.length; size++) expect(scan(text, size), `chunk ${size}`).toEqual(whole);
    expect(whole.at(-1)!.fields).toEqual(['last', '', 'x']);
  });

  it('keeps empty fields and skips blank lines while counting them', () => {
    const recs = scan('a,b\n\n,\n1,\n');
    expect(recs.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b']],
      [3, ['', '']],
      [4, ['1', '']],
    ]);
  });

  it('flags an unclosed quote at the end of the file as malformed', () => {
    const recs = scan('a,b\n1,"never closed\n2,3\n');
    expect(recs).toHaveLength(2);
    expect(recs[1]!.malformed).toBe('a quoted field is never closed');
  });

  it('flags text after a closing quote as malformed but keeps the row', () => {
    const recs = scan('a,b\n"x"y,2\n');
    expect(recs[1]!.malformed).toBe('text follows a closing quote');
    expect(recs[1]!.fields).toEqual(['xy', '2']);
  });

  it('refuses a record that grows past the size limit', () => {
    const s = new CsvScanner(() => undefined);
    s.push('a,b\n1,"');
    const big = 'x'.repeat(1 << 20);
    expect(() => {
      for (let i = 0; i < 6; i++) s.push(big);
    }).toThrow(CsvSyntaxError);
  });

  it('round-trips any table written with RFC 4180 quoting (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', '中', 'é', '=') });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((w) =>
            fc.array(fc.array(cell, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 8 }),
          ),
        fc.integer({ min: 1, max: 17 }),
        (rows, size) => {
          // A row of one empty cell is a blank line, which CSV cannot tell from nothing: quote it.
          const text = rows
            .map((r) => (r.length === 1 && r[0] === '' ? '""' : r.map(csvCell).join(',')))
            .join('\r\n');
          const recs = scan(text, size);
          expect(recs.map((r) => r.fields)).toEqual(rows);
          // Each record's raw text is exactly its slice of the file.
          expect(recs.map((r) => r.raw).join('\r\n')).toBe(text);
        },
      ),
      { numRuns: 400 },
    );
  });
});
