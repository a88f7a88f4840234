import { StoreError } from '../errors.ts';

/**
 * What an SDK error says about itself. The clients retry throttling, 5xx and network failures on
 * their own (aws-clients.ts sets how often): an error that reaches an adapter has had its retries.
 */
interface SdkErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE']);

/**
 * Whether an error may pass if the whole step is tried again later (throttling, a 5xx, a network
 * failure): the workflow's retry decides, the adapter only classifies.
 */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SdkErrorShape;
  if (e.name !== undefined && THROTTLE_NAMES.has(e.name)) return true;
  if (e.$retryable !== undefined) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return e.code !== undefined && NETWORK_CODES.has(e.code);
}

/** The first line of an error's message (SDK messages may carry a response body after it). */
export function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/** ` after N attempts` when the client tried the command more than once, else nothing. */
export function attemptsNote(error: unknown): string {
  const attempts = (error as SdkErrorShape | null)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? ` after ${attempts} attempts` : '';
}

/**
 * Runs one store call, turning its failure into a StoreError that names the operation. It does not
 * retry: the client already has (wrapping its retries in ours would multiply the attempts).
 */
export async function storeCall<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new StoreError(`${what} failed${attemptsNote(error)}: ${firstLine(error)}`, { cause: error });
  }
}
