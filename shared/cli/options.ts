/**
 * The options several commands share: their flags, help texts and parsers, written once so that
 * `score`, `run` and `demo` describe and check `--snapshot`, `--date`, `--shards` and the rest in
 * the same words.
 */

import { MAX_SCORE_BUCKETS } from '../domain/store/score-buckets.ts';
import { isIsoDate } from '../domain/tape/values.ts';
import { ConfigError } from '../errors.ts';

/** `name` as a whole number from `min` to `max`, or a ConfigError naming the option. */
export function parseWholeNumber(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return n;
}

/** `--date`: a real calendar date as YYYY-MM-DD. */
export function isoDateOption(value: string): string {
  if (!isIsoDate(value)) throw new ConfigError(`--date must be a real date as YYYY-MM-DD, got ${value}`);
  return value;
}

/** `--shards N`: a whole number from 1 to 1024. */
export function parseShards(value: string): number {
  return parseWholeNumber('--shards', value, 1, 1024);
}

/** `--workers N`: a whole number from 1 to 1024. */
export function parseWorkers(value: string): number {
  return parseWholeNumber('--workers', value, 1, 1024);
}

/** `--buckets N`: a power of two from 1 to MAX_SCORE_BUCKETS. */
export function parseBuckets(value: string): number {
  const n = parseWholeNumber('--buckets', value, 1, MAX_SCORE_BUCKETS);
  if ((n & (n - 1)) !== 0)
    throw new ConfigError(
      `--buckets must be a power of two (1, 2, 4, ... ${MAX_SCORE_BUCKETS}), got ${value}`,
    );
  return n;
}

/** Flags and help texts, spread into commander's `.option(...)` / `.requiredOption(...)`. */
export const OPTION = {
  snapshot: [
    '--snapshot <file>',
    "the day's tape: a CSV, JSON Lines or Parquet file (optionally .gz), or a folder of parts",
  ],
  runDate: ['--date <YYYY-MM-DD>', "the run's date (default: the date most of the tape's first rows carry)"],
  policy: ['--policy <file>', 'a rule pack or risk appetite replacing the default one of its kind'],
  out: ['--out <dir>', 'output folder'],
  state: ['--state <dir>', 'state folder of the local stack'],
  mapping: ['--mapping <file>', "a column mapping (YAML or JSON) for a lender's own export"],
} as const satisfies Record<string, readonly [string, string]>;

/** The text of `--buckets` on the commands that run the bucket stage on worker threads. */
export const BUCKETS_HELP =
  'loan-id buckets (a power of two) the scored loans are merged in, on worker threads, as the second Distributed Map does on AWS';

/** Default of `--state`. */
export const DEFAULT_STATE_DIR = '.risk-audit';
