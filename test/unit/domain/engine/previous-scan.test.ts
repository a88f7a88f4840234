import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import {
  loadPreviousRange,
  loadPreviousTape,
  mergePreviousRanges,
} from '../../../../shared/domain/engine/previous-scan.ts';
import { PreviousTape } from '../../../../shared/domain/engine/previous-tape.ts';
import { csvText, goodRow, memoryPart } from '../tape/helpers.ts';

// 40 rows of a previous day: mixed buckets, bands and products, one bad row, and L3 repeated
// late in the tape (so any cut in the middle puts the repeat in another range than the first).
const rows = Array.from({ length: 40 }, (_, i) =>
  goodRow({
    snapshot_date: '2026-11-24',
    loan_id: i === 37 ? 'L3' : `L${i}`,
    days_past_due: String([0, 5, 45, 75, 120, 200, 400][i % 7]),
    credit_score: i % 5 === 0 ? '' : String(520 + i * 7),
    product: ['credit_loan', 'order_financing', 'consumer_credit'][i % 3]!,
    principal: i === 20 ? 'bad' : '10000',
  }),
);
const tape = csvText(rows);
const size = Buffer.byteLength(tape);

describe('Function: mergePreviousRanges', () => {
  it('gives the index and intake counts of one pass, for any cut of the tape into ranges', async () => {
    const whole = await loadPreviousTape(nodeTapeDecoder, [memoryPart('prev.csv', tape, 97)], {});
    // One pass: 38 valid loans (L3's repeat and the bad row quarantined).
    expect(whole.previous.validCount).toBe(38);
    expect(whole.intake.rowsValid).toBe(38);
    expect(whole.intake.duplicateLoanIds).toBe(1);
    for (const cuts of [
      [0, size],
      [0, size >> 1, size],
      [0, 300, 1500, 2900, size],
    ]) {
      const ranges = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const part = { ...memoryPart('prev.csv', tape, 97), range: { start: cuts[i]!, end: cuts[i + 1]! } };
        ranges.push(await loadPreviousRange(nodeTapeDecoder, [part], { snapshotDate: '2026-11-24' }));
      }
      const merged = mergePreviousRanges('2026-11-24', ranges);
      expect(merged.previous.canonical(), String(cuts)).toEqual(whole.previous.canonical());
      expect(merged.intake.rowsValid, String(cuts)).toBe(38);
      expect(merged.intake.rowsQuarantined, String(cuts)).toBe(2);
      expect(merged.intake.duplicateLoanIds, String(cuts)).toBe(1);
      expect(merged.intake.quarantineByCode.DUPLICATE_LOAN_ID, String(cuts)).toBe(1);
    }
  });

  it('keeps the first row of a repeated id: its bucket, not the repeat', async () => {
    // L3 first at 75 days past due, then repeated at 0: the index must say bucket 61-90.
    const ranges = [
      await loadPreviousRange(
        nodeTapeDecoder,
        [memoryPart('a.csv', csvText([goodRow({ loan_id: 'L3', days_past_due: '75' })]))],
        {},
      ),
      await loadPreviousRange(
        nodeTapeDecoder,
        [memoryPart('b.csv', csvText([goodRow({ loan_id: 'L3', days_past_due: '0' })]))],
        {},
      ),
    ];
    const { previous, intake } = mergePreviousRanges('2026-11-25', ranges);
    expect(previous.lookup('L3')).toBe(3);
    expect(previous.dpdCounts).toEqual([0, 0, 0, 1, 0, 0, 0]);
    expect(intake.rowsRead).toBe(2);
    expect(intake.rowsValid + intake.rowsQuarantined).toBe(2);
  });

  it('shares its table with workers without copying it', async () => {
    const { previous } = mergePreviousRanges('2026-11-24', [
      await loadPreviousRange(nodeTapeDecoder, [memoryPart('prev.csv', tape)], {}),
    ]);
    const sent = previous.toTransfer();
    expect(sent.slots.buffer).toBeInstanceOf(SharedArrayBuffer);
    const seen = PreviousTape.fromTransfer(structuredClone(sent));
    expect(seen.lookup('L12')).toBe(previous.lookup('L12'));
    expect(seen.lookup('L12')).toBe(5); // 200 days past due
    expect(seen.lookup('nope')).toBe(-1);
    expect(seen.canonical()).toEqual(previous.canonical());
  });
});
