import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { ensureTables } from '../../../shared/adapters/dynamo-tables.ts';
import { nodeGzip } from '../../../shared/adapters/gzip.ts';
import { readStoredQuarantineSample } from '../../../shared/adapters/report/quarantine-sample.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import type { LocalRunResult } from '../../../shared/cli/local-runner.ts';
import { LOCAL_BORROWER_REF_KEY } from '../../../shared/config.ts';
import type { AuditDocument, AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { trendPointOf } from '../../../shared/domain/report/trend.ts';
import { decodeScores, type ScoredLoan } from '../../../shared/domain/store/score-file.ts';
import { clearLocalEmails, fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import { KEYS, RISK_TABLE } from '../../../shared/schema/tables.ts';
import { loanHistory } from '../../../shared/use-cases/loan-history.ts';
import { dateScoreKeys } from '../../../shared/use-cases/merge-audit.ts';
import { trendPointOfRun } from '../../../shared/use-cases/send-report.ts';
import { pipelineSuite } from './suite.ts';

// The whole slice on the embedded stack: tapes in S3 -> the Lambda handlers in the state
// machine's order -> audit.json, quarantine, scores and report in S3, run records, history,
// watchlist and breaches in DynamoDB, the email in the local SES.

const TABLE = 'risk-audit-pipeline-test';
const { endpoints, clients, bucket, artifacts, store, putFile, itemsOf } = pipelineSuite(TABLE);
const D1 = '2026-10-01';
const D2 = '2026-10-02';
const D3 = '2026-10-03';

let dir: string;
let run: (date: string, email: boolean) => Promise<LocalRunResult>;

async function audit(date: string): Promise<AuditDocument> {
  const bytes = await artifacts.get(KEYS.audit(date));
  return JSON.parse(Buffer.from(bytes!).toString('utf8')) as AuditDocument;
}

/** Every loan of a date's score file, bucket after bucket. */
async function dateScores(date: string): Promise<ScoredLoan[]> {
  const out: ScoredLoan[] = [];
  for (const key of await dateScoreKeys(artifacts, date))
    out.push(...decodeScores((await artifacts.get(key))!, nodeGzip));
  return out;
}

beforeAll(async () => {
  await ensureTables(clients.dynamodb, [{ ...RISK_TABLE, localName: TABLE }]);
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-pipeline-'));
  const day1: Loan[] = [...generateBook({ loans: 3000, date: D1, seed: 3 })];
  const day2: Loan[] = [...rollForward(day1, { date: D2, seed: 3, badRows: 7 })];
  // Day 3 rolls the valid day-2 book forward (the same loans, without the seeded bad rows).
  const day3: Loan[] = [...rollForward(rollForward(day1, { date: D2, seed: 3 }), { date: D3, seed: 3 })];
  await writeTape(join(dir, 'd1.csv.gz'), day1);
  await writeTape(join(dir, 'd2.csv'), day2);
  await writeTape(join(dir, 'd3-a.csv'), day3.slice(0, 1500));
  await writeTape(join(dir, 'd3-b.csv'), day3.slice(1500));
  await putFile(`${KEYS.tapePrefix(D1)}loans.csv.gz`, await readFile(join(dir, 'd1.csv.gz')));
  await putFile(`${KEYS.tapePrefix(D2)}loans.csv`, await readFile(join(dir, 'd2.csv')));
  await clearLocalEmails({ endpoints });
  const { runWorkflowLocally } = await import('../../../shared/cli/local-runner.ts');
  run = (date, email) => runWorkflowLocally({ snapshotDate: date, trigger: 'local' }, { sendReport: email });
  expect((await run(D1, false)).ok).toBe(true);
  expect((await run(D2, true)).ok).toBe(true);
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(dir, { recursive: true, force: true });
});

describe('Pipeline: a two-day book through the handlers on the embedded stack', () => {
  it('writes audit.json, quarantine, scores and the report to S3, and removes the shard partials', async () => {
    const doc = await audit(D2);
    expect(doc.status).toBe('partial');
    const a = doc as AuditResult;
    expect(a.previousSnapshotDate).toBe(D1);
    expect(a.input.rowsQuarantined).toBe(7);
    expect(a.input.rowsRead).toBe(a.input.rowsValid + a.input.rowsQuarantined);
    const quarantine = Buffer.from((await artifacts.get(KEYS.quarantine(D2)))!).toString('utf8');
    expect(quarantine.trim().split('\n')).toHaveLength(1 + 7);
    for (const key of [
      ...(await dateScoreKeys(artifacts, D2)),
      KEYS.reportHtml(D2),
      KEYS.emailHtml(D2),
      KEYS.quarantineSample(D2),
      KEYS.reportEml(D2),
      KEYS.reportText(D2),
      KEYS.watchlistCsv(D2),
    ]) {
      expect(await artifacts.get(key), key).not.toBeNull();
    }
    const partials = await artifacts.deletePrefix(`${KEYS.runPrefix(D2)}partials/`);
    expect(partials).toBe(0);
  });

  it('keeps run records, what changed, the watchlist and breaches in DynamoDB', async () => {
    const a = (await audit(D2)) as AuditResult;
    const record = await store.getRun(D2);
    expect(record).toMatchObject({ status: 'partial', loanCount: a.portfolio.loanCount, rowsQuarantined: 7 });
    expect(record?.totalOutstanding).toBeCloseTo(a.portfolio.totalOutstanding, 2);
    // Other suites share the stack: only this suite's dates are looked at.
    const mine = (await store.listRuns(50))
      .map((r) => r.snapshotDate)
      .filter((d) => d.startsWith('2026-10-'));
    expect(mine).toEqual([D2, D1]);
    const watchlist = await store.getWatchlist(D2, 100);
    expect(watchlist.length).toBeGreaterThan(0);
    expect(watchlist.map((w) => w.rank)).toEqual(watchlist.map((_, i) => i + 1));
    for (let i = 1; i < watchlist.length; i++)
      expect(watchlist[i]!.pd).toBeLessThanOrEqual(watchlist[i - 1]!.pd);
    // The run record's loans in breach are the distinct loans in breach.
    expect(record?.loansInBreach).toBe(a.compliance.loansInBreach);
    expect(record?.rulesBreached).toBe(a.compliance.rulesBreached);
    const cost = await store.getBreaches('COST_ABOVE_36', D2);
    expect(cost).toHaveLength(a.compliance.rules.COST_ABOVE_36!.loans);
    // A borrower-level cap reaches the breach index through the buckets: every loan it concerns.
    const consumer = a.compliance.rules.CONSUMER_BALANCE_CAP!;
    expect(consumer.loans).toBeGreaterThan(0);
    const capped = await store.getBreaches('CONSUMER_BALANCE_CAP', D2);
    expect(capped).toHaveLength(consumer.loans);
    expect(capped.reduce((s, b) => s + b.outstanding, 0)).toBeCloseTo(consumer.outstanding, 2);
    // D1 was the baseline; D2's history holds only the loans that appeared, changed or closed.
    const items = await itemsOf(D2);
    const history = [...items.values()].filter((i) => String(i.pk).startsWith('LOAN#'));
    expect(history.length).toBeGreaterThan(0);
    expect(history.length).toBeLessThan(a.portfolio.loanCount / 2);
    expect([...(await itemsOf(D1)).values()].filter((i) => String(i.pk).startsWith('LOAN#'))).toHaveLength(0);
  });

  it('archives the full report where the link points, the email as HTML and the masked quarantined rows', async () => {
    const html = Buffer.from((await artifacts.get(KEYS.reportHtml(D2)))!).toString('utf8');
    for (const name of ['watchlist', 'breaches', 'quarantine', 'rules', 'trend'])
      expect(html).toContain(`data-table="${name}"`);
    const sample = await readStoredQuarantineSample(artifacts, D2);
    expect(sample?.total).toBe(7);
    expect(sample?.rows).toHaveLength(7);
    // The ids of the quarantined rows (canonical CSV: loan_id and borrower_id are fields 2 and 3)
    // appear nowhere in the report, masked or not shown at all.
    const quarantine = Buffer.from((await artifacts.get(KEYS.quarantine(D2)))!).toString('utf8');
    const ids = quarantine
      .trim()
      .split('\n')
      .slice(1)
      .flatMap((line) => (line.match(/,"([^"]*)"$/)?.[1] ?? '').split(',').slice(1, 3))
      .filter((id) => id.length > 3);
    expect(ids.length).toBeGreaterThan(7);
    for (const id of ids) expect(html, id).not.toContain(id);
    expect(sample?.rows.filter((r) => r.raw !== null).length).toBeGreaterThan(0);
    const email = Buffer.from((await artifacts.get(KEYS.emailHtml(D2)))!).toString('utf8');
    expect(email).toContain('Open the full report');
    expect(email).toContain(`/runs/${D2}/report.html`);
  });

  it("keeps the trend's figures in the run record as the report reads them from the audit", async () => {
    const a = (await audit(D2)) as AuditResult;
    const record = await store.getRun(D2);
    expect(trendPointOfRun(record!)).toEqual(trendPointOf(a));
    expect(record?.historyBaseline).toBe(false);
    expect((await store.getRun(D1))?.historyBaseline).toBe(true);
  });

  it("starts a loan's history at the book's first date: its state there, then its changes", async () => {
    // Prepare: D1 wrote no history (the baseline); D2 wrote the loans that appeared, changed or closed.
    const first = new Map((await dateScores(D1)).map((l) => [l.loanId, l]));
    const items = [...(await itemsOf(D2)).values()].filter((i) => String(i.pk).startsWith('LOAN#'));
    const changed = items.find((i) => i.change === 'changed')!;
    const changedIds = new Set(items.map((i) => String(i.loanId)));
    const unchanged = [...first.keys()].find((id) => !changedIds.has(id))!;
    const deps = { store, artifacts, gzip: nodeGzip, borrowerRefKey: LOCAL_BORROWER_REF_KEY };

    // Act
    const moved = await loanHistory(String(changed.loanId), deps);
    const still = await loanHistory(unchanged, deps);

    // Assess
    expect(moved.map((h) => [h.snapshotDate, h.change])).toEqual([
      [D1, 'baseline'],
      [D2, 'changed'],
    ]);
    const before = first.get(String(changed.loanId))!;
    expect(moved[0]).toMatchObject({
      grade: before.grade,
      dpdBucket: before.dpdBucket,
      outstanding: before.outstanding,
    });
    expect(moved[1]?.previousGrade).toBe(before.grade);
    expect(moved[0]?.borrowerRef).toBe(moved[1]?.borrowerRef);
    expect(still.map((h) => [h.snapshotDate, h.change])).toEqual([[D1, 'baseline']]);
  });

  it('emails the report to the local SES with the verdict in the subject and the watchlist attached', async () => {
    const emails = await fetchLocalEmails({ endpoints });
    expect(emails).toHaveLength(1);
    const a = (await audit(D2)) as AuditResult;
    expect(emails[0]!.subject).toMatch(
      new RegExp(`^\\[${a.ratings.overall.toUpperCase()}\\] Risk audit ${D2} · NPL`),
    );
    const eml = await simpleParser(Buffer.from((await artifacts.get(KEYS.reportEml(D2)))!));
    expect(eml.subject).toBe(emails[0]!.subject);
    expect(eml.attachments.some((x) => x.contentType.startsWith('text/csv'))).toBe(true);
  });

  it('replaces a date exactly when it is re-run: the same items, no duplicates', async () => {
    // The store's per-run manifest (sk CHG#<runId>#...) names the run that wrote it: left out.
    const withoutManifest = (m: Map<string, Record<string, unknown>>) =>
      new Map([...m].filter(([key]) => !key.includes('|CHG#')));
    const before = withoutManifest(await itemsOf(D2));
    expect((await run(D2, false)).ok).toBe(true);
    const after = withoutManifest(await itemsOf(D2));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [key, item] of after) expect(item, key).toEqual(before.get(key));
  });

  it('fails cleanly when one shard is unreadable, then succeeds when the date is re-run', async () => {
    await clearLocalEmails({ endpoints });
    await putFile(`${KEYS.tapePrefix(D3)}part-1.csv`, await readFile(join(dir, 'd3-a.csv')));
    const good = gzipSync(await readFile(join(dir, 'd3-b.csv')));
    await putFile(`${KEYS.tapePrefix(D3)}part-2.csv.gz`, good.subarray(0, Math.floor(good.length / 2)));

    const failed = await run(D3, true);
    expect(failed.ok).toBe(false);
    expect(failed.ok ? '' : failed.reason).toMatch(/part-2\.csv\.gz/);
    const doc = await audit(D3);
    expect(doc).toMatchObject({ status: 'failed', snapshotDate: D3 });
    expect((await store.getRun(D3))?.status).toBe('failed');
    const notice = await fetchLocalEmails({ endpoints });
    expect(notice).toHaveLength(1);
    expect(notice[0]!.subject).toContain(`[FAILED] Risk audit ${D3}`);

    await clients.s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: `${KEYS.tapePrefix(D3)}part-2.csv.gz` }),
    );
    await putFile(`${KEYS.tapePrefix(D3)}part-2.csv.gz`, good);
    const again = await run(D3, false);
    expect(again.ok).toBe(true);
    const fixed = (await audit(D3)) as AuditResult;
    expect(fixed.status).toBe('ok');
    expect(fixed.input.parts).toHaveLength(2);
    expect((await store.getRun(D3))?.status).toBe('ok');
    const runs = (await store.listRuns(50)).map((r) => r.snapshotDate);
    expect(runs.filter((d) => d === D3)).toHaveLength(1);
  });

  /** The date's quarantine.csv rows with a code, as `line part`. */
  async function quarantinedWith(date: string, code: string): Promise<string[]> {
    const csv = Buffer.from((await artifacts.get(KEYS.quarantine(date)))!).toString('utf8');
    return csv
      .trimEnd()
      .split('\n')
      .slice(1)
      .filter((line) => line.split(',')[2]!.split('|').includes(code))
      .map((line) => line.split(',').slice(0, 2).join(' '));
  }

  it('quarantines loan ids repeated across the parts of one tape, as one pass over it would', async () => {
    // Prepare: part b repeats three loans of part a (the same ids and amounts) after its own 200.
    const D4 = '2026-10-04';
    const book: Loan[] = [...generateBook({ loans: 400, date: D4, seed: 9 })];
    await writeTape(join(dir, 'd4-a.csv'), book.slice(0, 200));
    await writeTape(join(dir, 'd4-b.csv'), [...book.slice(200), ...book.slice(0, 3)]);
    await putFile(`${KEYS.tapePrefix(D4)}part-a.csv`, await readFile(join(dir, 'd4-a.csv')));
    await putFile(`${KEYS.tapePrefix(D4)}part-b.csv`, await readFile(join(dir, 'd4-b.csv')));

    // Act
    expect((await run(D4, false)).ok).toBe(true);

    // Assess: the first rows win; part b's copies (its lines 202-204, after the header and its
    // own 200 rows) are quarantined, and the book holds each loan once.
    const a = (await audit(D4)) as AuditResult;
    expect(a.input.quarantineByCode).toEqual({ DUPLICATE_LOAN_ID: 3 });
    expect(a.portfolio.loanCount).toBe(400);
    expect(await quarantinedWith(D4, 'DUPLICATE_LOAN_ID')).toEqual([
      `202 ${KEYS.tapePrefix(D4)}part-b.csv`,
      `203 ${KEYS.tapePrefix(D4)}part-b.csv`,
      `204 ${KEYS.tapePrefix(D4)}part-b.csv`,
    ]);
    expect(await dateScores(D4)).toHaveLength(400);
  });

  it('quarantines a valid row in a later part whose loan id the first part had in a quarantined row', async () => {
    const D5 = '2026-10-05';
    const book: Loan[] = [...generateBook({ loans: 400, date: D5, seed: 10 })];
    await writeTape(join(dir, 'd5-a.csv'), book.slice(0, 200));
    await writeTape(join(dir, 'd5-b.csv'), [...book.slice(200), book[0]!]);
    // Part a's first row is broken (principal not a number); part b ends with a corrected copy.
    const lines = (await readFile(join(dir, 'd5-a.csv'), 'utf8')).split('\n');
    const cells = lines[1]!.split(',');
    cells[5] = 'abc';
    lines[1] = cells.join(',');
    await putFile(`${KEYS.tapePrefix(D5)}part-a.csv`, Buffer.from(lines.join('\n')));
    await putFile(`${KEYS.tapePrefix(D5)}part-b.csv`, await readFile(join(dir, 'd5-b.csv')));
    expect((await run(D5, false)).ok).toBe(true);
    // Assess: the broken first row wins, so the copy ending part b (its line 202) is a repeat.
    const a = (await audit(D5)) as AuditResult;
    expect(a.input.quarantineByCode).toEqual({ UNPARSEABLE_NUMBER: 1, DUPLICATE_LOAN_ID: 1 });
    expect(a.portfolio.loanCount).toBe(399);
    expect(await quarantinedWith(D5, 'DUPLICATE_LOAN_ID')).toEqual([`202 ${KEYS.tapePrefix(D5)}part-b.csv`]);
    // The copy is left out of the date's score file, as one pass quarantines it.
    const scores = await dateScores(D5);
    expect(scores).toHaveLength(399);
    expect(scores.some((l) => l.loanId === book[0]!.loanId)).toBe(false);
  });

  it("carries each date's drift index to the next run, and reads the tape again once it changed", async () => {
    const drift = async () => {
      const a = (await audit(D2)) as AuditResult;
      return { drift: a.drift, dataQuality: a.dataQuality, portfolio: a.portfolio };
    };
    // D1's run left its index; D2's run (in beforeAll and the re-runs above) copied it.
    const carried = await artifacts.get(KEYS.carriedIndex(D1));
    expect(carried).not.toBeNull();
    expect(await artifacts.get(KEYS.carriedIndexInfo(D1))).not.toBeNull();
    const withCarried = await drift();
    expect(withCarried.drift.newLoans).toBeGreaterThan(0);

    // Without the index's description, D2 reads D1's tape: the same figures.
    const info = await artifacts.get(KEYS.carriedIndexInfo(D1));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: KEYS.carriedIndexInfo(D1) }));
    expect((await run(D2, false)).ok).toBe(true);
    expect(await drift()).toEqual(withCarried);

    // D1's index and score files are its run's: the loan-id buckets count drift from the score
    // files, and no shard reads the index. D2's own index standing in for D1's leaves drift as
    // it was (only the previous tape's intake counts, rowCountChange's, are the index header's).
    await artifacts.put(KEYS.carriedIndexInfo(D1), info!, 'application/json');
    await artifacts.put(
      KEYS.carriedIndex(D1),
      (await artifacts.get(KEYS.carriedIndex(D2)))!,
      'application/octet-stream',
    );
    const fromScores = await run(D2, false);
    expect(fromScores.ok && fromScores.plan.driftFromScores?.loans).toBe(
      ((await audit(D1)) as AuditResult).portfolio.loanCount,
    );
    expect((await drift()).drift).toEqual(withCarried.drift);

    // When the description names no run, the shards count drift from the copied index: D2's
    // own index standing in for D1's makes every loan "seen".
    const { runId: _run, ...noRun } = JSON.parse(Buffer.from(info!).toString('utf8'));
    await artifacts.put(KEYS.carriedIndexInfo(D1), JSON.stringify(noRun), 'application/json');
    const fromIndex = await run(D2, false);
    expect(fromIndex.ok && fromIndex.plan.driftFromScores).toBeUndefined();
    expect((await drift()).drift.newLoans).toBe(0);
    await artifacts.put(KEYS.carriedIndexInfo(D1), info!, 'application/json');

    // D1's tape delivered again (a new modification time): its run's index no longer applies.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await putFile(`${KEYS.tapePrefix(D1)}loans.csv.gz`, await readFile(join(dir, 'd1.csv.gz')));
    expect((await run(D2, false)).ok).toBe(true);
    expect(await drift()).toEqual(withCarried);
    await artifacts.put(KEYS.carriedIndex(D1), carried!, 'application/octet-stream');
  });
});
