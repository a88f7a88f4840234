import { describe, expect, it } from 'vitest';
import { isoDateOption, parseBuckets, parseShards, parseWorkers } from '../../../shared/cli/options.ts';
import { ConfigError } from '../../../shared/errors.ts';

describe('Module: the options score, run and demo share', () => {
  it('takes --shards and --workers from 1 to 1024 and names the option when refusing', () => {
    // Act / Assess
    expect(parseShards('1')).toBe(1);
    expect(parseShards('1024')).toBe(1024);
    expect(() => parseShards('0')).toThrow(
      new ConfigError('--shards must be a whole number from 1 to 1024, got 0'),
    );
    expect(() => parseShards('1025')).toThrow(ConfigError);
    expect(() => parseWorkers('2.5')).toThrow(
      new ConfigError('--workers must be a whole number from 1 to 1024, got 2.5'),
    );
  });

  it('takes --buckets as a power of two only', () => {
    // Act / Assess
    expect(parseBuckets('8')).toBe(8);
    expect(() => parseBuckets('6')).toThrow(
      /--buckets must be a power of two \(1, 2, 4, \.\.\. \d+\), got 6/,
    );
  });

  it('takes --date as a real calendar date only', () => {
    // Act / Assess
    expect(isoDateOption('2024-02-29')).toBe('2024-02-29');
    expect(() => isoDateOption('2026-02-29')).toThrow(
      new ConfigError('--date must be a real date as YYYY-MM-DD, got 2026-02-29'),
    );
  });
});
