import { describe, expect, it } from 'vitest';
import { auditShard, type ScoredLoan } from '../../../shared/use-cases/audit-engine.ts';
import { defaultPolicy } from '../../unit/engine/helpers.ts';
import { csvText, goodRow, memoryPart } from '../../unit/ingest/helpers.ts';

const policy = defaultPolicy();

async function scoreLinesOf(ids: string[]): Promise<ScoredLoan[]> {
  const rows = ids.map((id, i) =>
    goodRow({ loan_id: id, borrower_id: `B${i % 3}`, days_past_due: String(i * 20), region: 'Hubei' }),
  );
  const shard = await auditShard([memoryPart('t.csv', csvText(rows))], {
    snapshotDate: '2026-11-25',
    policy,
    previous: null,
    keepScores: true,
  });
  const text = Buffer.concat([...shard.scoreLines.bytes()]).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as ScoredLoan);
}

describe('Function: auditShard (score lines)', () => {
  it('keeps one line per valid loan, sorted by loan id, whether the tape is sorted or not', async () => {
    const sorted = await scoreLinesOf(['A1', 'A2', 'B1', 'C9']);
    const shuffled = await scoreLinesOf(['C9', 'A2', 'B1', 'A1']);
    expect(sorted.map((s) => s.loanId)).toEqual(['A1', 'A2', 'B1', 'C9']);
    expect(shuffled.map((s) => s.loanId)).toEqual(['A1', 'A2', 'B1', 'C9']);
    // Each line is its own loan's state: C9 is 0 days past due in the shuffled tape, 60 in the sorted one.
    expect(sorted.find((s) => s.loanId === 'C9')!.dpdBucket).toBe('31-60');
    expect(shuffled.find((s) => s.loanId === 'C9')!.dpdBucket).toBe('0');
    expect(shuffled[0]).toMatchObject({ region: 'Hubei', product: 'credit_loan', outstanding: 6000 });
  });

  it('keeps no lines unless asked', async () => {
    const shard = await auditShard([memoryPart('t.csv', csvText([goodRow()]))], {
      snapshotDate: '2026-11-25',
      policy,
      previous: null,
    });
    expect(shard.scoreLines.size).toBe(0);
    expect(shard.intake.rowsValid).toBe(1);
  });
});
