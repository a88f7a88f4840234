import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';

const root = join(import.meta.dirname, '..', '..', '..');
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'risk-audit-examples-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('Command: risk-audit score on the shipped examples (mapping applied from the first read on)', () => {
  it('audits the Chinese-header tape through its mapping', async () => {
    const doc = await scoreLocal({
      snapshot: join(root, 'examples', 'chinese-tape.csv'),
      mapping: join(root, 'examples', 'chinese-header-mapping.yaml'),
      out: join(out, 'cn'),
    });
    if (doc.status === 'failed') throw new Error(doc.error);
    expect(doc.input.rowsRead).toBe(8);
    expect(doc.input.rowsValid + doc.input.rowsQuarantined).toBe(8);
    expect(doc.portfolio.loanCount).toBe(doc.input.rowsValid);
  });

  it('audits the real Prosper sample through its mapping', async () => {
    const doc = await scoreLocal({
      snapshot: join(root, 'examples', 'data', 'prosper', 'prosperLoanData_199rows.csv'),
      mapping: join(root, 'examples', 'prosper-mapping.yaml'),
      out: join(out, 'prosper'),
    });
    if (doc.status === 'failed') throw new Error(doc.error);
    expect(doc.input.rowsRead).toBe(199);
    expect(doc.input.rowsValid).toBe(194);
    expect(doc.input.quarantineByCode).toEqual({ DUPLICATE_LOAN_ID: 1, NEGATIVE: 4 });
  });
});
