import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMapping } from '../../../shared/adapters/config-files.ts';
import { FsArtifactStore } from '../../../shared/adapters/fs-artifact-store.ts';
import {
  readPartHeader,
  readQuarantineSample,
  readStoredQuarantineSample,
  writeQuarantineSample,
} from '../../../shared/adapters/report/quarantine-sample.ts';
import { LocalTapeSource } from '../../../shared/adapters/tape/local-tape-source.ts';
import { scoreLocal } from '../../../shared/cli/commands/score.ts';
import { borrowerRef } from '../../../shared/domain/engine/hash.ts';
import { idFieldsOf, maskCsvRow, maskJsonRow, maskLoanId } from '../../../shared/domain/report/mask.ts';
import type { ColumnMapping } from '../../../shared/domain/tape/mapping.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const CHINESE_TAPE = join(root, 'examples', 'chinese-tape.csv');
const KEY = 'a-key-for-the-tests';
let dir: string;
let mapping: ColumnMapping | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-quarantine-sample-'));
  mapping = await loadMapping(join(root, 'examples', 'chinese-header-mapping.yaml'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Function: maskLoanId', () => {
  it('keeps the first two and last four characters of a long id, one and two of a short one', () => {
    expect(maskLoanId('L000000070')).toBe('L0…0070');
    expect(maskLoanId('DK0006')).toBe('D…06');
    expect(maskLoanId('')).toBe('');
  });
});

describe('Function: idFieldsOf', () => {
  it('finds the ids through a mapping (Chinese headers) and by their canonical names without one', () => {
    const header = ['数据日期', '贷款编号', '客户编号', '客户类型'];
    expect(idFieldsOf(header, mapping)).toMatchObject({ loan: 1, borrower: 2 });
    expect(idFieldsOf(['borrower_id', 'x', 'loan_id'], undefined)).toMatchObject({ loan: 2, borrower: 0 });
    expect(idFieldsOf(['x', 'y'], undefined)).toBeNull();
  });
});

describe('Function: maskCsvRow', () => {
  const ids = { loan: 1, borrower: 2, header: ['snapshot_date', 'loan_id', 'borrower_id', 'region'] };

  it('masks the loan id and turns the borrower id into its reference, keeping the other cells', () => {
    const masked = maskCsvRow('2026-11-24,L000000160,P00001520,"Shanghai, Pudong"', ids, KEY);
    expect(masked).toBe(`2026-11-24,L0…0160,${borrowerRef('P00001520', KEY)},"Shanghai, Pudong"`);
    expect(masked).not.toContain('P00001520');
  });

  it('withholds a row whose cells do not line up with the header (its ids could be anywhere)', () => {
    expect(maskCsvRow('2026-11-24,L000000160,P00001520,Shanghai,extra', ids, KEY)).toBeNull();
    expect(maskCsvRow('2026-11-24,"L000000160', ids, KEY)).toBeNull();
  });
});

describe('Function: maskJsonRow', () => {
  it("masks a JSON row's ids found by its own keys", () => {
    const masked = maskJsonRow(
      '{"loan_id":"L000000160","borrower_id":"P00001520","principal":-5}',
      undefined,
      KEY,
    );
    expect(JSON.parse(masked!)).toEqual({
      loan_id: 'L0…0160',
      borrower_id: borrowerRef('P00001520', KEY),
      principal: -5,
    });
  });

  it('withholds what is not a JSON object, or has no id fields', () => {
    expect(maskJsonRow('{"loan_id": "L1", borr', undefined, KEY)).toBeNull();
    expect(maskJsonRow('{"id":"L1"}', undefined, KEY)).toBeNull();
  });
});

describe('Function: readQuarantineSample', () => {
  it("masks the Chinese sample's quarantined rows through its mapping and counts them per column", async () => {
    // Prepare: the engine's own quarantine.csv of the shipped Chinese-header example
    const out = join(dir, 'cn');
    await scoreLocal({
      snapshot: CHINESE_TAPE,
      mapping: join(root, 'examples', 'chinese-header-mapping.yaml'),
      out,
    });

    // Act
    const sample = await readQuarantineSample('quarantine.csv', {
      artifacts: new FsArtifactStore(out),
      tapes: new LocalTapeSource(out),
      mapping,
      borrowerRefKey: KEY,
    });

    // Assess: rows 7 (DK0006, KH006: 2026/02/30) and 8 (DK0007, KH007: 合作社)
    expect(sample?.total).toBe(2);
    expect(sample?.rows.map((r) => [r.line, r.part, r.codes, r.detail])).toEqual([
      [7, 'chinese-tape.csv', ['INVALID_DATE'], 'origination_date: not a real calendar date'],
      [8, 'chinese-tape.csv', ['VALUE_NOT_ALLOWED'], 'borrower_type: not one of individual, enterprise'],
    ]);
    expect(sample?.rows[0]?.raw).toBe(
      `2026/11/25,D…06,${borrowerRef('KH006', KEY)},个人,消费贷,800000,100000,15.0,12,2026/02/30,20270228,0,湖北,工厂工人,,35,72000,1500,0,640,否,100,日期错误`,
    );
    for (const r of sample?.rows ?? []) expect(r.raw).not.toMatch(/DK000|KH00/);
    expect(sample?.byColumn).toEqual({
      origination_date: { rows: 1, codes: { INVALID_DATE: 1 } },
      borrower_type: { rows: 1, codes: { VALUE_NOT_ALLOWED: 1 } },
    });
  });

  it('reads the header of a gzip part, and withholds the raw text when the part cannot be read', async () => {
    const gz = join(dir, 'tape.csv.gz');
    await writeFile(gz, gzipSync(await readFile(CHINESE_TAPE)));
    const tapes = new LocalTapeSource(dir);
    expect((await readPartHeader(tapes, gz, undefined))?.slice(0, 3)).toEqual([
      '数据日期',
      '贷款编号',
      '客户编号',
    ]);

    const files = join(dir, 'missing-part');
    const store = new FsArtifactStore(files);
    await store.put(
      'quarantine.csv',
      'line,part,codes,detail,raw\n3,gone.csv,NEGATIVE,principal: negative,"2026-11-25,L000000003,P1,-5"\n',
    );
    const sample = await readQuarantineSample('quarantine.csv', {
      artifacts: store,
      tapes,
      mapping: undefined,
      borrowerRefKey: KEY,
    });
    expect(sample?.rows[0]?.raw).toBeNull();
    expect(sample?.rows[0]?.detail).toBe('principal: negative');
  });

  it('keeps the first rows only, counts all of them, and takes off the formula guard of the file', async () => {
    const store = new FsArtifactStore(join(dir, 'many'));
    const lines = Array.from(
      { length: 30 },
      (_, i) => `${i + 2},p.jsonl,MALFORMED_ROW,line is not valid JSON,'-{"loan_id": "L${i}"`,
    );
    await store.put('quarantine.csv', ['line,part,codes,detail,raw', ...lines, ''].join('\n'));
    const sample = await readQuarantineSample(
      'quarantine.csv',
      { artifacts: store, tapes: null, mapping: undefined, borrowerRefKey: KEY },
      { limit: 10 },
    );
    expect(sample?.total).toBe(30);
    expect(sample?.rows).toHaveLength(10);
    expect(sample?.byColumn).toEqual({ '(row)': { rows: 30, codes: { MALFORMED_ROW: 30 } } });
    // Not JSON once the guard is off ("-{..."), and no header to place ids in a CSV row: withheld.
    expect(sample?.rows.every((r) => r.raw === null)).toBe(true);
  });

  it('is written beside the run by the step that has the tape, and read back checked', async () => {
    const out = join(dir, 'cn');
    const runs = new FsArtifactStore(join(dir, 'bucket'));
    const date = '2026-11-25';
    await runs.put(`runs/${date}/quarantine.csv`, await readFile(join(out, 'quarantine.csv')));
    await writeQuarantineSample(date, {
      artifacts: runs,
      tapes: new LocalTapeSource(out),
      mapping: async () => mapping,
      secrets: { current: async () => KEY },
    });
    const stored = await readStoredQuarantineSample(runs, date);
    expect(stored?.rows).toHaveLength(2);
    expect(stored?.location).toBe(`runs/${date}/quarantine.csv in the audit bucket`);
    await runs.put(`runs/${date}/quarantine-sample.json`, '{"rows": 3}');
    await expect(readStoredQuarantineSample(runs, date)).rejects.toThrow(/is not a quarantine sample/);
    expect(await readStoredQuarantineSample(runs, '2026-01-01')).toBeUndefined();
  });
});
