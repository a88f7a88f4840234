import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { breachOrder } from '../domain/engine/ranking.ts';
import {
  BREACH_CHUNK,
  breachKey,
  breachPartition,
  breachRulePartition,
  detailExpiry,
  type ItemKey,
  leaseKey,
  loanHistoryKey,
  loanPartition,
  MANIFEST_CHUNK,
  manifestKey,
  RUNS_PARTITION,
  runKey,
  WATCHLIST_CHUNK,
  watchlistKey,
  watchlistPartition,
} from '../domain/store/keys.ts';
import { RunInProgressError, StoreError } from '../errors.ts';
import type {
  BreachEntry,
  BreachItem,
  LoanChange,
  LoanHistoryItem,
  ReplaceReport,
  RiskStore,
  RunSummary,
  WatchlistEntry,
} from '../ports/risk-store.ts';
import { storeCall } from './aws-errors.ts';
import { type BatchWriteOptions, batchWriteAll, type WriteRequest } from './batch-write.ts';

/** Options of DynamoRiskStore. */
export interface DynamoRiskStoreOptions {
  /** Days per-run detail items (history, watchlist, breaches) are kept; run records are kept. @default 400 */
  detailRetentionDays?: number;
  /** Clock (tests). @default () => new Date() */
  now?: () => Date;
  /**
   * How batch writes go (chunks in flight, how often unprocessed items are sent again). Throttled
   * calls are retried by the client itself (createDynamoClient's retry settings).
   */
  batchWrite?: BatchWriteOptions;
}

type Item = Record<string, unknown>;

// Attributes that belong to the table layout, not to the record a caller gets back.
const LAYOUT = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'type', 'expiresAt']);

// Field order of the records handed back (DynamoDB keeps no attribute order; JSON output should).
const RUN_FIELDS = [
  'snapshotDate',
  'runId',
  'status',
  'trigger',
  'startedAt',
  'finishedAt',
  'error',
  'inputSha256',
  'rowsRead',
  'rowsQuarantined',
  'loanCount',
  'totalOutstanding',
  'nplRatio',
  'pastDue30Share',
  'expectedLoss',
  'overall',
  'loansInBreach',
  'rulesBreached',
  'largestPsi',
  'quarantineRate',
  'findings',
  'historyBaseline',
  'inputParts',
  'timings',
];
const CHANGE_FIELDS = [
  'snapshotDate',
  'runId',
  'loanId',
  'change',
  'borrowerRef',
  'grade',
  'score',
  'pd',
  'dpdBucket',
  'classification',
  'stage',
  'flags',
  'outstanding',
  'previousGrade',
  'previousDpdBucket',
];
const WATCH_FIELDS = [
  'rank',
  'loanId',
  'borrowerRef',
  'grade',
  'score',
  'pd',
  'el',
  'dpdBucket',
  'classification',
  'outstanding',
  'product',
  'region',
  'industry',
  'flags',
  'reasons',
];
const BREACH_FIELDS = ['snapshotDate', 'runId', 'ruleCode', 'loanId', 'borrowerRef', 'grade', 'outstanding'];

/** The record of an item: known fields in order, then any others, without the table layout. */
function strip<T>(item: Item, order: readonly string[], drop: readonly string[] = []): T {
  const out: Item = {};
  for (const k of order) if (k in item && !drop.includes(k)) out[k] = item[k];
  for (const [k, v] of Object.entries(item)) {
    if (!LAYOUT.has(k) && !(k in out) && !drop.includes(k)) out[k] = v;
  }
  return out as T;
}

function keyOf(item: Item): ItemKey {
  return { pk: String(item.pk), sk: String(item.sk) };
}

/**
 * The results store on DynamoDB: one table, keys from shared/domain/store/keys.ts. Each replace
 * writes the new items, then deletes the date's items of an earlier run that the new run did not
 * produce, so a re-run leaves exactly the new set (a crashed replace is repaired by the next one).
 */
export class DynamoRiskStore implements RiskStore {
  private readonly retentionDays: number;
  private readonly now: () => Date;
  private readonly batchWrite: BatchWriteOptions;

  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoRiskStoreOptions = {},
  ) {
    this.retentionDays = options.detailRetentionDays ?? 400;
    this.now = options.now ?? (() => new Date());
    this.batchWrite = options.batchWrite ?? {};
  }

  // ---------------------------------------------------------------------------------- leases

  public async acquireLease(snapshotDate: string, runId: string, ttlSeconds: number): Promise<void> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const leaseUntil = nowSeconds + ttlSeconds;
    try {
      await storeCall(`taking the lease of ${snapshotDate}`, () =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...leaseKey(snapshotDate),
              type: 'lease',
              snapshotDate,
              runId,
              leaseUntil,
              acquiredAt: this.now().toISOString(),
              // TTL only tidies expired leases away; the condition below is what enforces them.
              expiresAt: leaseUntil + 86_400,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR runId = :runId',
            ExpressionAttributeValues: { ':now': nowSeconds, ':runId': runId },
          }),
        ),
      );
    } catch (error) {
      const cause = error instanceof StoreError ? error.cause : error;
      if (!(cause instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: leaseKey(snapshotDate), ConsistentRead: true }),
      );
      const holderRun = String(holder.Item?.runId ?? 'unknown');
      const until = Number(holder.Item?.leaseUntil ?? leaseUntil);
      throw new RunInProgressError(
        `the audit of ${snapshotDate} is already running (run ${holderRun}, lease held until ${new Date(until * 1000).toISOString()}); wait for it to finish or for its lease to expire`,
        { cause },
      );
    }
  }

  public async releaseLease(snapshotDate: string, runId: string): Promise<void> {
    try {
      await storeCall(`giving back the lease of ${snapshotDate}`, () =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: leaseKey(snapshotDate),
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':runId': runId },
          }),
        ),
      );
    } catch (error) {
      const cause = error instanceof StoreError ? error.cause : error;
      // Held by another run (ours expired and was taken over) or already gone: nothing to give back.
      if (cause instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------- runs

  public async recordRun(summary: RunSummary): Promise<void> {
    await storeCall(`recording the run of ${summary.snapshotDate}`, () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...summary,
            ...runKey(summary.snapshotDate),
            gsi1pk: RUNS_PARTITION,
            gsi1sk: summary.snapshotDate,
            type: 'run',
          },
        }),
      ),
    );
  }

  public async getRun(snapshotDate: string): Promise<RunSummary | null> {
    const out = await storeCall(`reading the run of ${snapshotDate}`, () =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: runKey(snapshotDate), ConsistentRead: true }),
      ),
    );
    return out.Item ? strip<RunSummary>(out.Item, RUN_FIELDS) : null;
  }

  public async listRuns(limit: number): Promise<RunSummary[]> {
    const items = await this.queryAll(
      {
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': RUNS_PARTITION },
        ScanIndexForward: false,
      },
      limit,
      'listing runs',
    );
    return items.map((i) => strip<RunSummary>(i, RUN_FIELDS));
  }

  // ---------------------------------------------------------------------------------- history

  // Exactly once per date, strongly consistent: each part of a run first records which loans it
  // is about to write (its manifest), then writes them; once every part is in, the retire deletes
  // the loans earlier runs of the date wrote that this run did not, and finally drops the earlier
  // manifests. A crash at any step leaves manifests that cover every item present, so the next run
  // of the date cleans up completely.

  /**
   * One part of a run's history items (a loan-id bucket; parts hold distinct loans): its manifest
   * first, then the items. Writing a part again (a retried bucket) puts the same items.
   */
  public async writeLoanChanges(
    snapshotDate: string,
    runId: string,
    part: number,
    changes: readonly LoanChange[],
  ): Promise<ReplaceReport> {
    const what = `the loan history of ${snapshotDate}`;
    const expiresAt = detailExpiry(this.now(), this.retentionDays);
    const byLoan = new Map<string, LoanChange>();
    for (const c of changes) byLoan.set(c.loanId, c);
    const ids = [...byLoan.keys()].sort();
    const manifestPuts: WriteRequest[] = [];
    for (let chunk = 0; chunk * MANIFEST_CHUNK < ids.length; chunk++) {
      manifestPuts.push({
        PutRequest: {
          Item: {
            ...manifestKey(snapshotDate, runId, part, chunk),
            type: 'manifest',
            snapshotDate,
            runId,
            expiresAt,
            loanIds: ids.slice(chunk * MANIFEST_CHUNK, (chunk + 1) * MANIFEST_CHUNK),
          },
        },
      });
    }
    await this.write(manifestPuts, [], what);
    const puts: WriteRequest[] = [];
    for (const c of byLoan.values()) {
      puts.push({
        PutRequest: {
          Item: {
            ...c,
            ...loanHistoryKey(c.loanId, snapshotDate),
            type: 'change',
            snapshotDate,
            runId,
            expiresAt,
          },
        },
      });
    }
    const report = await this.write(puts, [], what);
    return { ...report, bookkeeping: manifestPuts.length };
  }

  /**
   * After every part of a run is written: deletes the history items earlier runs of the date wrote
   * that this run did not, then their manifests.
   */
  public async retireLoanChanges(snapshotDate: string, runId: string): Promise<ReplaceReport> {
    const what = `the loan history of ${snapshotDate}`;
    const manifests = await this.manifestItems(snapshotDate);
    const mine = new Set<string>();
    const earlier: Item[] = [];
    const ownPrefix = manifestKey(snapshotDate, runId, 0, 0).sk.split('#').slice(0, 2).join('#');
    for (const m of manifests) {
      if (String(m.sk).startsWith(`${ownPrefix}#`))
        for (const id of (m.loanIds ?? []) as string[]) mine.add(id);
      else earlier.push(m);
    }
    const staleIds = new Set<string>();
    for (const m of earlier) {
      for (const id of (m.loanIds ?? []) as string[]) if (!mine.has(id)) staleIds.add(id);
    }
    const stale = [...staleIds].map((id) => loanHistoryKey(id, snapshotDate));
    const report = await this.write([], stale, what);
    await this.write([], earlier.map(keyOf), what);
    return { written: 0, deleted: report.deleted, bookkeeping: earlier.length };
  }

  public async getLoanHistory(loanId: string, limit?: number): Promise<LoanHistoryItem[]> {
    const items = await this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :d)',
        ExpressionAttributeValues: { ':p': loanPartition(loanId), ':d': 'DAY#' },
        ScanIndexForward: true,
      },
      limit,
      'reading a loan history',
    );
    return items.map((i) => strip<LoanHistoryItem>(i, CHANGE_FIELDS));
  }

  // ---------------------------------------------------------------------------------- watchlist

  public async replaceWatchlist(
    snapshotDate: string,
    runId: string,
    entries: readonly WatchlistEntry[],
  ): Promise<ReplaceReport> {
    const expiresAt = detailExpiry(this.now(), this.retentionDays);
    const ranks = new Set<number>();
    for (const e of entries) {
      if (!Number.isInteger(e.rank) || e.rank < 1 || ranks.has(e.rank)) {
        throw new StoreError(`watchlist of ${snapshotDate} has an invalid or repeated rank ${e.rank}`);
      }
      ranks.add(e.rank);
    }
    const sorted = [...entries].sort((a, b) => a.rank - b.rank);
    const puts: WriteRequest[] = [];
    const sks = new Set<string>();
    for (let chunk = 0; chunk * WATCHLIST_CHUNK < sorted.length; chunk++) {
      const part = sorted.slice(chunk * WATCHLIST_CHUNK, (chunk + 1) * WATCHLIST_CHUNK);
      const key = watchlistKey(snapshotDate, chunk);
      sks.add(key.sk);
      puts.push({
        PutRequest: {
          Item: {
            ...key,
            type: 'watch',
            snapshotDate,
            runId,
            expiresAt,
            firstRank: part[0]!.rank,
            lastRank: part[part.length - 1]!.rank,
            entries: part,
          },
        },
      });
    }
    const existing = await this.partitionKeys(watchlistPartition(snapshotDate));
    return this.write(
      puts,
      existing.filter((k) => !sks.has(k.sk)),
      `the watchlist of ${snapshotDate}`,
    );
  }

  public async getWatchlist(snapshotDate: string, limit: number): Promise<WatchlistEntry[]> {
    const items = await this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': watchlistPartition(snapshotDate) },
        ScanIndexForward: true,
      },
      Math.ceil(limit / WATCHLIST_CHUNK),
      'reading a watchlist',
    );
    return items
      .flatMap((i) => (i.entries ?? []) as Item[])
      .slice(0, limit)
      .map((e) => strip<WatchlistEntry>(e, WATCH_FIELDS));
  }

  // ---------------------------------------------------------------------------------- breaches

  public async replaceBreaches(
    snapshotDate: string,
    runId: string,
    breaches: readonly BreachEntry[],
  ): Promise<ReplaceReport> {
    const expiresAt = detailExpiry(this.now(), this.retentionDays);
    const byRule = new Map<string, Map<string, BreachEntry>>();
    for (const b of breaches) {
      let rule = byRule.get(b.ruleCode);
      if (rule === undefined) {
        rule = new Map();
        byRule.set(b.ruleCode, rule);
      }
      rule.set(b.loanId, b);
    }
    const puts: WriteRequest[] = [];
    const sks = new Set<string>();
    for (const [ruleCode, loans] of byRule) {
      const sorted = [...loans.values()].sort(breachOrder);
      for (let chunk = 0; chunk * BREACH_CHUNK < sorted.length; chunk++) {
        const key = breachKey(snapshotDate, ruleCode, chunk);
        sks.add(key.sk);
        puts.push({
          PutRequest: {
            Item: {
              ...key,
              gsi2pk: breachRulePartition(ruleCode),
              gsi2sk: `${snapshotDate}#${String(chunk).padStart(5, '0')}`,
              type: 'breach',
              snapshotDate,
              runId,
              ruleCode,
              expiresAt,
              entries: sorted.slice(chunk * BREACH_CHUNK, (chunk + 1) * BREACH_CHUNK),
            },
          },
        });
      }
    }
    const existing = await this.partitionKeys(breachPartition(snapshotDate));
    return this.write(
      puts,
      existing.filter((k) => !sks.has(k.sk)),
      `the breaches of ${snapshotDate}`,
    );
  }

  public async getBreaches(ruleCode: string, snapshotDate: string, limit?: number): Promise<BreachItem[]> {
    const items = await this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':p': breachPartition(snapshotDate), ':r': `${ruleCode}#` },
        ScanIndexForward: true,
      },
      limit === undefined ? undefined : Math.ceil(limit / BREACH_CHUNK),
      'reading breaches',
    );
    const out = items.flatMap((i) =>
      ((i.entries ?? []) as Item[]).map((e) =>
        strip<BreachItem>({ ...e, snapshotDate: i.snapshotDate, runId: i.runId }, BREACH_FIELDS),
      ),
    );
    return limit === undefined ? out : out.slice(0, limit);
  }

  // ---------------------------------------------------------------------------------- helpers

  private async write(puts: WriteRequest[], stale: ItemKey[], what: string): Promise<ReplaceReport> {
    const deletes: WriteRequest[] = stale.map((Key) => ({ DeleteRequest: { Key: { ...Key } } }));
    try {
      await batchWriteAll(this.client, this.tableName, [...puts, ...deletes], this.batchWrite);
    } catch (error) {
      if (error instanceof StoreError) {
        throw new StoreError(`could not store ${what}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    return { written: puts.length, deleted: deletes.length };
  }

  /** Keys of every item of a base-table partition (strongly consistent). */
  private async partitionKeys(pk: string): Promise<ItemKey[]> {
    const items = await this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': pk },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      },
      undefined,
      'listing earlier items',
    );
    return items.map(keyOf);
  }

  /** The history manifests of every earlier run of a date (strongly consistent). */
  private async manifestItems(snapshotDate: string): Promise<Item[]> {
    return this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':p': runKey(snapshotDate).pk, ':m': 'CHG#' },
        ConsistentRead: true,
      },
      undefined,
      'reading the history manifest',
    );
  }

  private async queryAll(input: QueryCommandInput, limit: number | undefined, what: string): Promise<Item[]> {
    const out: Item[] = [];
    if (limit !== undefined && limit <= 0) return out;
    let start: Record<string, unknown> | undefined;
    do {
      const remaining = limit === undefined ? undefined : limit - out.length;
      const page = await storeCall(what, () =>
        this.client.send(
          new QueryCommand({
            ...input,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
            ...(remaining === undefined ? {} : { Limit: remaining }),
          }),
        ),
      );
      for (const item of page.Items ?? []) out.push(item);
      start = page.LastEvaluatedKey;
    } while (start !== undefined && (limit === undefined || out.length < limit));
    return out;
  }
}
