import { describe, expect, it } from 'vitest';
import { bucketOfId } from '../../../shared/domain/store/score-buckets.ts';
import type { SortedLines } from '../../../shared/domain/store/score-file.ts';
import { auditShard, type ScoredLoan } from '../../../shared/use-cases/audit-engine.ts';
import { defaultPolicy } from '../../unit/engine/helpers.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../../unit/ingest/helpers.ts';

const policy = defaultPolicy();

function linesOf(lines: SortedLines): ScoredLoan[] {
  const text = Buffer.concat([...lines.bytes()]).toString('utf8');
  if (text.length === 0) return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as ScoredLoan);
}

async function scoreLinesOf(ids: string[]): Promise<ScoredLoan[]> {
  const rows = ids.map((id, i) =>
    goodRow({ loan_id: id, borrower_id: `B${i % 3}`, days_past_due: String(i * 20), region: 'Hubei' }),
  );
  const shard = await auditShard([memoryPart('t.csv', csvText(rows))], {
    snapshotDate: '2026-11-25',
    policy,
    previous: null,
    keepScores: true,
    quarantine: collectQuarantine(),
  });
  expect(shard.scoreLines).toHaveLength(1);
  return linesOf(shard.scoreLines[0]!);
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

  it('splits the lines into loan-id buckets by the id hash, each bucket sorted', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `L${String(39 - i).padStart(3, '0')}`);
    const rows = ids.map((id) => goodRow({ loan_id: id }));
    const shard = await auditShard([memoryPart('t.csv', csvText(rows))], {
      snapshotDate: '2026-11-25',
      policy,
      previous: null,
      keepScores: true,
      scoreBuckets: 4,
      quarantine: collectQuarantine(),
    });
    expect(shard.scoreLines).toHaveLength(4);
    const buckets = shard.scoreLines.map((l) => linesOf(l).map((s) => s.loanId));
    for (const [b, list] of buckets.entries()) {
      expect(list).toEqual([...list].sort());
      for (const id of list) expect(bucketOfId(id, 4)).toBe(b);
    }
    expect(buckets.flat().sort()).toEqual([...ids].sort());
    // 40 ids over 4 buckets: none is empty (the hash spreads them).
    expect(buckets.every((list) => list.length > 0)).toBe(true);
  });

  it('keeps no lines unless asked', async () => {
    const shard = await auditShard([memoryPart('t.csv', csvText([goodRow()]))], {
      snapshotDate: '2026-11-25',
      policy,
      previous: null,
      quarantine: collectQuarantine(),
    });
    expect(shard.scoreLines.map((l) => l.size)).toEqual([0]);
    expect(shard.intake.rowsValid).toBe(1);
  });
});
