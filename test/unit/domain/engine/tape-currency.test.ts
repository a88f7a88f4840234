import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { auditShard, peekTapeCurrency } from '../../../../shared/domain/engine/shard-audit.ts';
import { collectQuarantine, csvText, goodRow, memoryPart } from '../tape/helpers.ts';
import { defaultPolicy } from './helpers.ts';

const rows = (currencies: string[]) =>
  currencies.map((currency, i) => goodRow({ loan_id: `L${i}`, currency }));

describe('Function: peekTapeCurrency', () => {
  it('takes the currency most of the first valid rows carry, an empty cell being CNY', async () => {
    const part = (cs: string[]) => [memoryPart('t.csv', csvText(rows(cs)))];
    expect(await peekTapeCurrency(nodeTapeDecoder, part(['USD', 'EUR', 'EUR', 'USD', 'EUR']), {})).toBe(
      'EUR',
    );
    expect(await peekTapeCurrency(nodeTapeDecoder, part(['', 'CNY', 'USD']), {})).toBe('CNY');
    // A tie goes to the currency seen first.
    expect(await peekTapeCurrency(nodeTapeDecoder, part(['USD', 'EUR', 'EUR', 'USD']), {})).toBe('USD');
    // Only the first rows count.
    expect(await peekTapeCurrency(nodeTapeDecoder, part(['USD', 'USD', 'EUR', 'EUR', 'EUR']), {}, 2)).toBe(
      'USD',
    );
    // Invalid rows do not vote; with none valid the default stands.
    const bad = [goodRow({ currency: 'EUR', principal: 'x' }), goodRow({ loan_id: 'L2', currency: 'USD' })];
    expect(await peekTapeCurrency(nodeTapeDecoder, [memoryPart('t.csv', csvText(bad))], {})).toBe('USD');
    expect(await peekTapeCurrency(nodeTapeDecoder, [memoryPart('t.csv', csvText([bad[0]!]))], {})).toBe(
      'CNY',
    );
  });

  it('passes over a part it cannot read, which is left to the shard that reads it', async () => {
    const broken = memoryPart('a.csv.gz', Buffer.from('not gzip at all'));
    const usd = memoryPart('b.csv', csvText(rows(['USD', 'USD'])));
    expect(await peekTapeCurrency(nodeTapeDecoder, [broken, usd], {})).toBe('USD');
    expect(await peekTapeCurrency(nodeTapeDecoder, [broken], {})).toBe('CNY');
  });
});

describe('Function: auditShard (one currency per tape)', () => {
  it("quarantines the rows in another currency than the tape's, with the reason", async () => {
    const quarantine = collectQuarantine();
    const shard = await auditShard(
      nodeTapeDecoder,
      [memoryPart('t.csv', csvText(rows(['USD', 'USD', 'CNY', ''])))],
      {
        snapshotDate: '2026-11-25',
        currency: 'USD',
        policy: defaultPolicy('2026-11-25', 'USD'),
        previous: null,
        quarantine,
      },
    );
    expect(shard.intake).toMatchObject({ rowsValid: 2, rowsQuarantined: 2, currency: 'USD' });
    expect(shard.intake.quarantineByCode).toEqual({ CURRENCY_MISMATCH: 2 });
    expect(quarantine.rows.map((r) => [r.line, r.codes, r.detail])).toEqual([
      [4, ['CURRENCY_MISMATCH'], "currency: differs from the tape's USD"],
      [5, ['CURRENCY_MISMATCH'], "currency: differs from the tape's USD"],
    ]);
  });
});
