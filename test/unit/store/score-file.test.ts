import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  encodeScoreFile,
  type LoanRiskState,
  readScoreFile,
  writeScoreFile,
} from '../../../bench/store-model.ts';
import {
  decodeScoreFile,
  gzipLines,
  SortedLines,
  streamScoreFile,
} from '../../../shared/domain/store/score-file.ts';
import type { ArtifactStore } from '../../../shared/ports/artifact-store.ts';
import type { ScoredLoan } from '../../../shared/use-cases/audit-engine.ts';
import { readScores, scoreLine, withRuleCodes } from '../../../shared/use-cases/score-file.ts';

function state(loanId: string, grade: LoanRiskState['grade']): LoanRiskState {
  return {
    loanId,
    borrowerRef: 'ref',
    grade,
    score: 600,
    pd: 0.1,
    dpdBucket: '0',
    classification: 'normal',
    flags: ['THIN_FILE'],
    outstanding: 12.34,
  };
}

class MemoryArtifacts implements ArtifactStore {
  public readonly objects = new Map<string, { body: Uint8Array; contentType: string }>();
  public async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { body: typeof body === 'string' ? Buffer.from(body) : body, contentType });
  }
  public async putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    this.objects.set(key, { body: Buffer.concat(chunks), contentType });
  }
  public async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key)?.body ?? null;
  }
  public async stream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const o = this.objects.get(key);
    if (!o) return null;
    return (async function* () {
      // Two chunks, to cross a chunk boundary inside the gzip stream.
      yield o.body.subarray(0, 10);
      yield o.body.subarray(10);
    })();
  }
  public async copy(fromKey: string, toKey: string): Promise<boolean> {
    const o = this.objects.get(fromKey);
    if (o) this.objects.set(toKey, o);
    return o !== undefined;
  }
  public async deletePrefix(): Promise<number> {
    return 0;
  }
  public async presignGet(key: string): Promise<{ url: string; expiresAt: Date }> {
    return { url: `memory://${key}`, expiresAt: new Date(0) };
  }
}

async function collect(it: AsyncIterable<LoanRiskState>): Promise<LoanRiskState[]> {
  const out: LoanRiskState[] = [];
  for await (const s of it) out.push(s);
  return out;
}

describe('Function: encodeScoreFile', () => {
  it('round-trips states through gzip JSON Lines', async () => {
    const states = [state('L1', 'A'), state('L2', 'E')];
    const bytes = await encodeScoreFile(states);
    // gzip magic number
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(decodeScoreFile(bytes)).toEqual(states);
  });

  it('encodes an empty night as an empty file', async () => {
    expect(decodeScoreFile(await encodeScoreFile([]))).toEqual([]);
  });
});

describe('Function: writeScoreFile / readScoreFile', () => {
  it('writes the states sorted by loan id and streams them back', async () => {
    const artifacts = new MemoryArtifacts();
    const size = await writeScoreFile(artifacts, 'runs/2026-01-02/risk-states.jsonl.gz', [
      state('L3', 'C'),
      state('L1', 'A'),
      state('L2', 'B'),
    ]);
    const stored = artifacts.objects.get('runs/2026-01-02/risk-states.jsonl.gz');
    expect(stored?.contentType).toBe('application/gzip');
    expect(size).toBe(stored?.body.byteLength);
    const read = await readScoreFile(artifacts, 'runs/2026-01-02/risk-states.jsonl.gz');
    expect((await collect(read!)).map((s) => `${s.loanId}:${s.grade}`)).toEqual(['L1:A', 'L2:B', 'L3:C']);
  });

  it('returns null when the night has no score file', async () => {
    expect(await readScoreFile(new MemoryArtifacts(), 'runs/2026-01-01/risk-states.jsonl.gz')).toBeNull();
  });

  it('streams a file larger than one flush', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => state(`L${String(i).padStart(6, '0')}`, 'B'));
    const bytes = await encodeScoreFile(many);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
    }
    const back = await collect(streamScoreFile(chunks()));
    expect(back).toHaveLength(20_000);
    expect(back[19_999]?.loanId).toBe('L019999');
  });
});

describe('Function: scoreLine', () => {
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
    ruleCodes: ['APR_CAP'],
    flags: [],
    reasons: ['DPD', 'HIGH_DTI'],
    ...over,
  });

  it('writes exactly what JSON.stringify writes, free text included', () => {
    for (const s of [
      loan(),
      loan({ region: null, industry: '餐饮 "food"\\ \n', loanId: 'L"2</script>', outstanding: 0, el: 0 }),
      loan({ outstanding: -0, pd: 1, score: 0, ruleCodes: [], reasons: [] }),
    ]) {
      expect(scoreLine(s)).toBe(JSON.stringify(s));
      expect(JSON.parse(scoreLine(s))).toEqual(JSON.parse(JSON.stringify(s)));
    }
  });

  it('writes every field of a scored loan (a field added to ScoredLoan must be added here)', () => {
    expect(Object.keys(JSON.parse(scoreLine(loan())))).toEqual(Object.keys(loan()));
  });

  it('gives a loan read from a score file back its own line, and a copy with other rule codes a fresh one', async () => {
    // A line as another writer might have spaced it: only a loan passed on unchanged keeps it.
    const spaced = JSON.stringify(loan({ loanId: 'L9' }), null, 0).replace('"grade":"C"', '"grade": "C"');
    const file = gzipSync(`${scoreLine(loan())}\n${spaced}\n`);
    async function* once(): AsyncGenerator<Uint8Array> {
      yield file;
    }
    const read: ScoredLoan[] = [];
    for await (const batch of readScores(once())) read.push(...batch);
    expect(read.map(scoreLine)).toEqual([scoreLine(loan()), spaced]);
    // The copy carries the new codes, in a line written afresh; the loan it came from keeps its own.
    const copy = withRuleCodes(read[1]!, ['APR_CAP', 'BORROWER_CAP']);
    expect(scoreLine(copy)).toBe(
      JSON.stringify(loan({ loanId: 'L9', ruleCodes: ['APR_CAP', 'BORROWER_CAP'] })),
    );
    expect(scoreLine(read[1]!)).toBe(spaced);
    // The line is not a field: the record has the fields of a scored loan and no others.
    expect(Object.keys(read[0]!)).toEqual(Object.keys(loan()));
    expect(JSON.stringify(read[0])).toBe(scoreLine(loan()));
  });
});

describe('Function: gzipLines', () => {
  it('keeps every line, across chunk boundaries, multi-byte text and a line longer than a chunk', async () => {
    const lines = [
      ...Array.from({ length: 20_000 }, (_, i) => `{"i":${i},"t":"贷款 ${'x'.repeat(i % 97)}"}`),
      'y'.repeat(3 << 20),
      '最后',
    ];
    for (const level of [1, 6]) {
      const text = gunzipSync(await gzipLines(lines, level)).toString('utf8');
      expect(text).toBe(`${lines.join('\n')}\n`);
    }
  });
});

describe('Class: SortedLines', () => {
  const text = (s: SortedLines) => Buffer.concat([...s.bytes()]).toString('utf8');

  it('gives the lines by key, across chunk boundaries and with multi-byte text, sorted or not', () => {
    const n = 60_000;
    const pad = 'é'.repeat(40);
    const keys = Array.from({ length: n }, (_, i) => `K${String(i).padStart(6, '0')}`);
    const inOrder = new SortedLines();
    for (const k of keys) inOrder.add(k, `${k} ${pad}`);
    const shuffled = new SortedLines();
    let x = 3;
    const mixed = [...keys];
    for (let i = n - 1; i > 0; i--) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const j = x % (i + 1);
      [mixed[i], mixed[j]] = [mixed[j]!, mixed[i]!];
    }
    for (const k of mixed) shuffled.add(k, `${k} ${pad}`);
    const expected = keys.map((k) => `${k} ${pad}\n`).join('');
    expect(inOrder.size).toBe(n);
    expect(text(inOrder)).toBe(expected);
    expect(text(shuffled)).toBe(expected);
  });

  it('holds a line longer than a chunk, and nothing when empty', () => {
    const s = new SortedLines();
    s.add('b', 'x'.repeat(5 << 20));
    s.add('a', 'short');
    expect(text(s)).toBe(`short\n${'x'.repeat(5 << 20)}\n`);
    expect(text(new SortedLines())).toBe('');
  });
});
