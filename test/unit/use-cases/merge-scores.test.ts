import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeGzip } from '../../../shared/adapters/gzip.ts';
import { createLocalDeps } from '../../../shared/adapters/local-deps.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../../../shared/config.ts';
import { decodeScores, encodeScores, type ScoredLoan } from '../../../shared/domain/store/score-file.ts';
import type { LogFields, Logger } from '../../../shared/ports/logger.ts';
import type { LoanChange } from '../../../shared/ports/risk-store.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import type { AuditDeps } from '../../../shared/use-cases/deps.ts';
import type { BucketContext } from '../../../shared/use-cases/merge-audit.ts';
import { mergeScoreBucket } from '../../../shared/use-cases/merge-scores.ts';
import type { BucketSpec } from '../../../shared/use-cases/workflow-types.ts';

const loan = (loanId: string, over: Partial<ScoredLoan> = {}): ScoredLoan => ({
  loanId,
  borrowerKey: '00ff00ff00ff00ff',
  product: 'credit_loan',
  region: 'Zhejiang',
  industry: null,
  loanPurpose: 'consumption',
  partnerId: null,
  coLent: false,
  relatedPartyGroup: null,
  reportedClassification: null,
  outstanding: 1000,
  score: 650,
  grade: 'B',
  pd: 0.02,
  el: 9,
  dpdBucket: '0',
  classification: 'normal',
  stage: '1',
  creditBand: '700-749',
  ruleCodes: [],
  flags: [],
  reasons: [],
  ...over,
});

let root: string;
let deps: AuditDeps;

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields | undefined;
}

/** A Logger port that keeps what it is given. */
function recordingLogger(lines: LogLine[]): Logger {
  return {
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'risk-audit-merge-scores-'));
  deps = createLocalDeps({
    root,
    tapes: {},
    config: RuntimeConfigSchema.parse({
      BUCKET_NAME: 'local',
      TABLE_NAME: 'local',
      REPORT_RECIPIENTS: '',
    }),
    secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const date = '2026-11-25';
const previousDate = '2026-11-24';
const spec = (previousScores: BucketSpec['previousScores']): BucketSpec => ({
  runId: 'r2',
  snapshotDate: date,
  previousSnapshotDate: previousDate,
  bucket: 0,
  buckets: 1,
  shards: 2,
  previousScores,
  contextKey: KEYS.bucketContext(date, 'r2'),
});

async function putShards(): Promise<void> {
  const context: BucketContext = {
    borrowerHits: [],
    partnerHits: [],
    coLentHits: [],
    breachCodes: [],
  };
  await deps.artifacts.put(KEYS.bucketContext(date, 'r2'), JSON.stringify(context), 'application/json');
  // Shard 0 has L1 (now 45 days late) and L3; shard 1 has L4, new today.
  const shard0 = [loan('L1', { dpdBucket: '31-60', grade: 'D' }), loan('L3')];
  await deps.artifacts.put(
    KEYS.partialScores(date, 'r2', 0, 0),
    await encodeScores(shard0, nodeGzip),
    'application/gzip',
  );
  await deps.artifacts.put(
    KEYS.partialScores(date, 'r2', 1, 0),
    await encodeScores([loan('L4')], nodeGzip),
    'application/gzip',
  );
}

async function changesWritten(): Promise<LoanChange[]> {
  return JSON.parse(
    await readFile(join(root, 'store', 'history', date, 'r2', '0.json'), 'utf8'),
  ) as LoanChange[];
}

describe('Function: mergeScoreBucket', () => {
  it('joins with a previous date in the binary score file', async () => {
    // Prepare
    await putShards();
    await deps.artifacts.put(
      KEYS.scores(previousDate, 'r1', 0, 1),
      await encodeScores([loan('L1'), loan('L3', { grade: 'C' })], nodeGzip),
      'application/gzip',
    );
    // Act
    const result = await mergeScoreBucket(spec({ runId: 'r1', buckets: 1 }), deps);
    // Assess: L1 changed (late now), L3 changed (C yesterday), L4 new; the date's file holds today's loans.
    expect(result).toMatchObject({ loans: 3, changes: 3 });
    expect((await changesWritten()).map((c) => [c.loanId, c.change]).sort()).toEqual([
      ['L1', 'changed'],
      ['L3', 'changed'],
      ['L4', 'new'],
    ]);
    const today = decodeScores((await deps.artifacts.get(KEYS.scores(date, 'r2', 0, 1)))!, nodeGzip);
    expect(today.map((s) => `${s.loanId}:${s.grade}`)).toEqual(['L1:D', 'L3:B', 'L4:B']);
  });

  it('logs the merged bucket through the logger port: counts and keys, no loan or borrower id', async () => {
    // Prepare: L1 and L3 yesterday, L1 late and L4 new today.
    await putShards();
    await deps.artifacts.put(
      KEYS.scores(previousDate, 'r1', 0, 1),
      await encodeScores([loan('L1'), loan('L3', { grade: 'C' })], nodeGzip),
      'application/gzip',
    );
    const lines: LogLine[] = [];

    // Act
    await mergeScoreBucket(spec({ runId: 'r1', buckets: 1 }), { ...deps, logger: recordingLogger(lines) });

    // Assess: one line, three loans today, three changes (L1 and L3 changed, L4 new).
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'bucket merged',
        fields: {
          snapshotDate: date,
          runId: 'r2',
          bucket: 0,
          buckets: 1,
          loans: 3,
          loanChanges: 3,
          timings: expect.any(Object),
        },
      },
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toMatch(/"L[1-4]"/);
    expect(logged).not.toContain('00ff00ff00ff00ff');
  });

  it('counts drift from its join when asked: every previous loan once, and each loan on both dates as a transition', async () => {
    // Prepare: yesterday L1 (current, 600-649, credit loan), L2 (12 days late, no score,
    // order financing: closed since) and L3 (current, 700-749, consumer credit); today L1 is
    // 31-60 days late, L3 current, L4 new.
    await putShards();
    await deps.artifacts.put(
      KEYS.scores(previousDate, 'r1', 0, 1),
      await encodeScores(
        [
          loan('L1', { creditBand: '600-649' }),
          loan('L2', { dpdBucket: '1-30', creditBand: 'missing', product: 'order_financing' }),
          loan('L3', { product: 'consumer_credit' }),
        ],
        nodeGzip,
      ),
      'application/gzip',
    );

    // Act
    await mergeScoreBucket({ ...spec({ runId: 'r1', buckets: 1 }), drift: true }, deps);
    const outcome = JSON.parse(
      Buffer.from((await deps.artifacts.get(KEYS.bucketResult(date, 'r2', 0)))!).toString('utf8'),
    );

    // Assess: three previous loans (two current, one 1-30); bands missing, 600-649, 700-749;
    // one of each product; L1 went 0 -> 31-60 (index 0*7+2), L3 stayed 0 -> 0 (index 0).
    const transitions = new Array(49).fill(0);
    transitions[2] = 1;
    transitions[0] = 1;
    expect(outcome.drift).toEqual({
      validCount: 3,
      dpdCounts: [2, 1, 0, 0, 0, 0, 0],
      creditBandCounts: [1, 0, 0, 1, 0, 1, 0],
      productCounts: [1, 1, 1],
      transitions,
      matched: 2,
    });
  });

  it('counts no drift unless asked, and refuses to count it with no previous score files', async () => {
    await putShards();
    await mergeScoreBucket(spec(null), deps);
    const outcome = JSON.parse(
      Buffer.from((await deps.artifacts.get(KEYS.bucketResult(date, 'r2', 0)))!).toString('utf8'),
    );
    expect(outcome.drift).toBeNull();
    await expect(mergeScoreBucket({ ...spec(null), drift: true }, deps)).rejects.toThrow(
      `the bucket counts drift but the previous date ${previousDate} has no score files`,
    );
  });

  it('fails in one sentence naming a shard file written in another version of the format', async () => {
    await putShards();
    const bytes = Buffer.from(
      (await import('node:zlib')).gunzipSync(
        (await deps.artifacts.get(KEYS.partialScores(date, 'r2', 1, 0)))!,
      ),
    );
    bytes.writeUInt16LE(9, 8);
    await deps.artifacts.put(KEYS.partialScores(date, 'r2', 1, 0), gzipSync(bytes), 'application/gzip');
    await expect(mergeScoreBucket(spec(null), deps)).rejects.toThrow(
      `the scores of a shard ${KEYS.partialScores(date, 'r2', 1, 0)} is written in version 9 of the score file format, and this release reads version 2 only`,
    );
  });
});
