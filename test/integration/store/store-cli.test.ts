import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDocumentClient,
  createDynamoClient,
  createS3Client,
} from '../../../shared/adapters/aws-clients.ts';
import { DynamoRiskStore } from '../../../shared/adapters/dynamo-risk-store.ts';
import { nodeGzip } from '../../../shared/adapters/gzip.ts';
import { S3ArtifactStore } from '../../../shared/adapters/s3-artifact-store.ts';
import { registerHistory } from '../../../shared/cli/commands/history.ts';
import { registerRuns } from '../../../shared/cli/commands/runs.ts';
import { registerWatchlist } from '../../../shared/cli/commands/watchlist.ts';
import { noTrendFigures } from '../../../shared/domain/report/trend.ts';
import {
  encodeScores,
  SCORE_FILE_VERSION,
  type ScoredLoan,
} from '../../../shared/domain/store/score-file.ts';
import { startLocalStack } from '../../../shared/local/local-stack.ts';
import type { RunSummary } from '../../../shared/ports/risk-store.ts';
import { KEYS } from '../../../shared/schema/tables.ts';

let stateDir = '';

function run(date: string, status: RunSummary['status']): RunSummary {
  return {
    snapshotDate: date,
    runId: `run-${date}`,
    status,
    trigger: 'schedule',
    startedAt: `${date}T22:00:00.000Z`,
    finishedAt: `${date}T22:00:30.000Z`,
    error: status === 'failed' ? `no tape landed for ${date}` : null,
    inputSha256: null,
    rowsRead: 1_000,
    rowsQuarantined: 2,
    loanCount: 998,
    ...noTrendFigures(),
    totalOutstanding: 5_000_000,
    nplRatio: 0.025,
    expectedLoss: 40_000,
    overall: 'green',
    loansInBreach: 1,
    rulesBreached: 1,
    findings: 2,
  };
}

async function cli(...argv: string[]): Promise<string> {
  const program = new Command('risk-audit').exitOverride();
  registerRuns(program);
  registerHistory(program);
  registerWatchlist(program);
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync([...argv, '--state', stateDir], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

beforeAll(async () => {
  // A state folder with history, as earlier local runs would have left it.
  stateDir = await mkdtemp(join(tmpdir(), 'risk-audit-cli-'));
  const stack = await startLocalStack({ stateDir, quiet: true });
  const ddb = createDynamoClient(stack.env);
  const doc = createDocumentClient(ddb);
  const store = new DynamoRiskStore(doc, stack.env.TABLE_NAME!);
  // 2026-03-30 was the book's first night: its score file is where L77's history starts.
  await store.recordRun({ ...run('2026-03-30', 'ok'), historyBaseline: true });
  await store.recordRun({ ...run('2026-03-31', 'ok'), historyBaseline: false });
  await store.recordRun(run('2026-04-01', 'ok'));
  const artifacts = new S3ArtifactStore(createS3Client(stack.env), stack.env.BUCKET_NAME!);
  const first = {
    loanId: 'L77',
    borrowerKey: '0123456789abcdef',
    product: 'credit_loan',
    region: null,
    industry: null,
    outstanding: 8_000,
    score: 700,
    grade: 'A',
    pd: 0.012,
    el: 40,
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
  } satisfies ScoredLoan;
  await artifacts.put(
    KEYS.scores('2026-03-30', 'r-30', 0, 1),
    await encodeScores([first], nodeGzip),
    'application/gzip',
  );
  await artifacts.put(
    KEYS.scoresManifest('2026-03-30'),
    JSON.stringify({ runId: 'r-30', buckets: 1, loans: 1, format: SCORE_FILE_VERSION }),
    'application/json',
  );
  await store.recordRun(run('2026-04-02', 'failed'));
  const change = {
    loanId: 'L42',
    borrowerRef: 'b_00ff',
    score: 600,
    pd: 0.1,
    classification: 'normal',
    stage: '1',
    flags: [],
    outstanding: 1_000,
    previousGrade: null,
    previousDpdBucket: null,
  };
  await store.writeLoanChanges('2026-03-31', 'r0', 0, [
    { ...change, change: 'new', grade: 'B', dpdBucket: '0' },
  ]);
  await store.writeLoanChanges('2026-04-01', 'r1', 0, [
    {
      ...change,
      loanId: 'L77',
      borrowerRef: 'b_77',
      change: 'changed',
      grade: 'C',
      dpdBucket: '1-30',
      previousGrade: 'A',
      previousDpdBucket: '0',
    },
    {
      ...change,
      change: 'changed',
      grade: 'D',
      dpdBucket: '1-30',
      previousGrade: 'B',
      previousDpdBucket: '0',
    },
  ]);
  await store.replaceWatchlist('2026-04-01', 'r1', [
    {
      rank: 1,
      loanId: 'L42',
      borrowerRef: 'b_00ff',
      grade: 'D',
      score: 520,
      pd: 0.25,
      el: 112.5,
      dpdBucket: '1-30',
      classification: 'special_mention',
      outstanding: 1_000,
      product: 'credit_loan',
      region: null,
      industry: null,
      flags: ['APR_ABOVE_24'],
      reasons: ['DPD_1_30'],
    },
  ]);
  doc.destroy();
  ddb.destroy();
  await stack.stop();
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('Command: risk-audit runs / history / watchlist', () => {
  it('lists the runs kept in the state folder, newest first', async () => {
    const out = await cli('runs');
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^date\s+status\s+overall/);
    expect(lines[2]).toMatch(/^2026-04-02\s+failed/);
    expect(lines[2]).toContain('run-2026-04-02: no tape landed for 2026-04-02');
    expect(lines[3]).toMatch(/^2026-04-01\s+ok\s+green\s+998\s+5,000,000\s+2\.50%/);
  });

  it('prints JSON for machines', async () => {
    const runs = JSON.parse(await cli('runs', '--last', '1', '--json')) as RunSummary[];
    expect(runs).toEqual([run('2026-04-02', 'failed')]);
  });

  it("shows how a loan's risk state moved", async () => {
    const out = await cli('history', '--loan', 'L42');
    expect(out).toContain('Loan L42 (borrower b_00ff)');
    expect(out).toMatch(/2026-03-31\s+new\s+B\s+0\s+normal/);
    expect(out).toMatch(/2026-04-01\s+changed\s+B->D\s+0->1-30/);
  });

  it("starts the history of a loan on the book since the first night at that night's state", async () => {
    const out = await cli('history', '--loan', 'L77');
    expect(out).toContain('Loan L77 (borrower b_77)');
    const rows = out.trim().split('\n').slice(3);
    expect(rows[0]).toMatch(/^2026-03-30\s+first day\s+A\s+0\s+normal\s+1\.2%\s+8,000/);
    expect(rows[1]).toMatch(/^2026-04-01\s+changed\s+A->C\s+0->1-30/);
  });

  it('shows the watchlist of the latest completed run by default', async () => {
    const out = await cli('watchlist');
    expect(out).toContain('Watchlist 2026-04-01 (top 1)');
    expect(out).toMatch(/\s+1\s+L42\s+D\s+520\s+25\.0%\s+1-30/);
  });

  it('says so when there is nothing to show', async () => {
    expect(await cli('history', '--loan', 'NOPE')).toBe(
      `No history for loan NOPE in local state ${stateDir}.\n`,
    );
    expect(await cli('watchlist', '--date', '2026-01-01')).toBe(
      `No watchlist for 2026-01-01 in local state ${stateDir}.\n`,
    );
  });

  it('refuses a malformed date with one sentence', async () => {
    await expect(cli('watchlist', '--date', '01/04/2026')).rejects.toThrow(
      '--date must be a date like 2026-01-31, got 01/04/2026',
    );
  });
});
