import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreLocal } from '../../shared/cli/commands/score.ts';

const root = join(import.meta.dirname, '..', '..');
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'risk-audit-examples-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

// `score` runs the whole workflow (report included): more than the unit default on a busy machine.
describe('Command: risk-audit score on the shipped examples (mapping applied from the first read on)', {
  timeout: 60_000,
}, () => {
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

  // Expected counts and sums below come from the files themselves, with awk or Python's decimal
  // module (commands beside each), not from this code.
  async function example(data: string, mapping: string) {
    const doc = await scoreLocal({
      snapshot: join(root, 'examples', 'data', data),
      mapping: join(root, 'examples', mapping),
      out: join(out, mapping),
    });
    if (doc.status === 'failed') throw new Error(doc.error);
    expect(doc.input.rowsRead).toBe(doc.input.rowsValid + doc.input.rowsQuarantined);
    return doc;
  }

  it('audits the headerless, space-separated German credit file', async () => {
    const doc = await example('german/german.data', 'german-credit-mapping.yaml');
    // awk -F'[ ]' 'NF==21' german.data | wc -l -> 999: line 267 ends in a space, a 22nd field.
    expect([doc.input.rowsRead, doc.input.rowsValid]).toEqual([1000, 999]);
    expect(doc.input.quarantineByCode).toEqual({ MALFORMED_ROW: 1 });
    // awk -F'[ ]' 'NF==21 {s+=$5; if ($21==2) b+=$5} END {print s, b}' -> 3264954 1181438
    expect(doc.portfolio.totalOutstanding).toBe(3264954);
    expect(doc.portfolio.nplRatio).toBeCloseTo(1181438 / 3264954, 12);
    expect(doc.portfolio.loanCount).toBe(999);
  });

  it('audits the Tianchi sample with Excel dates and terms in years', async () => {
    const doc = await example('tianchi/train_sample.csv', 'tianchi-mapping.yaml');
    expect([doc.input.rowsRead, doc.input.rowsValid]).toEqual([999, 999]);
    // awk -F, 'NR>1 {s+=$2} END {print s}' train_sample.csv -> 14362050
    expect(doc.portfolio.totalOutstanding).toBe(14362050);
    // awk -F, 'NR>1 && $14==1' train_sample.csv | wc -l -> 205 defaulted loans, read as 91+ days
    expect(doc.portfolio.dpdBuckets['91-180'].count).toBe(205);
  });

  it('keeps only the open credits of the bureau file, counting the rest as filtered', async () => {
    const doc = await example('home_credit/bureau_2000_rows.csv', 'home-credit-bureau-mapping.yaml');
    // awk -F, 'NR>1 && $3=="Active" && $4=="currency 1"' bureau_2000_rows.csv | wc -l -> 731
    expect(doc.input.rowsRead).toBe(731);
    expect(doc.input.rowsFiltered).toBe(2000 - 731);
    // Car loans, mortgages and unknown types among them: 25 (awk on column 15)
    expect(doc.input.quarantineByCode.VALUE_NOT_ALLOWED).toBe(25);
    // Three-decimal amounts summed exactly as given (Python's decimal module over the 520 valid
    // rows: 153119419.560 outstanding, 233025208.155 lent); rounded to the fen first, .70 and .16.
    expect(doc.portfolio.totalOutstanding).toBe(153119419.56);
    expect(doc.portfolio.totalPrincipal).toBe(233025208.155);
  });

  it('reads the monthly card panel as one row per card, its latest month', async () => {
    const doc = await example(
      'home_credit/credit_card_balance_400_cards.csv',
      'home-credit-cards-mapping.yaml',
    );
    // awk -F, 'NR>1 && $3+0>=-3' ... | wc -l -> 67 rows of 66 cards in the last three months
    expect(doc.input.rowsRead).toBe(66);
    expect(doc.input.rowsSuperseded).toBe(1);
    expect(doc.input.rowsFiltered).toBe(1467 - 67);
    // 11 of the 66 cards have a zero limit (awk on column 5)
    expect(doc.input.quarantineByCode).toEqual({ NOT_POSITIVE: 11 });
    expect(doc.portfolio.loanCount).toBe(55);
    // The balances have up to three decimals; summed exactly as given (Python's decimal module over
    // each card's latest row with a limit: 3809374.200). Rounded to the fen first they made .24.
    expect(doc.portfolio.totalOutstanding).toBe(3809374.2);
  });
});
