import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../../shared/adapters/fs-artifact-store.ts';
import { nodeGzip } from '../../../shared/adapters/gzip.ts';
import { borrowerRefFromKey } from '../../../shared/domain/engine/hash.ts';
import { noTrendFigures } from '../../../shared/domain/report/trend.ts';
import { bucketOfId } from '../../../shared/domain/store/score-buckets.ts';
import {
  encodeScores,
  SCORE_FILE_VERSION,
  type ScoredLoan,
} from '../../../shared/domain/store/score-file.ts';
import type { LoanHistoryItem, RunSummary } from '../../../shared/ports/risk-store.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import { historyBaselines, loanHistory, scoredLoanOn } from '../../../shared/use-cases/loan-history.ts';

const KEY = 'history-test-key';
let dir: string;
let artifacts: FsArtifactStore;

function scored(loanId: string, over: Partial<ScoredLoan> = {}): ScoredLoan {
  return {
    loanId,
    borrowerKey: `00000000000000${loanId.slice(-2)}`,
    product: 'credit_loan',
    region: 'Zhejiang',
    industry: null,
    outstanding: 10_000,
    score: 680,
    grade: 'B',
    pd: 0.021,
    el: 95,
    dpdBucket: '0',
    classification: 'normal',
    stage: '1',
    creditBand: '700-749',
    ruleCodes: [],
    flags: [],
    reasons: [],
    loanPurpose: 'business',
    partnerId: null,
    coLent: false,
    relatedPartyGroup: null,
    reportedClassification: null,
    ...over,
  };
}

/** Writes a date's score file as the buckets do: one sorted file per loan-id bucket, then the manifest. */
async function writeScoreFile(date: string, runId: string, loans: ScoredLoan[], buckets = 1): Promise<void> {
  const sorted = [...loans].sort((a, b) => (a.loanId < b.loanId ? -1 : 1));
  for (let b = 0; b < buckets; b++) {
    const mine = sorted.filter((l) => bucketOfId(l.loanId, buckets) === b);
    await artifacts.put(KEYS.scores(date, runId, b, buckets), await encodeScores(mine, nodeGzip));
  }
  await artifacts.put(
    KEYS.scoresManifest(date),
    JSON.stringify({ runId, buckets, loans: loans.length, format: SCORE_FILE_VERSION }),
  );
}

function run(date: string, status: RunSummary['status'], historyBaseline?: boolean): RunSummary {
  return {
    snapshotDate: date,
    runId: `run-${date}`,
    status,
    trigger: 'schedule',
    startedAt: `${date}T22:00:00.000Z`,
    finishedAt: `${date}T22:05:00.000Z`,
    error: status === 'failed' ? 'no tape' : null,
    inputSha256: null,
    rowsRead: null,
    rowsQuarantined: null,
    loanCount: null,
    ...noTrendFigures(),
    overall: status === 'failed' ? null : 'green',
    findings: null,
    ...(historyBaseline === undefined ? {} : { historyBaseline }),
  };
}

function item(loanId: string, date: string, over: Partial<LoanHistoryItem>): LoanHistoryItem {
  return {
    snapshotDate: date,
    runId: `run-${date}`,
    loanId,
    change: 'changed',
    borrowerRef: 'b_from_item',
    grade: 'C',
    score: 620,
    pd: 0.06,
    dpdBucket: '1-30',
    classification: 'special_mention',
    stage: '1',
    flags: [],
    outstanding: 9_000,
    previousGrade: 'B',
    previousDpdBucket: '0',
    ...over,
  };
}

/** A results store holding these runs and history items (what loanHistory reads of it). */
function storeOf(runs: RunSummary[], items: LoanHistoryItem[]) {
  return {
    listRuns: async (limit: number) =>
      [...runs].sort((a, b) => (a.snapshotDate < b.snapshotDate ? 1 : -1)).slice(0, limit),
    getLoanHistory: async (loanId: string) =>
      items.filter((i) => i.loanId === loanId).sort((a, b) => (a.snapshotDate < b.snapshotDate ? -1 : 1)),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-history-'));
  artifacts = new FsArtifactStore(dir);
  // 2026-11-01 is the book's first night (its baseline); 2026-11-02 and -03 compare with the day before.
  await writeScoreFile('2026-11-01', 'run-2026-11-01', [
    scored('L000000001', { grade: 'B', dpdBucket: '0', outstanding: 12_000 }),
    scored('L000000002', { grade: 'A', score: 740 }),
    scored('L000000003', { grade: 'D', ruleCodes: ['APR_ABOVE_36'], flags: ['THIN_FILE'] }),
  ]);
  await writeScoreFile(
    '2026-11-05',
    'run-2026-11-05',
    Array.from({ length: 40 }, (_, i) => scored(`L0000001${String(i).padStart(2, '0')}`, { grade: 'C' })),
    4,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RUNS = [
  run('2026-11-01', 'ok', true),
  run('2026-11-02', 'partial', false),
  run('2026-11-03', 'ok', false),
];

describe('Function: loanHistory', () => {
  it('starts the history of a loan on the book since the first date at that date, then its changes', async () => {
    // Prepare: L000000001 changed on 2026-11-03 (B -> C, 0 -> 1-30)
    const store = storeOf(RUNS, [item('L000000001', '2026-11-03', {})]);

    // Act
    const history = await loanHistory('L000000001', {
      store,
      artifacts,
      gzip: nodeGzip,
      borrowerRefKey: KEY,
    });

    // Assess
    expect(history.map((h) => [h.snapshotDate, h.change, h.grade, h.dpdBucket])).toEqual([
      ['2026-11-01', 'baseline', 'B', '0'],
      ['2026-11-03', 'changed', 'C', '1-30'],
    ]);
    expect(history[0]).toEqual({
      snapshotDate: '2026-11-01',
      runId: 'run-2026-11-01',
      loanId: 'L000000001',
      change: 'baseline',
      // The borrower is the one of its stored items (the same loan, the same borrower)
      borrowerRef: 'b_from_item',
      grade: 'B',
      score: 680,
      pd: 0.021,
      dpdBucket: '0',
      classification: 'normal',
      stage: '1',
      flags: [],
      outstanding: 12_000,
      previousGrade: null,
      previousDpdBucket: null,
    });
  });

  it('gives a loan that never changed its first day alone, its rule hits and flags with it', async () => {
    const history = await loanHistory('L000000003', {
      store: storeOf(RUNS, []),
      artifacts,
      gzip: nodeGzip,
      borrowerRefKey: KEY,
    });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      snapshotDate: '2026-11-01',
      change: 'baseline',
      grade: 'D',
      flags: ['APR_ABOVE_36', 'THIN_FILE'],
      borrowerRef: borrowerRefFromKey('0000000000000003', KEY),
    });
  });

  it('starts the history of a loan that appeared later with its stored first item, reading no score file', async () => {
    const store = storeOf(RUNS, [item('L000000009', '2026-11-02', { change: 'new', previousGrade: null })]);
    const none = new FsArtifactStore(join(dir, 'nothing-here'));
    const history = await loanHistory('L000000009', {
      store,
      artifacts: none,
      gzip: nodeGzip,
      borrowerRefKey: KEY,
    });
    expect(history.map((h) => [h.snapshotDate, h.change])).toEqual([['2026-11-02', 'new']]);
  });

  it('finds nothing for a loan the book never had', async () => {
    expect(
      await loanHistory('L999999999', {
        store: storeOf(RUNS, []),
        artifacts,
        gzip: nodeGzip,
        borrowerRefKey: KEY,
      }),
    ).toEqual([]);
  });

  it('starts after a failed night at the night that compared with nothing, in the right loan-id bucket', async () => {
    // 2026-11-04 failed, so 2026-11-05 had no score file to compare with: a new baseline in 4 buckets.
    const runs = [
      ...RUNS,
      run('2026-11-04', 'failed'),
      run('2026-11-05', 'ok', true),
      run('2026-11-06', 'ok', false),
    ];
    const store = storeOf(runs, [item('L000000117', '2026-11-06', { grade: 'D', previousGrade: 'C' })]);
    const history = await loanHistory('L000000117', {
      store,
      artifacts,
      gzip: nodeGzip,
      borrowerRefKey: KEY,
    });
    expect(history.map((h) => [h.snapshotDate, h.change, h.grade])).toEqual([
      ['2026-11-05', 'baseline', 'C'],
      ['2026-11-06', 'changed', 'D'],
    ]);
  });
});

describe('Function: historyBaselines', () => {
  it('takes the flag of the run record, and for older records a finished run with no finished run the day before', () => {
    const legacy = [
      run('2026-10-01', 'ok'),
      run('2026-10-02', 'ok'),
      run('2026-10-03', 'failed'),
      run('2026-10-04', 'ok'),
    ];
    expect(historyBaselines(legacy)).toEqual(['2026-10-01', '2026-10-04']);
    expect(historyBaselines([...RUNS, run('2026-11-04', 'failed'), run('2026-11-05', 'ok', true)])).toEqual([
      '2026-11-01',
      '2026-11-05',
    ]);
  });
});

describe('Function: scoredLoanOn', () => {
  it('reads one loan from the bucket file holding it, and null for a loan or date without one', async () => {
    expect((await scoredLoanOn({ artifacts, gzip: nodeGzip }, '2026-11-05', 'L000000139'))?.loanId).toBe(
      'L000000139',
    );
    expect(await scoredLoanOn({ artifacts, gzip: nodeGzip }, '2026-11-05', 'L000000140')).toBeNull();
    expect(await scoredLoanOn({ artifacts, gzip: nodeGzip }, '2026-11-09', 'L000000001')).toBeNull();
  });

  it('refuses a date whose score manifest names no format, in one sentence naming it', async () => {
    // Prepare: a manifest as no release writes it, without the format of its files.
    await artifacts.put(
      KEYS.scoresManifest('2026-11-20'),
      JSON.stringify({ runId: 'r-20', buckets: 1, loans: 1 }),
    );
    // Act and Assess
    await expect(scoredLoanOn({ artifacts, gzip: nodeGzip }, '2026-11-20', 'L000000001')).rejects.toThrow(
      new Error(
        "the date's score manifest has an unexpected shape (runs/2026-11-20/scores.json): at format: Invalid input: expected number, received undefined",
      ),
    );
  });
});
