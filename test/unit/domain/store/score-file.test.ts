import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nodeGzip } from '../../../../shared/adapters/gzip.ts';
import {
  decodeScores,
  encodeScores,
  readScores,
  SCORE_FIELDS,
  type ScoredLoan,
  ScoreFileWriter,
  SortedScores,
} from '../../../../shared/domain/store/score-file.ts';
import { withRuleCodes } from '../../../../shared/domain/store/score-merge.ts';
import { ScoreFileError } from '../../../../shared/errors.ts';

const loan = (over: Partial<ScoredLoan> = {}): ScoredLoan => ({
  loanId: 'L1',
  borrowerKey: '00ff00ff00ff00ff',
  product: 'credit_loan',
  region: 'Zhejiang',
  industry: null,
  loanPurpose: 'consumption',
  partnerId: 'PB-"1"',
  coLent: true,
  relatedPartyGroup: null,
  reportedClassification: 'normal',
  outstanding: 1234.56,
  score: 612,
  grade: 'C',
  pd: 0.0123456789,
  el: 5.5e-7,
  dpdBucket: '31-60',
  classification: 'special_mention',
  stage: '2',
  creditBand: '600-649',
  ruleCodes: ['APR_CAP'],
  flags: [],
  reasons: ['DPD', 'HIGH_DTI'],
  ...over,
});

/** A stream of `bytes` in pieces of `size` (to cross record boundaries). */
async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(bytes: Uint8Array, size = 7): Promise<ScoredLoan[]> {
  const out: ScoredLoan[] = [];
  for await (const batch of readScores(pieces(bytes, size), nodeGzip, 'runs/x/scores.bin.gz'))
    out.push(...batch);
  return out;
}

describe('Score file format (version 2)', () => {
  it('round-trips every field: free text, nulls, -0, tiny and large numbers, across any chunking', async () => {
    const loans = [
      loan(),
      loan({ loanId: 'L"2</script>', region: null, industry: '餐饮 "food"\\ \n', outstanding: 0, el: 0 }),
      loan({ loanId: 'L3', outstanding: -0, pd: 1, score: 0, ruleCodes: [], reasons: [] }),
      loan({ loanId: 'L4', outstanding: 123456789012.34567, el: Number.MIN_VALUE, flags: ['THIN_FILE'] }),
    ];
    const bytes = await encodeScores(loans, nodeGzip);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    for (const size of [1, 7, 4096]) {
      const back = await readAll(bytes, size);
      expect(back).toEqual(loans);
      expect(Object.is(back[2]!.outstanding, -0)).toBe(true);
    }
    expect(decodeScores(bytes, nodeGzip)).toEqual(loans);
  });

  it('stores every field of a scored loan (a field added to ScoredLoan must be added to SCORE_FIELDS)', async () => {
    expect(SCORE_FIELDS.map(([name]) => name)).toEqual(Object.keys(loan()));
    const [back] = decodeScores(await encodeScores([loan()], nodeGzip), nodeGzip);
    expect(Object.keys(back!)).toEqual(Object.keys(loan()));
  });

  it('lays a loan out as docs/score-file.md says, byte for byte', async () => {
    const one = loan({
      loanId: 'A',
      borrowerKey: 'k',
      region: null,
      industry: null,
      loanPurpose: 'business',
      partnerId: null,
      coLent: true,
      reportedClassification: null,
      ruleCodes: [],
      flags: [],
      reasons: [],
    });
    const f64 = (v: number) => {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      return [...b];
    };
    const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    const sym = (text: string) => [1, ...u32(Buffer.byteLength(text)), ...Buffer.from(text)];
    // Symbols in the order the loan first uses them: the empty list only. Closed sets as their
    // index: credit_loan 1, business 1, grade C 2, 31-60 2, special_mention 1, stage 2 1, credit
    // band 600-649 3; co-lent 1.
    const fields = [
      ...u32(1),
      0x41,
      ...u32(1),
      0x6b,
      1,
      0,
      0,
      1,
      0,
      1,
      0,
      0,
      ...f64(1234.56),
      ...f64(612),
      2,
      ...f64(0.0123456789),
      ...f64(5.5e-7),
      2,
      1,
      1,
      3,
      1,
      1,
      1,
    ];
    const expected = Buffer.from([
      ...Buffer.from('RASCORES'),
      2,
      0,
      0,
      0,
      ...sym('[]'),
      2,
      ...u32(fields.length),
      ...fields,
    ]);
    expect(Buffer.from(gunzipSync(await encodeScores([one], nodeGzip)))).toEqual(expected);
    expect(decodeScores(gzipSync(expected), nodeGzip)).toEqual([one]);
  });

  it('numbers symbols past 127 with multi-byte varints', async () => {
    const loans = Array.from({ length: 300 }, (_, i) =>
      loan({
        loanId: `L${String(i).padStart(4, '0')}`,
        region: `region ${i}`,
        ruleCodes: [`RULE_${i % 150}`],
      }),
    );
    expect(await readAll(await encodeScores(loans, nodeGzip), 1000)).toEqual(loans);
  });

  it('shares one frozen list between the loans that have it', async () => {
    const [a, b] = decodeScores(await encodeScores([loan(), loan({ loanId: 'L2' })], nodeGzip), nodeGzip);
    expect(a!.reasons).toBe(b!.reasons);
    expect(Object.isFrozen(a!.reasons)).toBe(true);
    expect(withRuleCodes(a!, ['X']).ruleCodes).toEqual(['X']);
    expect(a!.ruleCodes).toEqual(['APR_CAP']);
  });

  it('round-trips each of the seven credit score bands as its index in CREDIT_SCORE_BANDS', async () => {
    // Prepare: one loan per band, in list order.
    const bands = ['missing', '<550', '550-599', '600-649', '650-699', '700-749', '750+'] as const;
    const loans = bands.map((creditBand, i) => loan({ loanId: `L${i}`, creditBand }));

    // Act
    const bytes = await encodeScores(loans, nodeGzip);

    // Assess: read back whole and in 7-byte pieces; in the file, the byte right after the stage
    // byte is the band's index (0 to 6).
    expect(decodeScores(bytes, nodeGzip).map((s) => s.creditBand)).toEqual([...bands]);
    expect((await readAll(bytes)).map((s) => s.creditBand)).toEqual([...bands]);
    const raw = Buffer.from(gunzipSync(await encodeScores([loan({ creditBand: '750+' })], nodeGzip)));
    // The loan record's last bytes: stage 2 (index 1), band 750+ (index 6), then the list symbols
    // numbered in first use after the region Zhejiang (1): ["APR_CAP"] 2, [] 3, ["DPD","HIGH_DTI"] 4.
    expect([...raw.subarray(raw.byteLength - 5)]).toEqual([1, 6, 2, 3, 4]);
  });

  it('refuses a version 1 file, written before the credit score band, naming both versions', async () => {
    // Prepare: a version 2 file whose header says version 1.
    const bytes = Buffer.from(gunzipSync(await encodeScores([loan()], nodeGzip)));
    bytes.writeUInt16LE(1, 8);

    // Act and Assess
    await expect(readAll(gzipSync(bytes))).rejects.toThrow(
      new ScoreFileError(
        'runs/x/scores.bin.gz is written in version 1 of the score file format, and this release reads version 2 only',
      ),
    );
    expect(() => decodeScores(gzipSync(bytes), nodeGzip, 'f')).toThrow(
      new ScoreFileError(
        'f is written in version 1 of the score file format, and this release reads version 2 only',
      ),
    );
  });

  it('refuses another version of the format in one sentence naming the file', async () => {
    const bytes = Buffer.from(gunzipSync(await encodeScores([loan()], nodeGzip)));
    bytes.writeUInt16LE(3, 8);
    await expect(readAll(gzipSync(bytes))).rejects.toThrow(
      new ScoreFileError(
        'runs/x/scores.bin.gz is written in version 3 of the score file format, and this release reads version 2 only',
      ),
    );
    expect(() => decodeScores(gzipSync(bytes), nodeGzip, 'f')).toThrow(
      /^f is written in version 3 of the score file format/,
    );
  });

  it('refuses a file that is not a score file, or ends inside a record', async () => {
    await expect(readAll(gzipSync('PK\x03\x04 a zip, say'))).rejects.toThrow(
      'runs/x/scores.bin.gz is not a score file',
    );
    const whole = gunzipSync(await encodeScores([loan(), loan({ loanId: 'L2' })], nodeGzip));
    await expect(readAll(gzipSync(whole.subarray(0, whole.byteLength - 3)))).rejects.toThrow(
      'runs/x/scores.bin.gz is damaged: it ends inside a record',
    );
  });

  it('refuses a gzip JSON Lines file, or an empty one, as not a score file', async () => {
    // Prepare: the loans as JSON Lines, the format the binary file replaced before any release.
    const jsonLines = gzipSync(
      `${[loan(), loan({ loanId: 'L2' })].map((l) => JSON.stringify(l)).join('\n')}\n`,
    );
    // Act and Assess: its first bytes are '{"loanId"', not the header, in 3-byte chunks as in one piece.
    await expect(readAll(jsonLines, 3)).rejects.toThrow(
      new ScoreFileError('runs/x/scores.bin.gz is not a score file'),
    );
    expect(() => decodeScores(jsonLines, nodeGzip, 'f')).toThrow(new ScoreFileError('f is not a score file'));
    await expect(readAll(gzipSync(''))).rejects.toThrow(
      new ScoreFileError('runs/x/scores.bin.gz is not a score file'),
    );
  });
});

describe('Class: ScoreFileWriter', () => {
  it('writes a file larger than its chunks, read back in batches', async () => {
    const many = Array.from({ length: 50_000 }, (_, i) => loan({ loanId: `L${String(i).padStart(6, '0')}` }));
    const writer = new ScoreFileWriter(nodeGzip);
    for (const s of many) await writer.add(s);
    const batches: number[] = [];
    for await (const b of readScores(pieces(await writer.finish(), 1 << 16), nodeGzip))
      batches.push(b.length);
    expect(batches.reduce((n, k) => n + k, 0)).toBe(50_000);
    expect(batches.length).toBeGreaterThan(1);
  });
});

describe('Class: SortedScores', () => {
  const decoded = (s: SortedScores) => decodeScores(gzipSync(Buffer.concat([...s.bytes()])), nodeGzip);

  it('gives the loans by loan id, across chunk boundaries and with multi-byte text, sorted or not', () => {
    const n = 60_000;
    const pad = 'é'.repeat(40);
    const keys = Array.from({ length: n }, (_, i) => `K${String(i).padStart(6, '0')}`);
    const inOrder = new SortedScores();
    for (const k of keys) inOrder.add(loan({ loanId: k, industry: `${k} ${pad}` }));
    const shuffled = new SortedScores();
    let x = 3;
    const mixed = [...keys];
    for (let i = n - 1; i > 0; i--) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const j = x % (i + 1);
      [mixed[i], mixed[j]] = [mixed[j]!, mixed[i]!];
    }
    for (const k of mixed) shuffled.add(loan({ loanId: k, industry: `${k} ${pad}` }));
    expect(inOrder.size).toBe(n);
    const expected = keys.map((k) => `${k}|${k} ${pad}`);
    expect(decoded(inOrder).map((s) => `${s.loanId}|${s.industry}`)).toEqual(expected);
    expect(decoded(shuffled).map((s) => `${s.loanId}|${s.industry}`)).toEqual(expected);
  });

  it('holds a record longer than a chunk, and nothing when empty', () => {
    const s = new SortedScores();
    s.add(loan({ loanId: 'b', region: 'x'.repeat(5 << 20) }));
    s.add(loan({ loanId: 'a' }));
    expect(decoded(s).map((l) => [l.loanId, l.region!.length])).toEqual([
      ['a', 8],
      ['b', 5 << 20],
    ]);
    expect(decoded(new SortedScores())).toEqual([]);
  });
});
