/**
 * One source of truth for the DynamoDB tables and the bucket layout: the CDK stack and the
 * embedded local stack both build their resources from these definitions.
 */

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDefinition {
  /** CDK construct id (a contract: renaming it replaces the table). */
  constructId: string;
  /** Table name used locally; on AWS, CloudFormation names the table. */
  localName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  timeToLiveAttribute?: string;
  globalSecondaryIndexes: IndexDefinition[];
}

/** Single table holding run records, leases, loan risk history, watchlists and breaches. */
export const RISK_TABLE: TableDefinition = {
  constructId: 'RiskTable',
  localName: 'risk-audit',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
    },
  ],
};

/** Powertools idempotency records for on-demand invocations. */
export const IDEMPOTENCY_TABLE: TableDefinition = {
  constructId: 'IdempotencyTable',
  localName: 'risk-audit-idempotency',
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiration',
  globalSecondaryIndexes: [],
};

export const TABLES: readonly TableDefinition[] = [RISK_TABLE, IDEMPOTENCY_TABLE];

/** Bucket used locally; on AWS, CloudFormation names the bucket. */
export const LOCAL_BUCKET = 'risk-audit-local';

/**
 * The data bucket's top-level prefixes: tapes land under one, runs write under the other. The
 * lifecycle rules, the grants and the tape-arrival trigger are per prefix (infra), the tape
 * source lists under the first, every key below is built under the second.
 */
export const PREFIXES = {
  tapes: 'snapshots/',
  runs: 'runs/',
} as const;

const RUNS = PREFIXES.runs;

/**
 * The object key layout of the data bucket: every key the pipeline reads or writes, and every
 * prefix a grant or a listing names (pass `'*'` for a date or run id to get the pattern a grant
 * uses, as infra does).
 */
export const KEYS = {
  /** Prefix under which a date's tape (one or more part files) lands. */
  tapePrefix: (date: string): string => `${PREFIXES.tapes}${date}/`,
  runPrefix: (date: string): string => `${RUNS}${date}/`,
  /** A date's loan-id bucket score files, one folder per run that wrote them. */
  scoresPrefix: (date: string): string => `${RUNS}${date}/scores/`,
  /** One run's score files of a date (deleted when a re-run's replace them). */
  runScoresPrefix: (date: string, runId: string): string => `${RUNS}${date}/scores/${runId}/`,
  /** A date's working files, one folder per run (deleted once the run is finalized). */
  partialsPrefix: (date: string): string => `${RUNS}${date}/partials/`,
  /** One run's working files (shard partials, item lists, map results). */
  runPartialsPrefix: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/`,
  audit: (date: string): string => `${RUNS}${date}/audit.json`,
  quarantine: (date: string): string => `${RUNS}${date}/quarantine.csv`,
  /** The full report's sample of the quarantined rows, their ids masked (QuarantineSample). */
  quarantineSample: (date: string): string => `${RUNS}${date}/quarantine-sample.json`,
  /** Which run's score files are the date's, and in how many loan-id buckets (ScoreManifest). */
  scoresManifest: (date: string): string => `${RUNS}${date}/scores.json`,
  /** One loan-id bucket of the date's score file (docs/score-file.md), as the run its manifest names wrote it. */
  scores: (date: string, runId: string, bucket: number, buckets: number): string =>
    `${RUNS}${date}/scores/${runId}/${String(bucket).padStart(4, '0')}-of-${String(buckets).padStart(4, '0')}.scores.gz`,
  partial: (date: string, runId: string, shard: number): string =>
    `${RUNS}${date}/partials/${runId}/${String(shard).padStart(5, '0')}.json`,
  /** A shard's quarantined rows (quarantine CSV lines, no header), joined by merge-audit into the date's file. */
  partialQuarantine: (date: string, runId: string, shard: number): string =>
    `${RUNS}${date}/partials/${runId}/${String(shard).padStart(5, '0')}.quarantine.csv`,
  /** A shard's scored loans of one loan-id bucket (a score file, sorted by loan id), beside its partial. */
  partialScores: (date: string, runId: string, shard: number, bucket: number): string =>
    `${RUNS}${date}/partials/${runId}/${String(shard).padStart(5, '0')}.${String(bucket).padStart(4, '0')}.scores.gz`,
  /** The audit's figures as merged from the shards, before the buckets' findings are added. */
  auditDraft: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/audit-draft.json`,
  /** What every bucket's merge needs from the merged shards (borrower-level rule hits, breach codes). */
  bucketContext: (date: string, runId: string): string =>
    `${RUNS}${date}/partials/${runId}/bucket-context.json`,
  /** One bucket's merge result: its counts, watchlist candidates and largest breaches. */
  bucketResult: (date: string, runId: string, bucket: number): string =>
    `${RUNS}${date}/partials/${runId}/bucket-${String(bucket).padStart(4, '0')}.json`,
  /** A shard's valid loans as drift-index entries (12 bytes a loan), for the date's carried index. */
  partialIndexEntries: (date: string, runId: string, shard: number): string =>
    `${RUNS}${date}/partials/${runId}/${String(shard).padStart(5, '0')}.index-entries.bin`,
  /**
   * The loan ids earlier shards hold that a shard holds too, for its re-run: their 64-bit hashes
   * as a sorted little-endian BigUint64Array (engine/id-hashes.ts), the shard's ShardSpec.earlierIdsKey.
   */
  shardEarlierIds: (date: string, runId: string, shard: number): string =>
    `${RUNS}${date}/partials/${runId}/${String(shard).padStart(5, '0')}.earlier-ids.bin`,
  /**
   * The date's own tape as a drift index, written by its finalize step: the next date's run
   * copies it as its previous index instead of reading this tape again.
   */
  carriedIndex: (date: string): string => `${RUNS}${date}/drift-index.bin`,
  /** What the carried index was built from (tape parts, mapping): reused only while they match. */
  carriedIndexInfo: (date: string): string => `${RUNS}${date}/drift-index.json`,
  /** The tape's parts as the run's prepare step listed them (PlannedParts). */
  runParts: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/parts.json`,
  /** The first map's items on its second pass: the shards scored again (ShardSpecs with earlierIdsKey). */
  settleShardList: (date: string, runId: string): string =>
    `${RUNS}${date}/partials/${runId}/settle-shards.json`,
  /** The first pass's shard results, kept while the settling shards are scored again. */
  firstShardOutcomes: (date: string, runId: string): string =>
    `${RUNS}${date}/partials/${runId}/first-shard-results.json`,
  /** The first map's items: the run's shards (ShardSpecs), read by the map's ItemReader. */
  shardList: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/shards.json`,
  /** The second map's items: the run's loan-id buckets (BucketSpecs), read by the map's ItemReader. */
  bucketList: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/buckets.json`,
  /** Where both maps of a run export their results (ResultWriter prefix: `<prefix>/<map run>/manifest.json`). */
  mapResults: (date: string, runId: string): string => `${RUNS}${date}/partials/${runId}/map-results`,
  /** That a failed run's notice went out (written by the failure step; a second call for the run does nothing). */
  failureNotice: (date: string, runId: string): string =>
    `${RUNS}${date}/partials/${runId}/failure-notice.json`,
  /** The previous tape's drift index, built once per run by the prepare step for every shard. */
  previousIndex: (date: string, runId: string): string =>
    `${RUNS}${date}/partials/${runId}/previous-index.bin`,
  /** The full report (one self-contained HTML page): what the email's link opens. */
  reportHtml: (date: string): string => `${RUNS}${date}/report.html`,
  /** The email as sent (MIME). */
  reportEml: (date: string): string => `${RUNS}${date}/report.eml`,
  /** The email's plain-text part. */
  reportText: (date: string): string => `${RUNS}${date}/report.txt`,
  /** The email's HTML with its chart inlined, to open in a browser. */
  emailHtml: (date: string): string => `${RUNS}${date}/email.html`,
  watchlistCsv: (date: string): string => `${RUNS}${date}/watchlist.csv`,
} as const;

/** The date of a key under a date's prefix (`snapshots/<date>/...`, `runs/<date>/...`), or null. */
export function dateOfKey(key: string): string | null {
  const segment = key.split('/')[1];
  return segment !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(segment) ? segment : null;
}

/** Whether a key is a run's full report page (KEYS.reportHtml), the only object a report link may name. */
export function isReportHtmlKey(key: string): boolean {
  const date = dateOfKey(key);
  return date !== null && key === KEYS.reportHtml(date);
}
