import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { ensureTables } from '../../../shared/adapters/dynamo-tables.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import type { LocalRunOptions, LocalRunResult } from '../../../shared/cli/local-runner.ts';
import { localWorkflowDefinition } from '../../../shared/cli/workflow-definition.ts';
import type { AuditDocument, AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { ExecutionAlreadyExistsError } from '../../../shared/local/asl-engine.ts';
import { clearLocalEmails, fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import { KEYS, RISK_TABLE } from '../../../shared/schema/tables.ts';
import { pipelineSuite } from './suite.ts';

// The two halves joined: the state machine definition `cdk synth` produces for the stack,
// executed by the local ASL engine, its tasks invoking the real Lambda handlers against the
// embedded stack (S3, DynamoDB, SES), its map items on worker threads.

const TABLE = 'risk-audit-workflow-test';
const { endpoints, artifacts, clients, store, putFile } = pipelineSuite(TABLE);
const D1 = '2026-07-01';
const D2 = '2026-07-02';
const D3 = '2026-07-03';
const D4 = '2026-07-04';
const D5 = '2026-07-05';

let dir: string;
let runWorkflowLocally: (
  event: { snapshotDate: string; trigger: 'local' },
  options?: LocalRunOptions,
) => Promise<LocalRunResult>;
const run = (date: string, options: LocalRunOptions = {}) =>
  runWorkflowLocally({ snapshotDate: date, trigger: 'local' }, { sendReport: false, ...options });

async function audit(date: string): Promise<AuditDocument> {
  return JSON.parse(Buffer.from((await artifacts.get(KEYS.audit(date)))!).toString('utf8')) as AuditDocument;
}

beforeAll(async () => {
  await ensureTables(clients.dynamodb, [{ ...RISK_TABLE, localName: TABLE }]);
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-workflow-'));
  const day1: Loan[] = [...generateBook({ loans: 3000, date: D1, seed: 21 })];
  await writeTape(join(dir, 'd1.csv.gz'), day1);
  await writeTape(join(dir, 'd2.csv'), rollForward(day1, { date: D2, seed: 21, badRows: 5 }));
  await putFile(`${KEYS.tapePrefix(D1)}loans.csv.gz`, await readFile(join(dir, 'd1.csv.gz')));
  await putFile(`${KEYS.tapePrefix(D2)}loans.csv`, await readFile(join(dir, 'd2.csv')));
  ({ runWorkflowLocally } = await import('../../../shared/cli/local-runner.ts'));
  expect((await run(D1)).ok).toBe(true);
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(dir, { recursive: true, force: true });
});

describe('Workflow: the synthesized definition on the local engine with the real handlers', () => {
  it('runs the definition cdk synth produces, its tasks naming the stack’s functions', async () => {
    const definition = await localWorkflowDefinition();
    const resources = JSON.stringify(definition).match(/arn:aws:lambda:local:000000000000:function:[a-z-]+/g);
    expect(new Set(resources)).toEqual(
      new Set(
        [
          'prepare-run',
          'score-shard',
          'merge-audit',
          'merge-scores',
          'finalize-audit',
          'send-report',
          'notify-failure',
        ].map((f) => `arn:aws:lambda:local:000000000000:function:${f}`),
      ),
    );
  });

  it('audits a clean night through every step and emails the report', async () => {
    await clearLocalEmails({ endpoints });
    const steps: string[] = [];
    const result = await run(D2, { sendReport: true, onStep: (s) => steps.push(s) });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // The order is the definition's (nothing here lists it): its tasks and maps from Prepare on.
    const { States } = await localWorkflowDefinition();
    const order: string[] = [];
    for (
      let at: string | undefined = 'Prepare';
      at !== undefined;
      at = States[at]?.Next as string | undefined
    )
      if (States[at]?.Type === 'Task' || States[at]?.Type === 'Map') order.push(at);
    expect(order.length).toBeGreaterThan(3);
    expect(steps).toEqual(order);
    const doc = (await audit(D2)) as AuditResult;
    expect(doc).toMatchObject({ status: 'partial', previousSnapshotDate: D1, input: { rowsQuarantined: 5 } });
    expect(await store.getRun(D2)).toMatchObject({ status: 'partial', runId: result.plan.runId });
    const emails = await fetchLocalEmails({ endpoints });
    expect(emails).toHaveLength(1);
    expect(emails[0]!.subject).toContain(`Risk audit ${D2}`);
  });

  it('fails the run with the failing shard’s sentence after the other shards finish, and sends the notice', async () => {
    const book: Loan[] = [...generateBook({ loans: 1500, date: D3, seed: 22 })];
    await writeTape(join(dir, 'd3-a.csv'), book.slice(0, 500));
    await writeTape(join(dir, 'd3-b.csv'), book.slice(500, 1000));
    await writeTape(join(dir, 'd3-c.csv'), book.slice(1000));
    await putFile(`${KEYS.tapePrefix(D3)}part-1.csv`, await readFile(join(dir, 'd3-a.csv')));
    const broken = gzipSync(await readFile(join(dir, 'd3-b.csv')));
    await putFile(`${KEYS.tapePrefix(D3)}part-2.csv.gz`, broken.subarray(0, Math.floor(broken.length / 2)));
    await putFile(`${KEYS.tapePrefix(D3)}part-3.csv`, await readFile(join(dir, 'd3-c.csv')));
    await clearLocalEmails({ endpoints });

    const result = await run(D3, { workers: 2 });
    expect(result).toMatchObject({ ok: false, status: 'failed' });
    if (result.ok) return;
    expect(result.reason).toMatch(/part-2\.csv\.gz/);
    const record = await store.getRun(D3);
    expect(record).toMatchObject({ status: 'failed', error: result.reason });
    expect(await audit(D3)).toMatchObject({ status: 'failed', error: result.reason });
    // Shards 0 and 2 (after the failed one) were scored to the end: their partials are there.
    for (const shard of [0, 2])
      expect(await artifacts.get(KEYS.partial(D3, record!.runId, shard)), `shard ${shard}`).not.toBeNull();
    expect(await artifacts.get(KEYS.partial(D3, record!.runId, 1))).toBeNull();
    const notices = await fetchLocalEmails({ endpoints });
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toContain(`[FAILED] Risk audit ${D3}`);
  });

  it('retries a shard the Lambda service throttled, as the definition says, and the run succeeds', async () => {
    const calls: string[] = [];
    const result = await run(D2, {
      serviceFault: ({ fn, attempt }) => {
        calls.push(`${fn}#${attempt}`);
        return fn === 'score-shard' && attempt < 2 ? 'Lambda.TooManyRequestsException' : null;
      },
    });
    expect(result.ok).toBe(true);
    // Two throttled attempts, then the third scores the shard; every other step once.
    expect(calls.filter((c) => c.startsWith('score-shard'))).toEqual([
      'score-shard#0',
      'score-shard#1',
      'score-shard#2',
    ]);
    expect(calls.filter((c) => c.startsWith('finalize-audit'))).toEqual(['finalize-audit#0']);
    expect(await audit(D2)).toMatchObject({ status: 'partial', input: { rowsQuarantined: 5 } });
  });

  it('ends quietly when another run holds the date, touching nothing of that run and sending no notice', async () => {
    const before = await store.getRun(D2);
    await store.acquireLease(D2, 'another-run', 600);
    await clearLocalEmails({ endpoints });
    try {
      const result = await run(D2);
      expect(result).toMatchObject({ ok: false, status: 'already-running' });
      if (result.ok) return;
      expect(result.reason).toContain('another-run');
      expect(await store.getRun(D2)).toEqual(before);
      expect(await fetchLocalEmails({ endpoints })).toHaveLength(0);
    } finally {
      await store.releaseLease(D2, 'another-run');
    }
  });

  it('refuses an execution name already used, before any step runs', async () => {
    const calls: string[] = [];
    const spy: LocalRunOptions = {
      executionName: `${D2}-local-once`,
      serviceFault: ({ fn }) => {
        calls.push(fn);
        return null;
      },
    };
    expect((await run(D2, spy)).ok).toBe(true);
    const ran = calls.length;
    await expect(run(D2, spy)).rejects.toBeInstanceOf(ExecutionAlreadyExistsError);
    expect(calls).toHaveLength(ran);
  });

  it('refuses, in one sentence with the notice, a tape whose run state would pass 256 KiB', async () => {
    // 600 parts: about 500 bytes of state each (the plan's part and shard, and the shard's result).
    const book: Loan[] = [...generateBook({ loans: 1, date: D4, seed: 23 })];
    await writeTape(join(dir, 'one.csv'), book);
    const part = await readFile(join(dir, 'one.csv'));
    const keys = Array.from(
      { length: 600 },
      (_, i) => `${KEYS.tapePrefix(D4)}part-${String(i).padStart(5, '0')}.csv`,
    );
    for (let i = 0; i < keys.length; i += 25)
      await Promise.all(keys.slice(i, i + 25).map((k) => putFile(k, part)));
    await clearLocalEmails({ endpoints });
    const result = await run(D4);
    expect(result).toMatchObject({ ok: false, status: 'failed' });
    if (result.ok) return;
    expect(result.reason).toMatch(
      /600 part\(s\) make 600 shards, more than one audit run can carry .*Step Functions allows 256 KB/,
    );
    expect(await store.getRun(D4)).toMatchObject({ status: 'failed', error: result.reason });
    expect((await fetchLocalEmails({ endpoints }))[0]?.subject).toContain(`[FAILED] Risk audit ${D4}`);
    // No date was left leased: a corrected delivery runs at once.
    await expect(store.acquireLease(D4, 'probe', 60)).resolves.toBeUndefined();
    await store.releaseLease(D4, 'probe');
  });

  it('fails a date with no tape through the definition’s catch: the notice, the failed record', async () => {
    await clearLocalEmails({ endpoints });
    const result = await run(D5);
    expect(result).toMatchObject({ ok: false, status: 'failed' });
    expect(await store.getRun(D5)).toMatchObject({ status: 'failed' });
    expect(await fetchLocalEmails({ endpoints })).toHaveLength(1);
  });
});
