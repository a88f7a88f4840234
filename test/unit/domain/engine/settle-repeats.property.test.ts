import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { earlierIdsByShard } from '../../../../shared/domain/engine/cross-shard.ts';
import { decodeIdHashes, encodeIdHashes } from '../../../../shared/domain/engine/id-hashes.ts';
import { auditShard, type ShardAudit } from '../../../../shared/domain/engine/shard-audit.ts';
import { finalizeShards, mergeShards } from '../../../../shared/domain/engine/shard-merge.ts';
import type { QuarantinedRow } from '../../../../shared/domain/tape/intake.ts';
import type { TapePartInput } from '../../../../shared/ports/tape-source.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../tape/helpers.ts';
import { defaultPolicy } from './helpers.ts';

const DATE = '2026-11-25';
const policy = defaultPolicy(DATE);

type Kind = 'ok' | 'negative' | 'otherDate';
const rowArb = fc.record({
  id: fc.integer({ min: 0, max: 9 }),
  kind: fc.constantFrom<Kind>('ok', 'ok', 'ok', 'negative', 'otherDate'),
  principal: fc.integer({ min: 1_000, max: 90_000 }),
  borrower: fc.integer({ min: 0, max: 3 }),
});
type Row = { id: number; kind: Kind; principal: number; borrower: number };

function cellsOf(row: Row): Record<string, string> {
  return goodRow({
    loan_id: `L${row.id}`,
    borrower_id: `B${row.borrower}`,
    principal: row.kind === 'negative' ? '-5' : String(row.principal),
    outstanding_principal: String(Math.round(row.principal * 0.8)),
    snapshot_date: row.kind === 'otherDate' ? '2026-11-24' : DATE,
  });
}

async function audit(parts: readonly TapePartInput[], earlierIds?: Uint32Array) {
  const quarantine = collectQuarantine();
  const shard = await auditShard(nodeTapeDecoder, parts, {
    snapshotDate: DATE,
    currency: 'CNY',
    policy,
    previous: null,
    keepIndexEntries: true,
    quarantine,
    ...(earlierIds === undefined ? {} : { earlierIds }),
  });
  return { shard, rows: quarantine.rows };
}

/** The audit.json merge-audit would write from these shards, or the sentence refusing the tape. */
function auditOf(shards: readonly ShardAudit[]): string {
  const merged = mergeShards(shards);
  try {
    return JSON.stringify(
      finalizeShards(merged, {
        snapshotDate: DATE,
        dateSource: '--date',
        previousSnapshotDate: null,
        previousIntake: null,
        policy,
        borrowerRefKey: 'k',
        tapeFindings: [],
      }),
    );
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

describe('Settling repeats across shards (merge-audit finds them, the shards holding them run again seeded)', () => {
  it('gives the one-pass audit and quarantine rows for any cut of a tape with repeats into parts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 3, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        async (rows, cutSeeds) => {
          // Prepare: the rows cut into up to five part files (each a shard), in tape order. The
          // first row's id is valid somewhere, so the tape is auditable.
          const all = [{ ...rows[0]!, kind: 'ok' as const }, ...rows.slice(1)];
          const cuts = [...new Set(cutSeeds.map((c) => 1 + (c % (all.length - 1))))].sort((a, b) => a - b);
          const bounds = [0, ...cuts, all.length];
          const parts = bounds.slice(1).map((end, i) => {
            const start = bounds[i]!;
            return memoryPart(`p${i}.csv`, csvText(all.slice(start, end).map(cellsOf)), 48);
          });

          // Act: one pass over every part; then each part alone, merge-audit's check of their
          // ids in order, and the shards holding earlier ids again, given those ids (through the
          // stored form, as the step reads them).
          const one = await audit(parts);
          const first = await Promise.all(parts.map((p) => audit([p])));
          const earlier = earlierIdsByShard(
            first.map(({ shard }) => ({
              ...shard.indexEntries,
              quarantinedFirst: [...shard.quarantinedIdHashes].map((h) => h.toString(16).padStart(16, '0')),
            })),
          );
          const settled = await Promise.all(
            first.map((f, i) => {
              const ids = earlier[i];
              return ids === null || ids === undefined
                ? f
                : audit([parts[i]!], decodeIdHashes(encodeIdHashes(ids), `shard ${i}`));
            }),
          );
          const again = earlierIdsByShard(
            settled.map(({ shard }) => ({
              ...shard.indexEntries,
              quarantinedFirst: [...shard.quarantinedIdHashes].map((h) => h.toString(16).padStart(16, '0')),
            })),
          );

          // Assess: no repeat is left, the quarantine rows are the one pass's in order and the
          // audit is the one pass's, byte for byte.
          expect(again.every((e) => e === null)).toBe(true);
          const rowsOf = (list: { rows: QuarantinedRow[] }[]) => list.flatMap((s) => s.rows);
          expect(rowsOf(settled).map((r) => [r.line, r.codes])).toEqual(
            one.rows.map((r) => [r.line, r.codes]),
          );
          expect(rowsOf(settled).map((r) => r.raw)).toEqual(one.rows.map((r) => r.raw));
          expect(auditOf(settled.map((s) => s.shard))).toBe(auditOf([one.shard]));
        },
      ),
      { numRuns: 60, seed: 20261203 },
    );
  });
});
