import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { ensureTables } from '../../../shared/adapters/dynamo-tables.ts';
import { onDemandStarter } from '../../../shared/adapters/on-demand-start.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { lambdaContext } from '../../../shared/cli/lambda-context.ts';
import type { FunctionRunner, LocalRunOptions, LocalRunResult } from '../../../shared/cli/local-runner.ts';
import { localWorkflowDefinition } from '../../../shared/cli/workflow-definition.ts';
import type { AuditDocument, AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { StoreError } from '../../../shared/errors.ts';
import {
  ExecutionAlreadyExistsError,
  type StateMachineDefinition,
  StatesError,
} from '../../../shared/local/asl-engine.ts';
import { clearLocalEmails, fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import type { WorkflowStarter } from '../../../shared/ports/workflow-starter.ts';
import { IDEMPOTENCY_TABLE, KEYS, RISK_TABLE } from '../../../shared/schema/tables.ts';
import {
  executionNameFor,
  RunOutcomeSchema,
  runIdFor,
  type StartRunEvent,
} from '../../../shared/use-cases/workflow-types.ts';
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
let runWorkflowLocallyWith: (
  event: StartRunEvent,
  options?: LocalRunOptions,
  definition?: StateMachineDefinition,
) => Promise<LocalRunResult>;
let runHandler: FunctionRunner;
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
  ({ runWorkflowLocally, runHandler } = await import('../../../shared/cli/local-runner.ts'));
  runWorkflowLocallyWith = runWorkflowLocally as never;
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
    // The order is the definition's (nothing here lists it): its tasks and maps from Prepare on,
    // through each Choice's default (a clean night has no repeats across shards to settle).
    const { States } = await localWorkflowDefinition();
    const order: string[] = [];
    for (
      let at: string | undefined = 'Prepare';
      at !== undefined;
      at = (States[at]?.Type === 'Choice' ? States[at]?.Default : States[at]?.Next) as string | undefined
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

  it('audits a tape of 480 parts, past the old state bound (about 450): the shards and their results go through S3', async () => {
    // 480 parts of one loan each: their plan once carried about 500 bytes of state a part.
    const book: Loan[] = [...generateBook({ loans: 480, date: D4, seed: 23 })];
    const keys = Array.from(
      { length: 480 },
      (_, i) => `${KEYS.tapePrefix(D4)}part-${String(i).padStart(5, '0')}.csv`,
    );
    for (let i = 0; i < keys.length; i += 25)
      await Promise.all(
        keys.slice(i, i + 25).map(async (k, j) => {
          const file = join(dir, `d4-${i + j}.csv`);
          await writeTape(file, book.slice(i + j, i + j + 1));
          await putFile(k, await readFile(file));
        }),
      );
    const result = await run(D4);
    expect(result).toMatchObject({ ok: true, plan: { partCount: 480, shardCount: 480 } });
    const doc = (await audit(D4)) as AuditResult;
    expect(doc.status).not.toBe('failed');
    expect(doc.input.rowsRead).toBe(480);
    expect(doc.portfolio.loanCount).toBe(480);
    // The lease is given back.
    await expect(store.acquireLease(D4, 'probe', 60)).resolves.toBeUndefined();
    await store.releaseLease(D4, 'probe');
  });

  it('fails a date with no tape through the definition’s catch: the notice, the failed record; its FAILED event adds nothing', async () => {
    await clearLocalEmails({ endpoints });
    const result = await run(D5);
    expect(result).toMatchObject({ ok: false, status: 'failed' });
    const record = await store.getRun(D5);
    expect(record).toMatchObject({ status: 'failed', delivery: { status: 'sent' } });
    // The run id is the execution's, as Prepare would have named it.
    expect(record?.runId).toBe(runIdFor(D5, { name: result.executionName, startTime: result.startedAt }));
    expect(await fetchLocalEmails({ endpoints })).toHaveLength(1);
    // The execution's own FAILED event reaches notify-failure too: the run was reported, once.
    const outcome = await runHandler(
      'notify-failure',
      statusChange(result, 'FAILED', { snapshotDate: D5, trigger: 'local' }),
      lambdaContext('notify-failure'),
    );
    expect(outcome).toMatchObject({ notified: false });
    expect(await fetchLocalEmails({ endpoints })).toHaveLength(1);
    expect(await store.getRun(D5)).toEqual(record);
  });
});

/** EventBridge's "Step Functions Execution Status Change" event for a local execution, as AWS documents it. */
function statusChange(
  result: LocalRunResult,
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED',
  input: unknown,
): Record<string, unknown> {
  const executionArn = `arn:aws:states:ap-southeast-1:000000000000:execution:RiskAuditWorkflow:${result.executionName}`;
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'ap-southeast-1',
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: 'arn:aws:states:ap-southeast-1:000000000000:stateMachine:RiskAuditWorkflow',
      name: result.executionName,
      status,
      startDate: Date.parse(result.startedAt),
      stopDate: Date.now(),
      input: JSON.stringify(input),
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      error: status === 'FAILED' ? 'TapeMissingError' : null,
      cause: null,
    },
  };
}

describe('Workflow: every ending recorded, a report that can fail safely, re-runs', () => {
  const D6 = '2026-07-06';
  const D7 = '2026-07-07';
  const D8 = '2026-07-08';
  const D9 = '2026-07-09';
  const D10 = '2026-07-10';

  async function landTape(date: string, loans: Loan[]): Promise<void> {
    const file = join(dir, `${date}.csv`);
    await writeTape(file, loans);
    await putFile(`${KEYS.tapePrefix(date)}loans.csv`, await readFile(file));
  }

  it('keeps a finished audit when its report cannot be sent: record and audit.json as they are, the delivery failed, no notice, and the next report names it', async () => {
    const day6: Loan[] = [...generateBook({ loans: 800, date: D6, seed: 24 })];
    await landTape(D6, day6);
    await landTape(D7, [...rollForward(day6, { date: D7, seed: 24 })]);
    await clearLocalEmails({ endpoints });
    // The report step's real use case, its SES answering as for an unverified sender (a refusal, not retried).
    const { createAwsDeps } = await import('../../../shared/adapters/aws-deps.ts');
    const { loadConfig } = await import('../../../shared/config.ts');
    const { sendReport } = await import('../../../shared/use-cases/send-report.ts');
    const { mjmlReportRenderer } = await import('../../../shared/adapters/report/mjml-report-renderer.ts');
    const deps = createAwsDeps(loadConfig(), { reports: mjmlReportRenderer });
    const refused = new StoreError(
      'cannot send the report through SES (MessageRejected): Email address is not verified',
    );
    const refusing = { ...deps, mailer: { sendRaw: () => Promise.reject(refused) } };
    let sends = 0;
    const result = await run(D6, {
      sendReport: true,
      runFunction: (fn, event, context) => {
        if (fn !== 'send-report') return runHandler(fn, event, context);
        sends++;
        return sendReport(RunOutcomeSchema.parse(event), refusing);
      },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(sends).toBe(1);
    const doc = await audit(D6);
    expect(doc.status).toBe(result.outcome.status);
    expect(doc.status).not.toBe('failed');
    expect(await store.getRun(D6)).toMatchObject({
      status: doc.status,
      runId: result.plan.runId,
      error: null,
      delivery: { status: 'failed', error: refused.message },
    });
    expect(await fetchLocalEmails({ endpoints })).toHaveLength(0);

    // The next day's report goes out and says the day before's did not.
    const next = await run(D7, { sendReport: true });
    expect(next.ok).toBe(true);
    expect((await store.getRun(D7))?.delivery).toMatchObject({ status: 'sent' });
    const emails = await fetchLocalEmails({ endpoints });
    expect(emails).toHaveLength(1);
    expect(emails[0]!.subject).toContain(`Risk audit ${D7}`);
    const page = Buffer.from((await artifacts.get(KEYS.reportHtml(D7)))!).toString('utf8');
    expect(page).toContain(`the report of ${D6} was not delivered`);
    // Today's audit.json is the engine's: the delivery finding is the report's.
    expect(JSON.stringify(await audit(D7))).not.toContain('REPORT_NOT_DELIVERED');
  });

  it('keeps the run id when the Lambda service fails a prepare that ran: the retry takes its own lease back and the night is audited', async () => {
    await landTape(D8, [...generateBook({ loans: 500, date: D8, seed: 25 })]);
    let prepares = 0;
    const result = await run(D8, {
      runFunction: async (fn, event, context) => {
        const out = await runHandler(fn, event, context);
        // The first prepare took the lease and recorded the run; its answer is lost on the way back.
        if (fn === 'prepare-run' && prepares++ === 0)
          throw new StatesError(
            'Lambda.ServiceException',
            JSON.stringify({ errorType: 'Lambda.ServiceException', errorMessage: 'Internal error' }),
          );
        return out;
      },
    });
    expect(prepares).toBe(2);
    expect(result).toMatchObject({ ok: true, status: 'done' });
    if (!result.ok) return;
    expect(result.plan.runId).toBe(runIdFor(D8, { name: result.executionName, startTime: result.startedAt }));
    expect(await store.getRun(D8)).toMatchObject({ runId: result.plan.runId, status: result.outcome.status });
  });

  it('records a timed-out run from its status-change event: the failed record and audit.json, the lease back, the notice; once', async () => {
    await landTape(D9, [...generateBook({ loans: 300, date: D9, seed: 26 })]);
    await clearLocalEmails({ endpoints });
    // The synthesized definition with a 4-second execution limit, and a shard that never answers.
    const definition = { ...(await localWorkflowDefinition()), TimeoutSeconds: 4 };
    const input = { snapshotDate: D9, trigger: 'local' as const };
    const result = await runWorkflowLocallyWith(
      input,
      {
        sendReport: false,
        workers: 0,
        runFunction: (fn, event, context) =>
          fn === 'score-shard' ? new Promise<never>(() => undefined) : runHandler(fn, event, context),
      },
      definition,
    );
    expect(result).toMatchObject({ ok: false, status: 'timed-out' });
    // Nothing inside the execution saw the timeout: the run is still running, its lease held.
    const running = await store.getRun(D9);
    expect(running?.status).toBe('running');
    await expect(store.acquireLease(D9, 'probe', 60)).rejects.toThrow(/already running/);

    const event = statusChange(result, 'TIMED_OUT', input);
    expect(await runHandler('notify-failure', event, lambdaContext('notify-failure'))).toMatchObject({
      notified: true,
      recorded: true,
    });
    const sentence = 'the run took longer than its time limit and was stopped';
    expect(await store.getRun(D9)).toMatchObject({
      status: 'failed',
      runId: running?.runId,
      error: sentence,
    });
    expect(await audit(D9)).toMatchObject({ status: 'failed', error: sentence });
    await expect(store.acquireLease(D9, 'probe', 60)).resolves.toBeUndefined();
    await store.releaseLease(D9, 'probe');
    const notices = await fetchLocalEmails({ endpoints });
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toContain(`[FAILED] Risk audit ${D9}`);
    // EventBridge delivers at least once: the same event again sends nothing more.
    expect(await runHandler('notify-failure', event, lambdaContext('notify-failure'))).toMatchObject({
      notified: false,
    });
    expect(await fetchLocalEmails({ endpoints })).toHaveLength(1);
  });

  it('starts a re-run a person asks for inside the idempotency window, and folds an accidental double start into the first', async () => {
    await ensureTables(clients.dynamodb, [IDEMPOTENCY_TABLE]);
    const { DynamoDBPersistenceLayer } = await import('@aws-lambda-powertools/idempotency/dynamodb');
    const started: string[] = [];
    // The starter start-audit is given, here starting the synthesized workflow on the local engine.
    const starter: WorkflowStarter = {
      start: async (request) => {
        const r = await runWorkflowLocallyWith(
          { snapshotDate: request.snapshotDate, trigger: request.trigger as 'rerun' | 'on-demand' },
          { sendReport: false, executionName: executionNameFor(request) },
        );
        started.push(`${request.trigger}:${r.executionName}`);
        return { executionId: r.executionName, startedAt: r.startedAt };
      },
    };
    const starts = onDemandStarter(
      starter,
      new DynamoDBPersistenceLayer({
        tableName: IDEMPOTENCY_TABLE.localName,
        awsSdkV3Client: clients.dynamodb,
      }),
    );
    const first = await starts.start({ snapshotDate: D10 });
    const double = await starts.start({ snapshotDate: D10 });
    expect(double.executionId).toBe(first.executionId);
    expect(started).toHaveLength(1);
    // What `risk-audit invoke --date D --rerun` (and the failure notice's command) sends.
    const rerun = await starts.start({ snapshotDate: D10, rerun: true });
    const again = await starts.start({ snapshotDate: D10, rerun: true });
    expect(new Set([first.executionId, rerun.executionId, again.executionId]).size).toBe(3);
    expect(started.map((s) => s.split(':')[0])).toEqual(['on-demand', 'rerun', 'rerun']);
  });
});
