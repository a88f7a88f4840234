import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRules } from '../../../shared/cli/commands/rules.ts';
import { ConfigError } from '../../../shared/errors.ts';

const LENDERS = join(import.meta.dirname, '..', '..', '..', 'policies', 'lenders');

describe('Command: risk-audit rules', () => {
  it("lists the default pack's rules on a date, grouped by status, with thresholds and sources", async () => {
    const text = await describeRules({ date: '2026-11-30' });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'Rule pack default 2026.12.0 for an online micro-loan company, amounts in CNY, on 2026-11-30',
    );
    expect(lines).toContain('In force (12)');
    expect(lines).toContain('Not yet in force (0)');
    expect(lines).toContain('Not applicable (9)');
    const cost = lines.find((l) => l.startsWith('COST_ABOVE_24_NEW '))!;
    expect(cost).toMatch(
      /breach +annualRate > 0\.24, originated on or after 2025-12-24 +2025-12-24 +Guidelines/,
    );
    expect(cost).toMatch(/no public number \(supervisory guidance\)$/);
    expect(lines.find((l) => l.startsWith('BORROWER_NET_ASSETS_10 '))).toMatch(
      /needs the lender's net assets, which the rule pack leaves empty/,
    );
    expect(lines.find((l) => l.startsWith('LPR_1Y '))).toMatch(/0\.03 +2026-12-01 +one-year loan prime rate/);
  });

  it('reads the rules of another lender from a lender profile, and marks a stale parameter', async () => {
    const bank = await describeRules({ date: '2027-03-01', policy: join(LENDERS, 'example-bank.yaml') });
    expect(bank).toMatch(/^Rule pack default 2026\.12\.0 for a bank, amounts in CNY, on 2027-03-01\n/);
    expect(bank).toContain('In force (11)');
    expect(bank.split('\n').find((l) => l.startsWith('CLASSIFICATION_BELOW_FLOOR '))).toMatch(/ breach /);
    expect(bank).toMatch(/2026-12-01 \(stale: 90 days\)/);
  });

  it('lists every rule not yet in force before the rules', async () => {
    const text = await describeRules({ date: '2017-01-01' });
    expect(text).toContain('In force (0)');
    expect(text).toContain('Not yet in force (21)');
    expect(text).toMatch(/COST_ABOVE_36 +in force from 2017-12-01, after the tape's date 2017-01-01/);
  });

  it('prints JSON for machines', async () => {
    const json = JSON.parse(await describeRules({ date: '2026-11-30', json: true })) as {
      rules: { code: string; status: string; source: { number: string | null } }[];
      lender: { licence: string };
      parameters: { code: string; stale: boolean; valueOnDate: number }[];
    };
    expect(json.rules).toHaveLength(21);
    expect(json.lender.licence).toBe('online_micro_loan_company');
    expect(json.rules.find((r) => r.code === 'MINOR_BORROWER')).toMatchObject({
      status: 'in_force',
      source: { number: null },
    });
    expect(json.parameters).toEqual([
      expect.objectContaining({ code: 'LPR_1Y', stale: false, valueOnDate: 0.03 }),
    ]);
  });

  it('refuses a date that is not one, and a broken pack, in one sentence', async () => {
    await expect(describeRules({ date: '30/11/2026' })).rejects.toThrow(
      new ConfigError('--date must be a date YYYY-MM-DD, got 30/11/2026'),
    );
    await expect(describeRules({ policy: join(LENDERS, 'nope.yaml') })).rejects.toThrow(/does not exist/);
  });
});
