import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nodeGzip } from '../../../../shared/adapters/gzip.ts';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { auditShard } from '../../../../shared/domain/engine/shard-audit.ts';
import { bucketOfId } from '../../../../shared/domain/store/score-buckets.ts';
import {
  decodeScores,
  type ScoredLoan,
  type SortedScores,
} from '../../../../shared/domain/store/score-file.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../tape/helpers.ts';
import { defaultPolicy } from './helpers.ts';

const policy = defaultPolicy();

function linesOf(scores: SortedScores): ScoredLoan[] {
  return decodeScores(gzipSync(Buffer.concat([...scores.bytes()])), nodeGzip);
}

/** A shard of these rows audited with its score records kept. */
function scoreRows(rows: Parameters<typeof csvText>[0]) {
  return auditShard(nodeTapeDecoder, [memoryPart('t.csv', csvText(rows))], {
    snapshotDate: '2026-11-25',
    policy,
    previous: null,
    keepScores: true,
    quarantine: collectQuarantine(),
  });
}

async function scoresOf(ids: string[]): Promise<ScoredLoan[]> {
  const rows = ids.map((id, i) =>
    goodRow({ loan_id: id, borrower_id: `B${i % 3}`, days_past_due: String(i * 20), region: 'Hubei' }),
  );
  const shard = await scoreRows(rows);
  expect(shard.scores).toHaveLength(1);
  return linesOf(shard.scores[0]!);
}

describe('Function: auditShard (score records)', () => {
  it('keeps one record per valid loan, sorted by loan id, whether the tape is sorted or not', async () => {
    const sorted = await scoresOf(['A1', 'A2', 'B1', 'C9']);
    const shuffled = await scoresOf(['C9', 'A2', 'B1', 'A1']);
    expect(sorted.map((s) => s.loanId)).toEqual(['A1', 'A2', 'B1', 'C9']);
    expect(shuffled.map((s) => s.loanId)).toEqual(['A1', 'A2', 'B1', 'C9']);
    // Each record is its own loan's state: C9 is 0 days past due in the shuffled tape, 60 in the sorted one.
    expect(sorted.find((s) => s.loanId === 'C9')!.dpdBucket).toBe('31-60');
    expect(shuffled.find((s) => s.loanId === 'C9')!.dpdBucket).toBe('0');
    expect(shuffled[0]).toMatchObject({ region: 'Hubei', product: 'credit_loan', outstanding: 6000 });
  });

  it('splits the records into loan-id buckets by the id hash, each bucket sorted', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `L${String(39 - i).padStart(3, '0')}`);
    const rows = ids.map((id) => goodRow({ loan_id: id }));
    const shard = await auditShard(nodeTapeDecoder, [memoryPart('t.csv', csvText(rows))], {
      snapshotDate: '2026-11-25',
      policy,
      previous: null,
      keepScores: true,
      scoreBuckets: 4,
      quarantine: collectQuarantine(),
    });
    expect(shard.scores).toHaveLength(4);
    const buckets = shard.scores.map((l) => linesOf(l).map((s) => s.loanId));
    for (const [b, list] of buckets.entries()) {
      expect(list).toEqual([...list].sort());
      for (const id of list) expect(bucketOfId(id, 4)).toBe(b);
    }
    expect(buckets.flat().sort()).toEqual([...ids].sort());
    // 40 ids over 4 buckets: none is empty (the hash spreads them).
    expect(buckets.every((list) => list.length > 0)).toBe(true);
  });

  it("keeps each loan's credit score band, from the tape's credit_score, for all seven bands", async () => {
    // Prepare: a loan per band, on either side of each bound; an empty credit_score is 'missing'.
    const cases = [
      ['C0', '', 'missing'],
      ['C1', '549', '<550'],
      ['C2', '550', '550-599'],
      ['C3', '649', '600-649'],
      ['C4', '650', '650-699'],
      ['C5', '749', '700-749'],
      ['C6', '750', '750+'],
    ] as const;
    const rows = cases.map(([id, score]) => goodRow({ loan_id: id, credit_score: score }));

    // Act
    const shard = await scoreRows(rows);

    // Assess: the records, read back from the shard's score file, carry the band.
    expect(shard.intake.rowsValid).toBe(7);
    expect(linesOf(shard.scores[0]!).map((s) => [s.loanId, s.creditBand])).toEqual(
      cases.map(([id, , band]) => [id, band]),
    );
  });

  it('keeps no records unless asked', async () => {
    const shard = await auditShard(nodeTapeDecoder, [memoryPart('t.csv', csvText([goodRow()]))], {
      snapshotDate: '2026-11-25',
      policy,
      previous: null,
      quarantine: collectQuarantine(),
    });
    expect(shard.scores.map((l) => l.size)).toEqual([0]);
    expect(shard.intake.rowsValid).toBe(1);
  });
});
