import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { ensureTables } from '../../../shared/adapters/dynamo-tables.ts';
import { nodeGzip } from '../../../shared/adapters/gzip.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { requestShards } from '../../../shared/cli/local-pipeline.ts';
import type { LocalRunOptions, LocalRunResult } from '../../../shared/cli/local-runner.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { bucketOfId } from '../../../shared/domain/store/score-buckets.ts';
import { decodeScores } from '../../../shared/domain/store/score-file.ts';
import { clearLocalEmails, fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import { KEYS, RISK_TABLE } from '../../../shared/schema/tables.ts';
import { dateScoreKeys } from '../../../shared/use-cases/merge-audit.ts';
import { tapeBytesEstimate } from '../../../shared/use-cases/prepare-run.ts';
import { pipelineSuite } from './suite.ts';

// The local runner's map step on worker threads, as `risk-audit run --shards` and `demo --shards`
// use it: the same audit as one shard in-process, and the same failure path.

const TABLE = 'risk-audit-worker-map-test';
const { endpoints, clients, artifacts, store, putFile, itemsOf } = pipelineSuite(TABLE);
const D1 = '2026-08-01';
const D2 = '2026-08-02';
const D3 = '2026-08-03';

let dir: string;
let day2Bytes: number;

async function text(key: string): Promise<string> {
  return Buffer.from((await artifacts.get(key))!).toString('utf8');
}

/**
 * Runs a date with the handlers imported afresh, so the prepare step reads this SHARD_BYTES (and
 * SCORE_BUCKET_BYTES) at its cold start (as the CLI sets it before the first run); undefined is
 * the default (128 MiB; 1 GiB).
 */
async function runDate(
  date: string,
  shardBytes: number | undefined,
  options: LocalRunOptions = {},
  bucketBytes?: number,
): Promise<{ result: LocalRunResult; score: string }> {
  if (shardBytes === undefined) delete process.env.SHARD_BYTES;
  else process.env.SHARD_BYTES = String(shardBytes);
  if (bucketBytes === undefined) delete process.env.SCORE_BUCKET_BYTES;
  else process.env.SCORE_BUCKET_BYTES = String(bucketBytes);
  vi.resetModules();
  const { runWorkflowLocally } = await import('../../../shared/cli/local-runner.ts');
  let score = '';
  const result = await runWorkflowLocally(
    { snapshotDate: date, trigger: 'local' },
    {
      sendReport: false,
      ...options,
      onStep: (step, detail) => {
        if (step === 'ScoreShards') score = detail ?? '';
      },
    },
  );
  return { result, score };
}

/**
 * What a run of a date leaves that must not depend on its loan-id buckets: audit.json, the score
 * file's loans in id order, the history items, the watchlist and the breach index (run ids and
 * the history manifests, which name the run and bucket, left out).
 */
async function outputsOf(date: string) {
  const loans = [];
  for (const key of await dateScoreKeys(artifacts, date))
    loans.push(...decodeScores((await artifacts.get(key))!, nodeGzip));
  loans.sort((a, b) => (a.loanId < b.loanId ? -1 : 1));
  const items = await itemsOf(date);
  const history = new Map([...items].filter(([k]) => k.startsWith('LOAN#')));
  const lists = [...items].filter(([k]) => k.startsWith('WL#') || k.startsWith('BR#'));
  return {
    audit: await text(KEYS.audit(date)),
    loans,
    history,
    lists,
    watchlist: await store.getWatchlist(date, 100_000),
  };
}

beforeAll(async () => {
  await ensureTables(clients.dynamodb, [{ ...RISK_TABLE, localName: TABLE }]);
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-worker-map-'));
  const day1: Loan[] = [...generateBook({ loans: 20_000, date: D1, seed: 11 })];
  await writeTape(join(dir, 'd1.csv.gz'), day1);
  // Bad rows too: quarantine must not depend on where the shard boundaries fall.
  await writeTape(join(dir, 'd2.csv'), rollForward(day1, { date: D2, seed: 11, badRows: 9 }));
  day2Bytes = (await stat(join(dir, 'd2.csv'))).size;
  await putFile(`${KEYS.tapePrefix(D1)}loans.csv.gz`, await readFile(join(dir, 'd1.csv.gz')));
  await putFile(`${KEYS.tapePrefix(D2)}loans.csv`, await readFile(join(dir, 'd2.csv')));
  // The baseline day, so the shards of day 2 also read the previous tape's drift index.
  expect((await runDate(D1, undefined)).result.ok).toBe(true);
});

afterAll(async () => {
  delete process.env.SHARD_BYTES;
  delete process.env.SCORE_BUCKET_BYTES;
  destroyAwsClients(clients);
  await rm(dir, { recursive: true, force: true });
});

describe('Local runner: the map step on worker threads', () => {
  it('writes the same audit.json and quarantine with one shard in-process as with four shards on two threads', async () => {
    const one = await runDate(D2, undefined);
    expect(one.result.ok).toBe(true);
    expect(one.score).toBe('1 item(s)');
    const audit1 = await text(KEYS.audit(D2));
    const quarantine1 = await text(KEYS.quarantine(D2));

    // What `--shards 4` asks for: 4 byte ranges of at least 1 MiB (this tape is over 3 MiB).
    const four = await runDate(D2, requestShards(day2Bytes, 4), { workers: 2 });
    expect(four.result.ok).toBe(true);
    if (!four.result.ok) return;
    // One part in four shards: four byte ranges of it.
    expect(four.result.plan).toMatchObject({ partCount: 1, shardCount: 4 });
    expect(four.score).toBe('4 item(s) on 2 worker thread(s)');

    // audit.json holds no run id or timestamps (the run record does): the two are byte-identical.
    const audit4 = await text(KEYS.audit(D2));
    expect(JSON.parse(audit4)).toMatchObject({ status: 'partial', input: { rowsQuarantined: 9 } });
    expect(audit4).toBe(audit1);
    expect(await text(KEYS.quarantine(D2))).toBe(quarantine1);
    expect(await store.getRun(D2)).toMatchObject({ status: 'partial', runId: four.result.plan.runId });
  });

  it('gives the same audit, score file, history, watchlist and breaches with the loans in loan-id buckets, whatever the previous date used', async () => {
    // What one bucket gives (the previous date, D1, in one bucket too).
    const one = await runDate(D2, requestShards(day2Bytes, 2), { workers: 2 });
    expect(one.result.ok && one.result.plan.scoreBuckets).toBe(1);
    const expected = await outputsOf(D2);
    expect(expected.history.size).toBeGreaterThan(100);
    expect(expected.watchlist.length).toBeGreaterThan(100);

    // Four buckets of about 1 MiB of tape (this tape is over 3 MiB), D1's file in one: each bucket
    // reads D1's one file and keeps its own loans.
    const bucketBytes = Math.ceil(day2Bytes / 4);
    const four = await runDate(D2, requestShards(day2Bytes, 2), { workers: 2 }, bucketBytes);
    expect(four.result.ok && four.result.plan.scoreBuckets).toBe(4);
    expect(await outputsOf(D2)).toEqual(expected);
    const files = await dateScoreKeys(artifacts, D2);
    expect(files).toHaveLength(4);
    for (const [b, key] of files.entries()) {
      const ids = decodeScores((await artifacts.get(key))!, nodeGzip).map((s) => s.loanId);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual([...ids].sort());
      expect(ids.every((id) => bucketOfId(id, 4) === b)).toBe(true);
    }
    // The replaced run's files are gone: only the manifest's run has files of the date.
    expect(
      await artifacts.deletePrefix(
        `${KEYS.runPrefix(D2)}scores/${one.result.ok ? one.result.plan.runId : ''}/`,
      ),
    ).toBe(0);

    // D1 again in eight buckets (more than D2 will use): each of D2's two buckets merges four of D1's.
    const tapeOne = tapeBytesEstimate({ key: 'd1.csv.gz', bytes: (await stat(join(dir, 'd1.csv.gz'))).size });
    const d1 = await runDate(D1, undefined, {}, Math.ceil(tapeOne / 8));
    expect(d1.result.ok && d1.result.plan.scoreBuckets).toBe(8);
    const two = await runDate(D2, undefined, { workers: 2 }, Math.ceil(day2Bytes / 2));
    expect(two.result.ok && two.result.plan.scoreBuckets).toBe(2);
    expect(await outputsOf(D2)).toEqual(expected);
  });

  it('gives the one-shard audit, quarantine, score file and watchlist in four shards and two buckets when loan ids repeat across shards', async () => {
    // Prepare: a book with its first 20 loans again at the end (over 4 MiB, so four shards of at
    // least 1 MiB): the copies land in the last shard, their first rows in the first.
    const D4 = '2026-08-04';
    const book: Loan[] = [...generateBook({ loans: 26_000, date: D4, seed: 13 })];
    await writeTape(join(dir, 'd4.csv'), [...book, ...book.slice(0, 20)]);
    const bytes = (await stat(join(dir, 'd4.csv'))).size;
    await putFile(`${KEYS.tapePrefix(D4)}loans.csv`, await readFile(join(dir, 'd4.csv')));

    // Act: one shard in-process, one bucket; then four shards on two threads and two buckets.
    const one = await runDate(D4, undefined);
    const expected = { ...(await outputsOf(D4)), quarantine: await text(KEYS.quarantine(D4)) };
    const four = await runDate(D4, requestShards(bytes, 4), { workers: 2 }, Math.ceil(bytes / 2));

    // Assess: one pass quarantines the 20 copies; four shards give the same, and only the shard
    // holding the copies was scored again (the map's last pass had one item).
    expect(one.result.ok).toBe(true);
    expect(JSON.parse(expected.audit)).toMatchObject({
      portfolio: { loanCount: 26_000 },
      input: { quarantineByCode: { DUPLICATE_LOAN_ID: 20 } },
    });
    // The plan as the run ended: its second pass over one of the four shards, two buckets.
    expect(four.result.ok && four.result.plan).toMatchObject({
      shardCount: 1,
      scoreBuckets: 2,
      settling: { shards: 4 },
    });
    expect(four.score).toBe('1 item(s) on 1 worker thread(s)');
    expect({ ...(await outputsOf(D4)), quarantine: await text(KEYS.quarantine(D4)) }).toEqual(expected);
  });

  it('counts drift in the loan-id buckets as one shard counts it from the index: the same audit.json, with repeats across shards on both days', async () => {
    // Prepare: two days of one book, each with its first 20 rows again at the end (so the copies
    // land in the last of four shards), day 6 with bad rows too.
    const D5 = '2026-08-05';
    const D6 = '2026-08-06';
    const day5: Loan[] = [...generateBook({ loans: 26_000, date: D5, seed: 17 })];
    const day6: Loan[] = [...rollForward(day5, { date: D6, seed: 17, badRows: 5 })];
    await writeTape(join(dir, 'd5.csv'), [...day5, ...day5.slice(0, 20)]);
    await writeTape(join(dir, 'd6.csv'), [...day6, ...day6.slice(0, 20)]);
    const bytes5 = (await stat(join(dir, 'd5.csv'))).size;
    const bytes6 = (await stat(join(dir, 'd6.csv'))).size;
    await putFile(`${KEYS.tapePrefix(D5)}loans.csv`, await readFile(join(dir, 'd5.csv')));
    await putFile(`${KEYS.tapePrefix(D6)}loans.csv`, await readFile(join(dir, 'd6.csv')));
    // Day 5 in four shards and two buckets: its index and score files are one run's.
    expect(
      (await runDate(D5, requestShards(bytes5, 4), { workers: 2 }, Math.ceil(bytes5 / 2))).result.ok,
    ).toBe(true);

    // Act: day 6 in four shards and two buckets (drift from the buckets' join); then, with day
    // 5's index description naming no run, in one shard and one bucket (drift from the index).
    const buckets = await runDate(D6, requestShards(bytes6, 4), { workers: 2 }, Math.ceil(bytes6 / 2));
    const fromBuckets = { audit: await text(KEYS.audit(D6)), quarantine: await text(KEYS.quarantine(D6)) };
    const info = (await artifacts.get(KEYS.carriedIndexInfo(D5)))!;
    const { runId: _run, ...noRun } = JSON.parse(Buffer.from(info).toString('utf8'));
    await artifacts.put(KEYS.carriedIndexInfo(D5), JSON.stringify(noRun), 'application/json');
    const index = await runDate(D6, undefined);
    await artifacts.put(KEYS.carriedIndexInfo(D5), info, 'application/json');

    // Assess: the first run's buckets counted drift against day 5's 26,000 loans (its 20 copies
    // quarantined), the second's shard read the index; audit.json and quarantine are byte-identical.
    expect(buckets.result.ok && buckets.result.plan).toMatchObject({
      scoreBuckets: 2,
      settling: { shards: 4 },
      driftFromScores: { loans: 26_000, buckets: 2 },
    });
    expect(index.result.ok && index.result.plan.driftFromScores).toBeUndefined();
    const audit = JSON.parse(fromBuckets.audit);
    expect(audit.previousSnapshotDate).toBe(D5);
    // 20 copies, and day 6's own bad row of the kind 'duplicate' (the generator's first kind).
    const seen = new Set<string>();
    const repeats = [...day6, ...day6.slice(0, 20)].filter((l) => seen.size === seen.add(l.loanId).size);
    expect(repeats.length).toBe(21);
    expect(audit.input.quarantineByCode.DUPLICATE_LOAN_ID).toBe(21);
    expect(audit.drift.newLoans).toBeGreaterThan(0);
    expect(Object.keys(audit.drift.rollRates).length).toBeGreaterThan(2);
    expect(await text(KEYS.audit(D6))).toBe(fromBuckets.audit);
    expect(await text(KEYS.quarantine(D6))).toBe(fromBuckets.quarantine);
  });

  it('fails the run with the shard’s sentence and the notice when a shard fails on a worker thread', async () => {
    const book: Loan[] = [...generateBook({ loans: 2000, date: D3, seed: 12 })];
    await writeTape(join(dir, 'd3-a.csv'), book.slice(0, 1000));
    await writeTape(join(dir, 'd3-b.csv'), book.slice(1000));
    await putFile(`${KEYS.tapePrefix(D3)}part-1.csv`, await readFile(join(dir, 'd3-a.csv')));
    const good = gzipSync(await readFile(join(dir, 'd3-b.csv')));
    await putFile(`${KEYS.tapePrefix(D3)}part-2.csv.gz`, good.subarray(0, Math.floor(good.length / 2)));
    await clearLocalEmails({ endpoints });

    const inProcess = await runDate(D3, undefined, { workers: 0 });
    const onThreads = await runDate(D3, undefined);

    expect(inProcess.result.ok).toBe(false);
    expect(onThreads.result.ok).toBe(false);
    if (inProcess.result.ok || onThreads.result.ok) return;
    expect(onThreads.score).toBe('2 item(s) on 2 worker thread(s)');
    expect(onThreads.result.reason).toMatch(/part-2\.csv\.gz/);
    // The worker's sentence reaches the failure step unchanged: the same as in-process.
    expect(onThreads.result.reason).toBe(inProcess.result.reason);
    expect(JSON.parse(await text(KEYS.audit(D3)))).toMatchObject({
      status: 'failed',
      snapshotDate: D3,
      error: onThreads.result.reason,
    });
    expect(await store.getRun(D3)).toMatchObject({ status: 'failed', error: onThreads.result.reason });
    const notices = await fetchLocalEmails({ endpoints });
    expect(notices).toHaveLength(2);
    for (const notice of notices) expect(notice.subject).toContain(`[FAILED] Risk audit ${D3}`);
  });
});
