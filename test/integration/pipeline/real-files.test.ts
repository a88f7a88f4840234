import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAwsClients } from '../../../shared/adapters/aws-clients.ts';
import { ensureTables } from '../../../shared/adapters/dynamo-tables.ts';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import type { LocalRunResult } from '../../../shared/cli/local-runner.ts';
import type { AuditDocument, AuditResult } from '../../../shared/domain/audit-result.ts';
import { generateBook, rollForward } from '../../../shared/domain/generator/book.ts';
import type { Loan } from '../../../shared/domain/loan.ts';
import { clearLocalEmails, fetchLocalEmails } from '../../../shared/local/local-stack.ts';
import { KEYS, RISK_TABLE } from '../../../shared/schema/tables.ts';
import type { StartRunEvent } from '../../../shared/use-cases/workflow-types.ts';
import { pipelineSuite } from './suite.ts';

// Real files through the Lambda handlers on the embedded stack: a Parquet tape, a previous tape
// two days back named explicitly, a tape of another date, a tape the reader cannot read, and a
// tape whose every row is quarantined.

const TABLE = 'risk-audit-real-files-test';
const { endpoints, clients, artifacts, store, putFile } = pipelineSuite(TABLE);
let dir: string;
let run: (event: StartRunEvent, email?: boolean) => Promise<LocalRunResult>;

async function audit(date: string): Promise<AuditDocument> {
  return JSON.parse(Buffer.from((await artifacts.get(KEYS.audit(date)))!).toString('utf8')) as AuditDocument;
}

beforeAll(async () => {
  await ensureTables(clients.dynamodb, [{ ...RISK_TABLE, localName: TABLE }]);
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-real-files-'));
  await clearLocalEmails({ endpoints });
  const { runWorkflowLocally } = await import('../../../shared/cli/local-runner.ts');
  run = (event, email = false) => runWorkflowLocally(event, { sendReport: email });
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(dir, { recursive: true, force: true });
});

describe('Pipeline: real files', () => {
  it('audits a Parquet tape against a previous one two days back, and says so', async () => {
    const day1: Loan[] = [...generateBook({ loans: 2000, date: '2026-09-01', seed: 8 })];
    await writeTape(join(dir, 'd1.parquet'), day1);
    await writeTape(join(dir, 'd3.parquet'), rollForward(day1, { date: '2026-09-03', seed: 8 }));
    await writeTape(join(dir, 'd3.csv'), rollForward(day1, { date: '2026-09-03', seed: 8 }));
    await putFile(`${KEYS.tapePrefix('2026-09-01')}loans.parquet`, await readFile(join(dir, 'd1.parquet')));
    await putFile(`${KEYS.tapePrefix('2026-09-03')}loans.parquet`, await readFile(join(dir, 'd3.parquet')));
    expect((await run({ snapshotDate: '2026-09-01', trigger: 'local' })).ok).toBe(true);
    const r = await run({ snapshotDate: '2026-09-03', previousSnapshotDate: '2026-09-01', trigger: 'local' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.previousSnapshotDate).toBe('2026-09-01');
    const doc = (await audit('2026-09-03')) as AuditResult;
    expect(doc.status).toBe('ok');
    expect(doc.previousSnapshotDate).toBe('2026-09-01');
    expect(doc.drift.newLoans).not.toBeNull();
    expect(doc.input.rowsRead).toBe(doc.input.rowsValid);
  });

  it('refuses a previous date that is not before the run date, in one sentence', async () => {
    const r = await run({ snapshotDate: '2026-09-03', previousSnapshotDate: '2026-09-03', trigger: 'local' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain('previousSnapshotDate must be before snapshotDate');
  });

  it('fails a tape whose rows are mostly of another date, naming both, with the run record and the notice', async () => {
    const loans = [...generateBook({ loans: 300, date: '2026-09-09', seed: 2 })];
    await writeTape(join(dir, 'other.csv'), loans);
    await putFile(`${KEYS.tapePrefix('2026-09-10')}loans.csv`, await readFile(join(dir, 'other.csv')));
    const r = await run({ snapshotDate: '2026-09-10', trigger: 'local' }, true);
    expect(r.ok).toBe(false);
    const sentence = `the tape is not for 2026-09-10: 300 of its 300 rows carry snapshot_date 2026-09-09, while the run's date is 2026-09-10 (its S3 partition ${KEYS.tapePrefix('2026-09-10')}); deliver the tape under its own date, or give that date`;
    if (!r.ok) expect(r.reason).toBe(sentence);
    const doc = await audit('2026-09-10');
    expect(doc).toMatchObject({ status: 'failed', error: sentence });
    expect((await store.getRun('2026-09-10'))?.status).toBe('failed');
    // Every row read is still in the date's quarantine file.
    const quarantine = Buffer.from((await artifacts.get(KEYS.quarantine('2026-09-10')))!).toString('utf8');
    expect(quarantine.trimEnd().split('\n')).toHaveLength(301);
    const mails = await fetchLocalEmails({ endpoints });
    expect(mails.some((m) => m.subject.includes('2026-09-10'))).toBe(true);
  });

  it('records a tape it cannot read at all as a failed run, like one that breaks midway', async () => {
    await putFile(`${KEYS.tapePrefix('2026-09-11')}loans.csv.gz`, Buffer.from('not gzip at all'));
    const r = await run({ snapshotDate: '2026-09-11', trigger: 'local' });
    expect(r.ok).toBe(false);
    const doc = await audit('2026-09-11');
    expect(doc.status).toBe('failed');
    expect(doc.status === 'failed' ? doc.error : '').toMatch(
      /loans\.csv\.gz cannot be read: it is named \.gz but is not gzip data/,
    );
    expect((await store.getRun('2026-09-11'))?.status).toBe('failed');
  });

  it('fails a tape whose every row is quarantined, saying so, and keeps every row', async () => {
    const header =
      'snapshot_date,loan_id,borrower_id,borrower_type,product,principal,outstanding_principal,annual_rate,term_months,origination_date,maturity_date,days_past_due';
    const rows = Array.from(
      { length: 40 },
      (_, i) => `2026-09-12,L${i},B${i},individual,credit_loan,-1,0,0.1,12,2026-01-01,2027-01-01,0`,
    );
    await writeFile(join(dir, 'bad.csv'), `${header}\n${rows.join('\n')}\n`);
    await putFile(`${KEYS.tapePrefix('2026-09-12')}loans.csv`, await readFile(join(dir, 'bad.csv')));
    const r = await run({ snapshotDate: '2026-09-12', trigger: 'local' });
    expect(r.ok).toBe(false);
    const doc = await audit('2026-09-12');
    expect(doc.status === 'failed' ? doc.error : '').toBe(
      'every row was quarantined (40 rows: NEGATIVE 40); quarantine.csv lists each with its line and reasons',
    );
    const quarantine = Buffer.from((await artifacts.get(KEYS.quarantine('2026-09-12')))!).toString('utf8');
    expect(quarantine.trimEnd().split('\n')).toHaveLength(41);
  });
});
