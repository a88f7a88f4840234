import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  encodeScoreFile,
  type LoanRiskState,
  readScoreFile,
  writeScoreFile,
} from '../../bench/store-model.ts';
import type { ArtifactStore } from '../../shared/ports/artifact-store.ts';

// The store bench's model of a night's score file (gzip JSON Lines of LoanRiskState), not the
// pipeline's binary score file (test/unit/domain/store/score-file.test.ts).

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

/** A gzip JSON Lines file's records, read with zlib directly (not the model's reader). */
function jsonLinesOf(bytes: Uint8Array): unknown[] {
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
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
    expect(jsonLinesOf(bytes)).toEqual(states);
  });

  it('encodes an empty night as an empty file', async () => {
    expect(jsonLinesOf(await encodeScoreFile([]))).toEqual([]);
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
    const artifacts = new MemoryArtifacts();
    await writeScoreFile(artifacts, 'runs/2026-01-03/risk-states.jsonl.gz', many);
    const back = await collect((await readScoreFile(artifacts, 'runs/2026-01-03/risk-states.jsonl.gz'))!);
    expect(back).toHaveLength(20_000);
    expect(back[19_999]?.loanId).toBe('L019999');
  });
});
