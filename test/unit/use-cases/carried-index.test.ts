import { describe, expect, it } from 'vitest';
import type { ColumnMapping } from '../../../shared/domain/tape/mapping.ts';
import { VALIDATION_RULES_VERSION } from '../../../shared/domain/tape/row-validator.ts';
import type { TapePart } from '../../../shared/ports/tape-source.ts';
import {
  type CarriedIndexInfo,
  carriedIndexApplies,
  mappingFingerprint,
} from '../../../shared/use-cases/prepare-run.ts';

const parts: TapePart[] = [
  { key: 'snapshots/2026-11-24/a.csv', bytes: 1000, lastModified: new Date('2026-11-24T22:00:00Z') },
  { key: 'snapshots/2026-11-24/b.csv', bytes: 2000, lastModified: new Date('2026-11-24T22:05:00Z') },
];
const info: CarriedIndexInfo = {
  parts: [
    { key: 'snapshots/2026-11-24/a.csv', bytes: 1000, lastModified: '2026-11-24T22:00:00.000Z' },
    { key: 'snapshots/2026-11-24/b.csv', bytes: 2000, lastModified: '2026-11-24T22:05:00.000Z' },
  ],
  mapping: mappingFingerprint(undefined),
  rules: VALIDATION_RULES_VERSION,
};

describe('Function: carriedIndexApplies', () => {
  it("applies while the tape's parts and the mapping are those it was built from", () => {
    expect(carriedIndexApplies(info, parts, undefined)).toBe(true);
  });

  it('does not apply once a part was delivered again, resized, added or removed', () => {
    const later = [parts[0]!, { ...parts[1]!, lastModified: new Date('2026-11-25T01:00:00Z') }];
    expect(carriedIndexApplies(info, later, undefined)).toBe(false);
    expect(carriedIndexApplies(info, [parts[0]!, { ...parts[1]!, bytes: 2001 }], undefined)).toBe(false);
    expect(carriedIndexApplies(info, [parts[0]!], undefined)).toBe(false);
    const extra = { key: 'snapshots/2026-11-24/c.csv', bytes: 5, lastModified: null };
    expect(carriedIndexApplies(info, [...parts, extra], undefined)).toBe(false);
  });

  it('does not apply when another column mapping reads the tape', () => {
    const mapping = { encoding: 'gbk' } as ColumnMapping;
    expect(carriedIndexApplies(info, parts, mapping)).toBe(false);
    expect(carriedIndexApplies({ ...info, mapping: mappingFingerprint(mapping) }, parts, mapping)).toBe(true);
  });

  it('does not apply when it was validated under other row-validity rules', () => {
    expect(carriedIndexApplies({ ...info, rules: VALIDATION_RULES_VERSION }, parts, undefined)).toBe(true);
    expect(carriedIndexApplies({ ...info, rules: VALIDATION_RULES_VERSION + 1 }, parts, undefined)).toBe(
      false,
    );
    expect(carriedIndexApplies({ ...info, rules: 0 }, parts, undefined)).toBe(false);
    // An index written before the version was recorded was validated under version 1, not today's.
    const { rules: _rules, ...unversioned } = info;
    expect(carriedIndexApplies(unversioned, parts, undefined)).toBe(false);
  });
});
