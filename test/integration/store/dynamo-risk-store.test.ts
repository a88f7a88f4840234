import { readFileSync } from 'node:fs';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  diffRiskStates,
  type LoanRiskState,
  riskStateChanged,
  toLoanChange,
  toLoanRiskState,
} from '../../../bench/store-model.ts';
import { createDocumentClient, createDynamoClient } from '../../../shared/adapters/aws-clients.ts';
import { DynamoRiskStore } from '../../../shared/adapters/dynamo-risk-store.ts';
import { createLoanAssessor } from '../../../shared/domain/engine/scorecard.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { defaultPolicyPaths, parsePolicy } from '../../../shared/domain/policy/policy.ts';
import { policyInForce } from '../../../shared/domain/policy/resolve.ts';
import { RunInProgressError } from '../../../shared/errors.ts';
import type {
  BreachEntry,
  LoanChange,
  RunSummary,
  WatchlistEntry,
} from '../../../shared/ports/risk-store.ts';

const env = inject('awsEnv');
const table = env.TABLE_NAME!;
const ddb = createDynamoClient(env);
const doc = createDocumentClient(ddb);
const NOW = new Date('2026-02-01T06:00:00Z');
const store = new DynamoRiskStore(doc, table, { now: () => NOW, detailRetentionDays: 30 });

afterAll(() => {
  doc.destroy();
  ddb.destroy();
});

function state(loanId: string, over: Partial<LoanRiskState> = {}): LoanRiskState {
  return {
    loanId,
    borrowerRef: `ref-${loanId}`,
    grade: 'B',
    score: 680,
    pd: 0.03,
    dpdBucket: '0',
    classification: 'normal',
    flags: [],
    outstanding: 5_000,
    ...over,
  };
}

function watch(rank: number, loanId: string): WatchlistEntry {
  return {
    rank,
    loanId,
    borrowerRef: `ref-${loanId}`,
    grade: 'E',
    score: 480 + rank,
    pd: 0.5 - rank / 100,
    el: 100 - rank,
    dpdBucket: '91-180',
    classification: 'substandard',
    outstanding: 10_000 - rank,
    product: 'credit_loan',
    region: 'Zhejiang',
    industry: null,
    flags: ['APR_ABOVE_36'],
    reasons: ['DPD_91_PLUS'],
  };
}

function summary(date: string, runId: string, status: RunSummary['status']): RunSummary {
  return {
    snapshotDate: date,
    runId,
    status,
    trigger: 'test',
    startedAt: `${date}T22:00:00.000Z`,
    finishedAt: status === 'running' ? null : `${date}T22:03:00.000Z`,
    error: status === 'failed' ? 'tape runs/x.csv cannot be read' : null,
    inputSha256: 'ab'.repeat(32),
    rowsRead: 10,
    rowsQuarantined: 1,
    loanCount: 9,
    totalOutstanding: 45_000,
    nplRatio: 0.1,
    pastDue30Share: 0.2,
    expectedLoss: 321.5,
    overall: 'amber',
    loansInBreach: 2,
    rulesBreached: 1,
    largestPsi: 0.03,
    quarantineRate: 0.1,
    findings: 3,
    historyBaseline: false,
  };
}

/** Every item of the table that belongs to a date, without the run id (a re-run has a new one). */
async function itemsOf(date: string): Promise<string[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'snapshotDate = :d',
        ExpressionAttributeValues: { ':d': date },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return (
    items
      // The run id appears in the manifest's sort key too: a re-run's manifest replaces the earlier one.
      .map(({ runId: _r, ...rest }) =>
        JSON.stringify(Object.fromEntries(Object.entries(rest).sort())).replace(/CHG#[^#]+#/, 'CHG#<run>#'),
      )
      .sort()
  );
}

/** A date's history in one part, then the retire of earlier runs' items: a one-bucket run. */
async function writeHistory(date: string, runId: string, changes: readonly LoanChange[]): Promise<void> {
  await store.writeLoanChanges(date, runId, 0, changes);
  await store.retireLoanChanges(date, runId);
}

async function writeDate(
  date: string,
  runId: string,
  changes: LoanChange[],
  watchlist: WatchlistEntry[],
  breaches: BreachEntry[],
): Promise<void> {
  await store.acquireLease(date, runId, 600);
  await store.recordRun(summary(date, runId, 'running'));
  await writeHistory(date, runId, changes);
  await store.replaceWatchlist(date, runId, watchlist);
  await store.replaceBreaches(date, runId, breaches);
  await store.recordRun(summary(date, runId, 'ok'));
  await store.releaseLease(date, runId);
}

describe('Class: DynamoRiskStore', () => {
  it('leaves the item set of a date identical when the date is re-run', async () => {
    // Prepare
    const date = '2026-01-10';
    const changes = diffRiskStates([], [state('A1'), state('A2', { grade: 'D' }), state('A3')]).map(
      toLoanChange,
    );
    const watchlist = [watch(1, 'A2'), watch(2, 'A3')];
    const breaches: BreachEntry[] = [
      { ruleCode: 'APR_ABOVE_36', loanId: 'A2', borrowerRef: 'ref-A2', grade: 'D', outstanding: 5_000 },
    ];
    await writeDate(date, 'run-1', changes, watchlist, breaches);
    const first = await itemsOf(date);
    // Act
    await writeDate(date, 'run-2', changes, watchlist, breaches);
    const second = await itemsOf(date);
    // Assess: 3 history items, their manifest, 1 watchlist chunk, 1 breach chunk, 1 run record
    // (the lease is gone).
    expect(first).toHaveLength(7);
    expect(second).toEqual(first);
    const history = await store.getLoanHistory('A2');
    expect(history.map((h) => `${h.snapshotDate}:${h.runId}:${h.change}:${h.grade}`)).toEqual([
      '2026-01-10:run-2:new:D',
    ]);
  });

  it('removes the items an earlier run of the date wrote that a correction no longer produces', async () => {
    // Prepare
    const date = '2026-01-11';
    await writeDate(
      date,
      'run-1',
      diffRiskStates([], [state('B1'), state('B2'), state('B3')]).map(toLoanChange),
      [watch(1, 'B1'), watch(2, 'B2'), watch(3, 'B3')],
      [
        { ruleCode: 'MINOR_BORROWER', loanId: 'B1', borrowerRef: 'ref-B1', grade: 'B', outstanding: 10 },
        { ruleCode: 'MINOR_BORROWER', loanId: 'B2', borrowerRef: 'ref-B2', grade: 'B', outstanding: 20 },
      ],
    );
    // Act: the corrected tape drops B3
    const written = await store.writeLoanChanges(
      date,
      'run-2',
      0,
      diffRiskStates([], [state('B1'), state('B2')]).map(toLoanChange),
    );
    const retired = await store.retireLoanChanges(date, 'run-2');
    await store.replaceWatchlist(date, 'run-2', [watch(1, 'B2')]);
    const breachReport = await store.replaceBreaches(date, 'run-2', [
      { ruleCode: 'MINOR_BORROWER', loanId: 'B2', borrowerRef: 'ref-B2', grade: 'B', outstanding: 20 },
    ]);
    // Assess
    // The write puts B1, B2 and run-2's manifest; the retire deletes B3 and run-1's manifest.
    expect(written).toEqual({ written: 2, deleted: 0, bookkeeping: 1 });
    expect(retired).toEqual({ written: 0, deleted: 1, bookkeeping: 1 });
    // One chunk of MINOR_BORROWER before and after: replaced in place.
    expect(breachReport).toEqual({ written: 1, deleted: 0 });
    expect(await store.getLoanHistory('B3')).toEqual([]);
    expect((await store.getWatchlist(date, 10)).map((e) => e.loanId)).toEqual(['B2']);
    expect((await store.getBreaches('MINOR_BORROWER', date)).map((b) => b.loanId)).toEqual(['B2']);
  });

  it('cleans up completely after a run that crashed halfway through its replace', async () => {
    // Prepare: run-1 wrote R1, R2; run-2 recorded its manifest [R1, R3] and wrote R3, then crashed
    // before deleting R2 and run-1's manifest.
    const date = '2026-01-21';
    await writeHistory(
      date,
      'run-1',
      [state('R1'), state('R2')].map((x) => toLoanChange({ kind: 'new', loanId: x.loanId, today: x })),
    );
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: `RUN#${date}`,
          sk: 'CHG#run-2#00000',
          type: 'manifest',
          snapshotDate: date,
          runId: 'run-2',
          loanIds: ['R1', 'R3'],
        },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...toLoanChange({ kind: 'new', loanId: 'R3', today: state('R3') }),
          pk: 'LOAN#R3',
          sk: `DAY#${date}`,
          type: 'change',
          snapshotDate: date,
          runId: 'run-2',
        },
      }),
    );
    // Act: run-3 of the same date produces only R1.
    const written = await store.writeLoanChanges(date, 'run-3', 0, [
      toLoanChange({ kind: 'new', loanId: 'R1', today: state('R1') }),
    ]);
    const retired = await store.retireLoanChanges(date, 'run-3');
    // Assess: R2 and R3 gone, one manifest left (run-3's): the write put R1 and its manifest, the
    // retire deleted R2, R3 and the manifests of run-1 and run-2.
    expect(written).toEqual({ written: 1, deleted: 0, bookkeeping: 1 });
    expect(retired).toEqual({ written: 0, deleted: 2, bookkeeping: 2 });
    const left = (await itemsOf(date)).map((i) => JSON.parse(i) as { pk: string; sk: string });
    expect(left.map((i) => `${i.pk} ${i.sk}`).sort()).toEqual([
      `LOAN#R1 DAY#${date}`,
      `RUN#${date} CHG#<run>#0000#00000`,
    ]);
  });

  it('replaces a date written in parts (loan-id buckets) once every part is in: stale items of the earlier run go, none of the new', async () => {
    // Prepare: run-1 wrote P1..P4 in one part.
    const date = '2026-01-22';
    const change = (id: string) => toLoanChange({ kind: 'new', loanId: id, today: state(id) });
    await writeHistory(date, 'run-1', ['P1', 'P2', 'P3', 'P4'].map(change));
    // Act: run-2 writes P1 and P5 in part 0, P3 in part 1 (P2 and P4 no longer change), then retires.
    const part0 = await store.writeLoanChanges(date, 'run-2', 0, [change('P1'), change('P5')]);
    const part1 = await store.writeLoanChanges(date, 'run-2', 1, [change('P3')]);
    // Before the retire, run-1's stale items are still there (a crash here loses nothing).
    expect(await store.getLoanHistory('P2')).toHaveLength(1);
    const retired = await store.retireLoanChanges(date, 'run-2');
    // Assess
    expect(part0).toEqual({ written: 2, deleted: 0, bookkeeping: 1 });
    expect(part1).toEqual({ written: 1, deleted: 0, bookkeeping: 1 });
    expect(retired).toEqual({ written: 0, deleted: 2, bookkeeping: 1 });
    const left = (await itemsOf(date)).map((i) => JSON.parse(i) as { pk: string; sk: string });
    expect(left.map((i) => `${i.pk} ${i.sk}`).sort()).toEqual([
      `LOAN#P1 DAY#${date}`,
      `LOAN#P3 DAY#${date}`,
      `LOAN#P5 DAY#${date}`,
      `RUN#${date} CHG#<run>#0000#00000`,
      `RUN#${date} CHG#<run>#0001#00000`,
    ]);
    expect((await store.getLoanHistory('P3')).map((h) => h.runId)).toEqual(['run-2']);
  });

  it('refuses a second concurrent run of a date with a clear sentence', async () => {
    // Prepare
    const date = '2026-01-12';
    // Act: two runs race for the lease
    const results = await Promise.allSettled([
      store.acquireLease(date, 'run-a', 600),
      store.acquireLease(date, 'run-b', 600),
    ]);
    // Assess: exactly one wins
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(RunInProgressError);
    const winner = results[0]?.status === 'fulfilled' ? 'run-a' : 'run-b';
    expect(String((lost[0]?.reason as Error | undefined)?.message)).toBe(
      `the audit of 2026-01-12 is already running (run ${winner}, lease held until 2026-02-01T06:10:00.000Z); wait for it to finish or for its lease to expire`,
    );
  });

  it('lets the holder re-take its lease, and another run in once it is released', async () => {
    const date = '2026-01-13';
    await store.acquireLease(date, 'run-a', 600);
    await store.acquireLease(date, 'run-a', 600);
    await expect(store.acquireLease(date, 'run-b', 600)).rejects.toThrow(RunInProgressError);
    // A release by a run that does not hold the lease changes nothing.
    await store.releaseLease(date, 'run-b');
    await expect(store.acquireLease(date, 'run-b', 600)).rejects.toThrow(RunInProgressError);
    await store.releaseLease(date, 'run-a');
    await expect(store.acquireLease(date, 'run-b', 600)).resolves.toBeUndefined();
    await store.releaseLease(date, 'run-b');
  });

  it('lets a new run take over an expired lease', async () => {
    const date = '2026-01-14';
    await store.acquireLease(date, 'run-crashed', 60);
    const later = new DynamoRiskStore(doc, table, { now: () => new Date(NOW.getTime() + 61_000) });
    await expect(later.acquireLease(date, 'run-new', 600)).resolves.toBeUndefined();
    await later.releaseLease(date, 'run-new');
  });

  it('keeps a loan history across three days: new, unchanged (no item), changed, closed', async () => {
    // Prepare: hand-made days
    const d1 = [state('H1'), state('H2', { grade: 'C' }), state('H3')];
    const d2 = [
      state('H1', { score: 670 }), // drift only
      state('H2', { grade: 'D', dpdBucket: '1-30', classification: 'special_mention' }),
      state('H3'),
      state('H4', { flags: ['YOUNG_BORROWER'] }),
    ];
    const d3 = [
      state('H1', { flags: ['HIGH_DTI'] }),
      state('H2', { grade: 'E', dpdBucket: '31-60', classification: 'special_mention' }),
      state('H4', { flags: ['YOUNG_BORROWER'] }),
    ];
    // Act
    await writeHistory('2026-01-20', 'r1', diffRiskStates([], d1).map(toLoanChange));
    await writeHistory('2026-01-21', 'r2', diffRiskStates(d1, d2).map(toLoanChange));
    await writeHistory('2026-01-22', 'r3', diffRiskStates(d2, d3).map(toLoanChange));
    // Assess
    const line = (loanId: string) =>
      store
        .getLoanHistory(loanId)
        .then((h) =>
          h.map(
            (x) =>
              `${x.snapshotDate} ${x.change} ${x.grade ?? '-'} ${x.dpdBucket ?? '-'} [${x.flags.join(',')}]`,
          ),
        );
    expect(await line('H1')).toEqual(['2026-01-20 new B 0 []', '2026-01-22 changed B 0 [HIGH_DTI]']);
    expect(await line('H2')).toEqual([
      '2026-01-20 new C 0 []',
      '2026-01-21 changed D 1-30 []',
      '2026-01-22 changed E 31-60 []',
    ]);
    expect(await line('H3')).toEqual(['2026-01-20 new B 0 []', '2026-01-22 closed - - []']);
    expect(await line('H4')).toEqual(['2026-01-21 new B 0 [YOUNG_BORROWER]']);
    const h2 = await store.getLoanHistory('H2');
    expect(h2[2]?.previousGrade).toBe('D');
    expect(h2[2]?.previousDpdBucket).toBe('1-30');
    // The table layout (keys, TTL) stays inside the store.
    expect((h2[0] as unknown as { expiresAt?: number; pk?: string }).pk).toBeUndefined();
    expect(await store.getLoanHistory('H2', 2)).toHaveLength(2);
  });

  it('sets expiresAt on detail items and none on run records', async () => {
    const date = '2026-01-15';
    await writeHistory(date, 'r', diffRiskStates([], [state('T1')]).map(toLoanChange));
    await store.recordRun(summary(date, 'r', 'ok'));
    const items = await itemsOf(date);
    const parsed = items.map((s) => JSON.parse(s) as Record<string, unknown>);
    const change = parsed.find((i) => i.type === 'change');
    const run = parsed.find((i) => i.type === 'run');
    // 2026-02-01T06:00:00Z = 1769925600; + 30 * 86400 = 2592000
    expect(change?.expiresAt).toBe(1_769_925_600 + 2_592_000);
    expect(run?.expiresAt).toBeUndefined();
  });

  it('returns the watchlist in rank order, bounded by the limit', async () => {
    const date = '2026-01-16';
    const entries = [watch(3, 'W3'), watch(1, 'W1'), watch(12, 'W12'), watch(2, 'W2')];
    await store.replaceWatchlist(date, 'r', entries);
    expect((await store.getWatchlist(date, 10)).map((e) => `${e.rank}:${e.loanId}`)).toEqual([
      '1:W1',
      '2:W2',
      '3:W3',
      '12:W12',
    ]);
    expect((await store.getWatchlist(date, 2)).map((e) => e.loanId)).toEqual(['W1', 'W2']);
    const first = (await store.getWatchlist(date, 1))[0];
    expect(first).toEqual(watch(1, 'W1'));
  });

  it('stores a long watchlist in chunks and shrinks it exactly on a re-run', async () => {
    const date = '2026-01-19';
    const long = Array.from({ length: 250 }, (_, i) => watch(i + 1, `C${String(i + 1).padStart(3, '0')}`));
    await store.replaceWatchlist(date, 'r1', long);
    const top150 = await store.getWatchlist(date, 150);
    expect(top150).toHaveLength(150);
    expect(top150[0]?.rank).toBe(1);
    expect(top150[149]?.rank).toBe(150);
    expect(await store.getWatchlist(date, 1_000)).toHaveLength(250);
    // 250 entries = chunks 0, 1, 2; 120 entries = chunks 0, 1: the third goes.
    await store.replaceWatchlist(date, 'r2', long.slice(0, 120));
    const after = await store.getWatchlist(date, 1_000);
    expect(after.map((e) => e.rank)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect((await itemsOf(date)).filter((i) => i.includes('"type":"watch"'))).toHaveLength(2);
  });

  it('refuses a watchlist with a repeated rank', async () => {
    await expect(store.replaceWatchlist('2026-01-17', 'r', [watch(1, 'X'), watch(1, 'Y')])).rejects.toThrow(
      'watchlist of 2026-01-17 has an invalid or repeated rank 1',
    );
  });

  it('lists breaches of a rule on a date, largest outstanding first', async () => {
    const date = '2026-01-18';
    const b = (ruleCode: string, loanId: string, outstanding: number): BreachEntry => ({
      ruleCode,
      loanId,
      borrowerRef: `ref-${loanId}`,
      grade: 'C',
      outstanding,
    });
    await store.replaceBreaches(date, 'r', [
      b('APR_ABOVE_36', 'P1', 900),
      b('APR_ABOVE_36', 'P2', 150_000),
      b('STUDENT_BORROWER', 'P1', 900),
      b('APR_ABOVE_36', 'P3', 20_000.25),
    ]);
    const apr = await store.getBreaches('APR_ABOVE_36', date);
    expect(apr.map((x) => `${x.loanId}:${x.outstanding}`)).toEqual(['P2:150000', 'P3:20000.25', 'P1:900']);
    expect((await store.getBreaches('STUDENT_BORROWER', date)).map((x) => x.loanId)).toEqual(['P1']);
    expect(await store.getBreaches('APR_ABOVE_24', date)).toEqual([]);
    expect(await store.getBreaches('APR_ABOVE_36', date, 1)).toHaveLength(1);
  });

  it('keeps one run record per date and lists the last runs newest first', async () => {
    await store.recordRun(summary('2026-01-01', 'x1', 'running'));
    await store.recordRun(summary('2026-01-01', 'x1', 'failed'));
    await store.recordRun(summary('2026-01-02', 'x2', 'partial'));
    await store.recordRun(summary('2026-01-03', 'x3', 'ok'));
    const run = await store.getRun('2026-01-01');
    expect(run).toEqual(summary('2026-01-01', 'x1', 'failed'));
    expect(await store.getRun('1999-01-01')).toBeNull();
    const runs = await store.listRuns(100);
    const dates = runs.map((r) => r.snapshotDate);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(new Set(dates).size).toBe(dates.length);
    expect(dates.filter((d) => d <= '2026-01-03')).toEqual(['2026-01-03', '2026-01-02', '2026-01-01']);
    expect((await store.listRuns(2)).map((r) => r.snapshotDate)).toEqual(dates.slice(0, 2));
  });

  it('keeps the history of every loan of a generated book across three days', async () => {
    // Prepare: a generated book rolled forward twice, scored by the engine.
    const paths = defaultPolicyPaths();
    const dates = ['2026-03-01', '2026-03-02', '2026-03-03'];
    const policy = policyInForce(
      parsePolicy([
        { text: readFileSync(paths.rules, 'utf8'), fileName: paths.rules },
        { text: readFileSync(paths.appetite, 'utf8'), fileName: paths.appetite },
      ]),
      dates[2]!,
    );
    const assess = createLoanAssessor(policy);
    const book1 = [...generateBook({ loans: 3_000, date: dates[0]!, seed: 'it-history' })];
    const book2 = [...rollForward(book1, { date: dates[1]!, seed: 'it-history' })];
    const book3 = [...rollForward(book2, { date: dates[2]!, seed: 'it-history' })];
    const score = (book: Loan[]): Map<string, LoanRiskState> =>
      new Map(
        book.map((loan) => [loan.loanId, toLoanRiskState(assess(loan), `ref-${loan.borrowerId.length}`)]),
      );
    const days = [score(book1), score(book2), score(book3)];
    // Act
    let previous = new Map<string, LoanRiskState>();
    let written = 0;
    for (let d = 0; d < 3; d++) {
      const changes = diffRiskStates(previous.values(), days[d]!.values()).map(toLoanChange);
      written += (await store.writeLoanChanges(dates[d]!, `gen-${d}`, 0, changes)).written;
      await store.retireLoanChanges(dates[d]!, `gen-${d}`);
      previous = days[d]!;
    }
    // Assess: each loan's expected history from the three days directly.
    const expected = (loanId: string): string[] => {
      const out: string[] = [];
      for (let d = 0; d < 3; d++) {
        const before = d === 0 ? undefined : days[d - 1]!.get(loanId);
        const now = days[d]!.get(loanId);
        if (now && !before) out.push(`${dates[d]} new ${now.grade}`);
        else if (!now && before) out.push(`${dates[d]} closed -`);
        else if (now && before && riskStateChanged(before, now)) out.push(`${dates[d]} changed ${now.grade}`);
      }
      return out;
    };
    const allIds = [...new Set([...days[0]!.keys(), ...days[1]!.keys(), ...days[2]!.keys()])].sort();
    const total = allIds.reduce((n, id) => n + expected(id).length, 0);
    expect(written).toBe(total);
    // The generated days hold new, changed and closed loans; check those and a spread of others.
    const interesting = allIds.filter((id) => expected(id).length > 1);
    expect(interesting.length).toBeGreaterThan(10);
    const sample = [...interesting.slice(0, 60), ...allIds.filter((_, i) => i % 100 === 0)];
    for (const id of sample) {
      const history = await store.getLoanHistory(id);
      expect(history.map((h) => `${h.snapshotDate} ${h.change} ${h.grade ?? '-'}`)).toEqual(expected(id));
    }
  });
});
