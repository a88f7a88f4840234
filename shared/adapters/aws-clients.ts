/**
 * One factory for the SDK v3 clients, reading the standard AWS environment variables so the same
 * code runs in Lambda (no overrides: real endpoints, role credentials) and locally (the embedded
 * stack sets AWS_ENDPOINT_URL_S3 / _DYNAMODB / _SESV2 and dummy keys).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Environment the clients are built from (process.env by default). */
export type AwsEnv = Readonly<Record<string, string | undefined>>;

/** The clients every adapter needs, built once per process. */
export interface AwsClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  ses: SESv2Client;
}

/**
 * Attempts per command (the first included) the clients make on their own, in the SDK's standard
 * retry mode: throttling, 5xx and network failures are retried with its exponential backoff and
 * full jitter (throttling from a longer base) under its retry quota, which stops a storm of
 * retries when a service is down. The adapters add no retry loop of their own around a command;
 * only DynamoDB's UnprocessedItems, which arrive in a successful response, are sent again by
 * batch-write.ts.
 */
export const MAX_ATTEMPTS = {
  /** On-demand tables throttle a burst (a night's history writes) until they have scaled. */
  dynamodb: 10,
  /** The SDK's default. */
  s3: 3,
  /** The SDK's default; a throttled send fails the report step, which the workflow retries. */
  ses: 3,
} as const;

interface CommonConfig {
  maxAttempts: number;
  retryMode: 'standard';
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

// The SDK reads AWS_ENDPOINT_URL_<SERVICE ID> from process.env by itself; resolving it here as
// well lets a caller pass another env object (a test's provided env) without mutating process.env.
function commonConfig(env: AwsEnv, serviceSuffix: string, maxAttempts: number): CommonConfig {
  const config: CommonConfig = { maxAttempts, retryMode: 'standard' };
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined && region !== '') config.region = region;
  const endpoint = env[`AWS_ENDPOINT_URL_${serviceSuffix}`] ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined && endpoint !== '') config.endpoint = endpoint;
  // Explicit keys only when the env object is not process.env (the default chain reads those).
  if (env !== process.env && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    config.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return config;
}

function checksumMode(value: string | undefined): 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  return upper === 'WHEN_REQUIRED' || upper === 'WHEN_SUPPORTED' ? upper : undefined;
}

/** An S3 client; path-style addressing when an endpoint override is set (s3rver has no vhosts on 127.0.0.1). */
export function createS3Client(env: AwsEnv = process.env, overrides: S3ClientConfig = {}): S3Client {
  const common = commonConfig(env, 'S3', MAX_ATTEMPTS.s3);
  const config: S3ClientConfig = { ...common };
  if (common.endpoint !== undefined) config.forcePathStyle = true;
  const request = checksumMode(env.AWS_REQUEST_CHECKSUM_CALCULATION);
  if (request !== undefined) config.requestChecksumCalculation = request;
  const response = checksumMode(env.AWS_RESPONSE_CHECKSUM_VALIDATION);
  if (response !== undefined) config.responseChecksumValidation = response;
  return new S3Client({ ...config, ...overrides });
}

/** A low-level DynamoDB client (table administration, raw commands), retrying throttled commands MAX_ATTEMPTS.dynamodb times. */
export function createDynamoClient(
  env: AwsEnv = process.env,
  overrides: DynamoDBClientConfig = {},
): DynamoDBClient {
  return new DynamoDBClient({ ...commonConfig(env, 'DYNAMODB', MAX_ATTEMPTS.dynamodb), ...overrides });
}

/** Wraps a DynamoDB client so adapters read and write plain objects; undefined fields are dropped, not errors. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

/** An SES v2 client (endpoint override AWS_ENDPOINT_URL_SESV2 locally). */
export function createSesClient(env: AwsEnv = process.env, overrides: SESv2ClientConfig = {}): SESv2Client {
  return new SESv2Client({ ...commonConfig(env, 'SESV2', MAX_ATTEMPTS.ses), ...overrides });
}

/** All clients at once, for a handler's module scope or the CLI. */
export function createAwsClients(env: AwsEnv = process.env): AwsClients {
  const dynamodb = createDynamoClient(env);
  return {
    s3: createS3Client(env),
    dynamodb,
    doc: createDocumentClient(dynamodb),
    ses: createSesClient(env),
  };
}

/** Closes the clients' sockets so a CLI process can exit promptly. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.doc.destroy();
  clients.dynamodb.destroy();
  clients.ses.destroy();
}
