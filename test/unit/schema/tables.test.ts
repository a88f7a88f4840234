import { describe, expect, it } from 'vitest';
import { dateOfKey, isReportHtmlKey, KEYS, PREFIXES } from '../../../shared/schema/tables.ts';

describe('Module: bucket layout', () => {
  it('puts every key of a date under the tapes or the runs prefix', () => {
    // The layout as docs/contracts and the stack's lifecycle rules describe it.
    expect(KEYS.tapePrefix('2026-02-28')).toBe('snapshots/2026-02-28/');
    expect(KEYS.audit('2026-02-28')).toBe('runs/2026-02-28/audit.json');
    expect(KEYS.partial('2026-02-28', 'r1', 7)).toBe('runs/2026-02-28/partials/r1/00007.json');
    expect(KEYS.scores('2026-02-28', 'r1', 3, 16)).toBe('runs/2026-02-28/scores/r1/0003-of-0016.scores.gz');
    expect(KEYS.partial('2026-02-28', 'r1', 7).startsWith(KEYS.runPartialsPrefix('2026-02-28', 'r1'))).toBe(
      true,
    );
    expect(KEYS.scores('2026-02-28', 'r1', 3, 16).startsWith(KEYS.runScoresPrefix('2026-02-28', 'r1'))).toBe(
      true,
    );
    expect(KEYS.runPrefix('2026-02-28').startsWith(PREFIXES.runs)).toBe(true);
  });

  it("keeps a shard's earlier-id hashes among the run's working files", () => {
    // Under the run's partials, so they go when the run is finalized.
    expect(KEYS.shardEarlierIds('2026-02-28', 'r1', 7)).toBe(
      'runs/2026-02-28/partials/r1/00007.earlier-ids.bin',
    );
    expect(
      KEYS.shardEarlierIds('2026-02-28', 'r1', 7).startsWith(KEYS.runPartialsPrefix('2026-02-28', 'r1')),
    ).toBe(true);
  });

  it('gives the wildcard patterns the grants name', () => {
    expect(KEYS.reportHtml('*')).toBe('runs/*/report.html');
    expect(KEYS.partialsPrefix('*')).toBe('runs/*/partials/');
    expect(KEYS.scoresPrefix('*')).toBe('runs/*/scores/');
  });
});

describe('Function: dateOfKey', () => {
  it("reads the date segment of a tape's or a run's key", () => {
    expect(dateOfKey('snapshots/2026-02-28/part-0001.csv')).toBe('2026-02-28');
    expect(dateOfKey('runs/2026-02-28/audit.json')).toBe('2026-02-28');
  });

  it('is null for a key with no date segment', () => {
    expect(dateOfKey('snapshots/loans.csv')).toBeNull();
    expect(dateOfKey('loans.csv')).toBeNull();
  });
});

describe('Function: isReportHtmlKey', () => {
  it("accepts a run's report page only", () => {
    expect(isReportHtmlKey('runs/2026-02-28/report.html')).toBe(true);
    expect(isReportHtmlKey('runs/2026-02-28/audit.json')).toBe(false);
    expect(isReportHtmlKey('runs/2026-02-28/../x/report.html')).toBe(false);
    expect(isReportHtmlKey('snapshots/2026-02-28/report.html')).toBe(false);
    expect(isReportHtmlKey('runs/latest/report.html')).toBe(false);
  });
});
