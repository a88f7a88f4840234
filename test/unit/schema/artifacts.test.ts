import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAccumulator } from '../../../shared/domain/engine/accumulator.ts';
import { AuditResultSchema, StoredPartialSchema } from '../../../shared/schema/artifacts.ts';
import { defaultPolicy, intakeOf, makeLoan } from '../domain/engine/helpers.ts';

const AUDIT_FIXTURE = new URL('../../fixtures/report/audit-2026-11-25.json', import.meta.url);

describe('Schema: StoredPartialSchema', () => {
  it('reads a stored partial back as it was written, a region named __proto__ kept as data', () => {
    // Prepare: one shard of one loan whose region and industry are hostile names.
    const loans = [makeLoan({ loanId: 'A', region: '__proto__', industry: 'constructor' })];
    const accumulator = createAccumulator(defaultPolicy(), null);
    for (const l of loans) accumulator.add(l);
    const stored = {
      partial: accumulator.toPartial(),
      intake: { ...intakeOf(loans), snapshotDate: '2026-11-25', currency: 'CNY' },
      quarantineKey: 'runs/2026-11-25/partials/r1/quarantine-0.csv',
      indexEntriesKey: 'runs/2026-11-25/partials/r1/index-0.bin',
      quarantinedIdHashes: ['00ff00ff00ff00ff'],
    };
    const json: unknown = JSON.parse(JSON.stringify(stored));

    // Act
    const read = StoredPartialSchema.parse(json);

    // Assess: the same JSON, and the region an own key (the prototype untouched).
    expect(JSON.parse(JSON.stringify(read))).toEqual(json);
    expect(Object.keys(read.partial.region)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(read.partial.region)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(read.partial.region, '__proto__')?.value).toEqual([1, 1000_00, 0]);
    expect(Object.keys(read.partial.industry)).toEqual(['constructor']);
  });

  it('refuses a loan-id hash that is not 16 hex digits, saying where', () => {
    // Prepare
    const loans = [makeLoan({ loanId: 'A' })];
    const accumulator = createAccumulator(defaultPolicy(), null);
    for (const l of loans) accumulator.add(l);
    const json: unknown = JSON.parse(
      JSON.stringify({
        partial: accumulator.toPartial(),
        intake: { ...intakeOf(loans), snapshotDate: '2026-11-25', currency: 'CNY' },
        quarantineKey: 'q',
        indexEntriesKey: 'i',
        quarantinedIdHashes: ['ff'],
      }),
    );

    // Act
    const read = StoredPartialSchema.safeParse(json);

    // Assess
    expect(read.success).toBe(false);
    expect(read.error?.issues[0]?.path).toEqual(['quarantinedIdHashes', 0]);
  });
});

describe('Schema: AuditResultSchema', () => {
  it('reads a draft audit back with a region named __proto__ as data', () => {
    // Prepare: the fixture audit, its regions replaced by one hostile name.
    const audit = JSON.parse(readFileSync(AUDIT_FIXTURE, 'utf8')) as { concentration: { byRegion: unknown } };
    const region = { count: 1, outstanding: 1000, share: 1 };
    const text = JSON.stringify({
      ...audit,
      concentration: { ...audit.concentration, byRegion: {} },
    }).replace('"byRegion":{}', `"byRegion":{"__proto__":${JSON.stringify(region)}}`);

    // Act
    const read = AuditResultSchema.parse(JSON.parse(text));

    // Assess
    expect(Object.keys(read.concentration.byRegion)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(read.concentration.byRegion, '__proto__')?.value).toEqual(region);
    expect(JSON.stringify(read)).toBe(text);
  });
});
