/**
 * Robust DynamoDB writes: BatchWriteItem in chunks of 25 with bounded concurrency, retrying
 * UnprocessedItems and throttling errors with exponential backoff and full jitter, until every
 * request is written or a StoreError says what could not be.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '../errors.ts';

/** One put or delete of a batch write (document client form: plain JS values). */
export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/** Backoff settings; the defaults suit DynamoDB on-demand tables. */
export interface RetryOptions {
  /** Attempts per batch (the first try included) before giving up. @default 10 */
  maxAttempts?: number;
  /** Base of the exponential backoff. @default 50 */
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
  /** Calls to BatchWriteItem, retries included. */
  calls: number;
  /** Waits taken because of throttling or unprocessed items. */
  retries: number;
}

const DEFAULTS = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 5_000, concurrency: 8 } as const;
const BATCH_SIZE = 25;

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);

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

/** Whether an error is worth retrying: throttling, a 5xx, or a network failure the SDK marks retryable. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name !== undefined && THROTTLE_NAMES.has(e.name)) return true;
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT' || e.code === 'ECONNREFUSED' || e.code === 'EPIPE';
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs an async operation, retrying retryable errors with backoff up to maxAttempts. */
export async function withRetry<T>(
  what: string,
  operation: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isRetryable(error) || attempt + 1 >= maxAttempts) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        const tries = attempt === 0 ? '' : ` after ${attempt + 1} attempts`;
        throw new StoreError(`${what} failed${tries}: ${reason}`, { cause: error });
      }
      await sleep(
        backoffDelay(
          attempt,
          options.baseDelayMs ?? DEFAULTS.baseDelayMs,
          options.maxDelayMs ?? DEFAULTS.maxDelayMs,
          options.random,
        ),
      );
    }
  }
}

async function writeOneBatch(
  client: DynamoDBDocumentClient,
  tableName: string,
  batch: WriteRequest[],
  options: RetryOptions,
  report: BatchWriteReport,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  const base = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const cap = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const sleep = options.sleep ?? realSleep;
  let pending = batch;
  let lastReason = 'unprocessed items';
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      report.retries++;
      await sleep(backoffDelay(attempt - 1, base, cap, options.random));
    }
    report.calls++;
    try {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      const left = (out.UnprocessedItems?.[tableName] ?? []) as WriteRequest[];
      report.written += pending.length - left.length;
      if (left.length === 0) return;
      pending = left;
      lastReason = `${left.length} unprocessed items`;
    } catch (error) {
      if (!isRetryable(error)) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new StoreError(`could not write ${pending.length} items to table ${tableName}: ${reason}`, {
          cause: error,
        });
      }
      lastReason = error instanceof Error ? (error.name ?? error.message) : String(error);
    }
  }
  throw new StoreError(
    `could not write ${pending.length} items to table ${tableName} after ${maxAttempts} attempts (${lastReason})`,
  );
}

/** Writes every request (chunks of 25, `concurrency` in flight) or throws a StoreError; returns what it took. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: RetryOptions = {},
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
