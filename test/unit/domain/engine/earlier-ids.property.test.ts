import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { hash64, hashOut } from '../../../../shared/domain/engine/hash.ts';
import { auditShard } from '../../../../shared/domain/engine/shard-audit.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import type { QuarantinedRow } from '../../../../shared/domain/tape/intake.ts';
import { scanTapeWith, type TapeScanResult } from '../../../../shared/domain/tape/scan.ts';
import type { ScanOptions } from '../../../../shared/domain/tape/scan-options.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../tape/helpers.ts';
import { defaultPolicy } from './helpers.ts';

const DATE = '2026-11-25';
type Kind = 'ok' | 'negative' | 'otherDate' | 'noId';

/** A tape row: a loan id out of few (so ids repeat) and what is wrong with it, if anything. */
const rowArb = fc.record({
  id: fc.integer({ min: 0, max: 7 }),
  kind: fc.constantFrom<Kind>('ok', 'ok', 'ok', 'negative', 'otherDate', 'noId'),
});
type Row = { id: number; kind: Kind };

function idOf(row: Row): string {
  return row.kind === 'noId' ? '' : `L${row.id}`;
}

function cellsOf(row: Row): Record<string, string> {
  return goodRow({
    loan_id: idOf(row),
    principal: row.kind === 'negative' ? '-5' : '10000',
    snapshot_date: row.kind === 'otherDate' ? '2026-11-24' : DATE,
  });
}

/** The [hi, lo] pairs of the ids' hashes, as the validator hashes a raw loan id. */
function pairsOf(ids: Iterable<string>): Uint32Array {
  const out: number[] = [];
  for (const id of ids) {
    hash64(id);
    out.push(hashOut.hi, hashOut.lo);
  }
  return Uint32Array.from(out);
}

interface Scanned {
  loans: string[];
  quarantined: QuarantinedRow[];
  /** The ids whose first row was quarantined, as hi:lo hash keys. */
  firstQuarantined: string[];
  intake: TapeScanResult;
}

async function scan(parts: Parameters<typeof scanTapeWith>[1], earlierIds?: Uint32Array): Promise<Scanned> {
  const loans: Loan[] = [];
  const quarantined: QuarantinedRow[] = [];
  const firstQuarantined: string[] = [];
  const options: ScanOptions = { snapshotDate: DATE, currency: 'CNY', earlierIds };
  const intake = await scanTapeWith(nodeTapeDecoder, parts, options, {
    loan: (l) => loans.push(l),
    quarantine: (q) => quarantined.push(q),
    firstIdQuarantined: (hi, lo) => firstQuarantined.push(`${hi}:${lo}`),
  });
  return { loans: loans.map((l) => l.loanId), quarantined, firstQuarantined, intake };
}

function keyOf(id: string): string {
  hash64(id);
  return `${hashOut.hi}:${hashOut.lo}`;
}

describe('Function: scanTapeWith with earlierIds (property)', () => {
  it("reads a tape cut into two byte ranges, the second given the first one's ids, as one pass does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 24 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 16, max: 512 }),
        async (generated, sorted, cutSeed, chunk) => {
          // Prepare: the rows (sorted by id or not: the id set's in-order path must not hide a
          // seeded id), the text and a cut anywhere in it, header included.
          const rows = sorted ? [...generated].sort((a, b) => idOf(a).localeCompare(idOf(b))) : generated;
          const text = csvText(rows.map(cellsOf));
          const cut = 1 + (cutSeed % (text.length - 1));
          const lines = text.split('\n');
          // Part A holds the rows that start before the cut (ASCII: a character is a byte).
          let at = lines[0]!.length + 1;
          const idsOfA = new Set<string>();
          rows.forEach((row, k) => {
            if (at < cut && idOf(row) !== '') idsOfA.add(idOf(row));
            at += lines[k + 1]!.length + 1;
          });
          const part = (range?: { start: number; end: number }) => ({
            ...memoryPart('t.csv', text, chunk),
            ...(range === undefined ? {} : { range }),
          });

          // Act
          const one = await scan([part()]);
          const a = await scan([part({ start: 0, end: cut })]);
          const b = await scan([part({ start: cut, end: text.length })], pairsOf(idsOfA));

          // Assess: the model first (the first row of an id wins, valid or not), then A + B
          // against the one pass, row for row.
          const first = new Set<string>();
          const valid: string[] = [];
          const firstBad = new Set<string>();
          for (const row of rows) {
            const id = idOf(row);
            const repeat = id !== '' && first.has(id);
            if (id !== '' && !repeat) first.add(id);
            if (row.kind === 'ok' && !repeat) valid.push(id);
            if (row.kind !== 'ok' && row.kind !== 'noId' && !repeat) firstBad.add(keyOf(id));
          }
          expect(one.loans).toEqual(valid);
          expect(one.quarantined).toHaveLength(rows.length - valid.length);
          expect(new Set(one.firstQuarantined)).toEqual(firstBad);

          expect([...a.loans, ...b.loans]).toEqual(one.loans);
          expect([...a.quarantined, ...b.quarantined]).toEqual(one.quarantined);
          expect([...a.firstQuarantined, ...b.firstQuarantined].sort()).toEqual(
            [...one.firstQuarantined].sort(),
          );
          for (const count of ['rowsRead', 'rowsValid', 'rowsQuarantined', 'duplicateLoanIds'] as const)
            expect(a.intake[count] + b.intake[count], count).toBe(one.intake[count]);
        },
      ),
      { numRuns: 200, seed: 20261203 },
    );
  });

  it("reads a tape of two parts, the second given the first one's ids, as one pass does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 2, maxLength: 24 }),
        fc.boolean(),
        fc.nat(),
        async (generated, sorted, cutSeed) => {
          // Prepare: the rows cut between two part files, each with its header.
          const rows = sorted ? [...generated].sort((a, b) => idOf(a).localeCompare(idOf(b))) : generated;
          const cut = 1 + (cutSeed % (rows.length - 1));
          const partA = memoryPart('a.csv', csvText(rows.slice(0, cut).map(cellsOf)), 64);
          const partB = memoryPart('b.csv', csvText(rows.slice(cut).map(cellsOf)), 64);
          const idsOfA = new Set(
            rows
              .slice(0, cut)
              .map(idOf)
              .filter((id) => id !== ''),
          );

          // Act
          const one = await scan([partA, partB]);
          const a = await scan([partA]);
          const b = await scan([partB], pairsOf(idsOfA));

          // Assess
          expect([...a.loans, ...b.loans]).toEqual(one.loans);
          expect([...a.quarantined, ...b.quarantined]).toEqual(one.quarantined);
          expect([...a.firstQuarantined, ...b.firstQuarantined].sort()).toEqual(
            [...one.firstQuarantined].sort(),
          );
        },
      ),
      { numRuns: 150, seed: 1203 },
    );
  });
});

describe('Function: auditShard with earlierIds', () => {
  it('quarantines the rows of ids an earlier shard had and does not report them as first quarantined', async () => {
    // Prepare: shard 0 held L2 (valid) and L4 (quarantined: negative principal); shard 1 reads
    // L1, L2, L3, L4 and L5 in order, then L1 again.
    const rows = ['L1', 'L2', 'L3', 'L4', 'L5', 'L1'].map((id) => goodRow({ loan_id: id }));
    const quarantine = collectQuarantine();

    // Act
    const shard = await auditShard(nodeTapeDecoder, [memoryPart('p1.csv', csvText(rows))], {
      snapshotDate: DATE,
      currency: 'CNY',
      policy: defaultPolicy(),
      previous: null,
      keepIdHashes: true,
      earlierIds: pairsOf(['L2', 'L4']),
      quarantine,
    });

    // Assess: lines 3 (L2), 5 (L4) and 7 (L1 again) are repeats; L1, L3 and L5 are valid; no id
    // had its first row quarantined here.
    expect(quarantine.rows.map((r) => [r.line, r.codes])).toEqual([
      [3, ['DUPLICATE_LOAN_ID']],
      [5, ['DUPLICATE_LOAN_ID']],
      [7, ['DUPLICATE_LOAN_ID']],
    ]);
    expect(shard.intake).toMatchObject({
      rowsRead: 6,
      rowsValid: 3,
      rowsQuarantined: 3,
      duplicateLoanIds: 3,
    });
    expect(shard.idHashes).toHaveLength(3);
    expect(shard.quarantinedIdHashes).toHaveLength(0);
  });
});
