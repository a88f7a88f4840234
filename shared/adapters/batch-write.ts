/**
 * DynamoDB batch writes: BatchWriteItem in chunks of 25 with bounded concurrency, sending the
 * UnprocessedItems again with exponential backoff and full jitter until every request is written
 * or a StoreError says what could not be. UnprocessedItems come back in a successful response, so
 * the SDK does not retry them; a throttled or failed call is the client's to retry (its
 * retryStrategy, aws-clients.ts) and ends the write when it still fails.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../errors.ts';
import { attemptsNote, firstLine } from './aws-errors.ts';

/** One put or delete of a batch write (document client form: plain JS values). */
export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/** Settings of a batch write; the defaults suit DynamoDB on-demand tables. */
export interface BatchWriteOptions {
  /** Calls per batch (the first included) while items stay unprocessed. @default 10 */
  maxAttempts?: number;
  /** Base of the exponential backoff between those calls. @default 50 */
  baseDelayMs?: number;
  /** Cap of one wait. @default 5000 */
  maxDelayMs?: number;
  /** Batches in flight at once. @default 8 */
  concurrency?: number;
  /** Injected for tests (no real waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests (deterministic jitter). @default Math.random */
  random?: () => number;
}

/** What a batch write did. */
export interface BatchWriteReport {
  /** Requests accepted by DynamoDB (puts + deletes). */
  written: number;
  /** Calls to BatchWriteItem, the ones sending unprocessed items again included. */
  calls: number;
  /** Waits taken because of unprocessed items. */
  retries: number;
}

const DEFAULTS = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 5_000, concurrency: 8 } as const;
const BATCH_SIZE = 25;

/** Full-jitter exponential backoff: a uniform wait in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function writeOneBatch(
  client: DynamoDBDocumentClient,
  tableName: string,
  batch: WriteRequest[],
  options: BatchWriteOptions,
  report: BatchWriteReport,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  const base = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const cap = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const sleep = options.sleep ?? realSleep;
  let pending = batch;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      report.retries++;
      await sleep(backoffDelay(attempt - 1, base, cap, options.random));
    }
    report.calls++;
    let left: WriteRequest[];
    try {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      left = (out.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
    } catch (error) {
      throw new StoreError(
        `could not write ${pending.length} items to table ${tableName}${attemptsNote(error)}: ${firstLine(error)}`,
        { cause: error },
      );
    }
    report.written += pending.length - left.length;
    if (left.length === 0) return;
    pending = left;
  }
  throw new StoreError(
    `could not write ${pending.length} items to table ${tableName} after ${maxAttempts} attempts (${pending.length} unprocessed items)`,
  );
}

/** Writes every request (chunks of 25, `concurrency` in flight) or throws a StoreError; returns what it took. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: BatchWriteOptions = {},
): Promise<BatchWriteReport> {
  const report: BatchWriteReport = { written: 0, calls: 0, retries: 0 };
  const concurrency = Math.max(1, options.concurrency ?? DEFAULTS.concurrency);
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (failed === null) {
      const start = next;
      if (start >= requests.length) return;
      next += BATCH_SIZE;
      try {
        await writeOneBatch(client, tableName, requests.slice(start, start + BATCH_SIZE), options, report);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, Math.ceil(requests.length / BATCH_SIZE)) }, worker),
  );
  if (failed !== null) throw failed;
  return report;
}
