import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTape } from '../../../shared/adapters/tape/tape-writer.ts';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';
import { usePolicy } from '../../../shared/cli/local-pipeline.ts';
import { generateBook } from '../../../shared/domain/generator/book.ts';
import { ConfigError } from '../../../shared/errors.ts';

const root = join(import.meta.dirname, '..', '..', '..');

// `--policy FILE`: score passes it to every step; run and demo set it (POLICY_FILE) before any step loads.
describe('Option: --policy FILE', { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risk-audit-policy-'));
    await writeTape(join(dir, 'day.csv'), generateBook({ loans: 2000, date: '2026-11-25', seed: 31 }));
    // The default appetite with every product's loss given default halved.
    const appetite = await readFile(join(root, 'policies', 'risk-appetite.yaml'), 'utf8');
    const halved = appetite
      .replace('order_financing: 0.45', 'order_financing: 0.225')
      .replace('credit_loan: 0.75', 'credit_loan: 0.375')
      .replace('consumer_credit: 0.85', 'consumer_credit: 0.425');
    expect(halved).not.toBe(appetite);
    await writeFile(join(dir, 'appetite.yaml'), halved);
  });
  afterAll(async () => {
    delete process.env.POLICY_FILE;
    await rm(dir, { recursive: true, force: true });
  });

  it('halves the expected loss in score when every LGD is halved (EL = PD x LGD x EAD), and writes the report', async () => {
    const base = await scoreLocal({ snapshot: join(dir, 'day.csv'), out: join(dir, 'base') });
    const half = await scoreLocal({
      snapshot: join(dir, 'day.csv'),
      out: join(dir, 'half'),
      policy: join(dir, 'appetite.yaml'),
    });
    if (base.status === 'failed' || half.status === 'failed') throw new Error('unexpected failed audit');
    expect(base.portfolio.expectedLoss).toBeGreaterThan(0);
    expect(half.portfolio.expectedLoss).toBeCloseTo(base.portfolio.expectedLoss / 2, 0);
    expect(half.portfolio.totalOutstanding).toBe(base.portfolio.totalOutstanding);
    // score --out writes the report beside audit.json, as run does.
    expect(await readFile(join(dir, 'half', 'report.txt'), 'utf8')).toContain('2026-11-25');
    expect(await readFile(join(dir, 'half', 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('is checked before anything runs and then read by every step of run and demo', async () => {
    await expect(usePolicy(join(dir, 'missing.yaml'))).rejects.toThrow(ConfigError);
    await expect(usePolicy(join(dir, 'missing.yaml'))).rejects.toThrow(/missing\.yaml does not exist/);
    expect(process.env.POLICY_FILE).toBeUndefined();
    await usePolicy(join(dir, 'appetite.yaml'));
    expect(process.env.POLICY_FILE).toBe(resolve(dir, 'appetite.yaml'));
  });
});
