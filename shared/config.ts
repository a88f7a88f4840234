import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { SecretName } from './ports/secret-source.ts';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);

/** The smallest SHARD_BYTES accepted (the deployment settings' minimum too): no swarm of tiny shards. */
export const MIN_SHARD_BYTES = 1 << 20;

/** A Lambda function's memory in MB, as Lambda allows it. */
const memoryMb = z.coerce.number().int().min(128).max(10_240).optional();

/** Environment of every Lambda function and of the local runner; read once at module load. */
export const RuntimeConfigSchema = z.object({
  BUCKET_NAME: z.string().min(1),
  TABLE_NAME: z.string().min(1),
  IDEMPOTENCY_TABLE_NAME: z.string().min(1).optional(),
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  REPORT_SENDER: z.string().email().default('risk-audit@example.com'),
  REPORT_RECIPIENTS: list.default([]),
  /** Days a run's per-loan detail items are kept in DynamoDB. */
  DETAIL_RETENTION_DAYS: z.coerce.number().int().positive().default(400),
  /** Seconds the email's link to the archived report stays valid. */
  REPORT_LINK_EXPIRY_SECONDS: z.coerce.number().int().positive().max(604_800).default(604_800),
  /**
   * The report-link function's URL: with REPORT_LINK_KEY, the email links through it (a signed
   * link good for REPORT_LINK_EXPIRY_SECONDS) instead of to a presigned S3 URL, which stops
   * working when the sending function's credentials expire.
   */
  REPORT_LINK_BASE_URL: z.string().url().optional(),
  /** SES configuration set every message is sent with (bounce and complaint events; set on AWS). */
  SES_CONFIGURATION_SET: z.string().min(1).optional(),
  /** Local time (HH:MM, in TIMEZONE) by which the day's tape should have landed. */
  TAPE_CUTOFF: z
    .string()
    .regex(/^\d{2}:\d{2}$/)
    .default('05:30'),
  TIMEZONE: z.string().default('Asia/Shanghai'),
  WATCHLIST_LIMIT: z.coerce.number().int().positive().default(5_000),
  /**
   * Uncompressed CSV/JSONL parts larger than this are split into row-aligned byte ranges. 128 MiB
   * from bench/shard.ts: a 128 MiB shard (~720k-800k rows) peaks at about 0.5 GB without the
   * previous index (a 256 MiB one 0.7 GB), leaving room in a 1,769 MB shard for the index.
   */
  SHARD_BYTES: z.coerce
    .number()
    .int()
    .min(MIN_SHARD_BYTES)
    .default(128 * 1024 * 1024),
  /**
   * Tape bytes per loan-id bucket of the score files: the merge map gets one item per bucket
   * (a power of two, see score-buckets.ts). 1 GiB (about 6M loans) keeps a bucket's merge near
   * 2-3 minutes at the measured 19-25 s per million loans.
   */
  SCORE_BUCKET_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024 * 1024),
  /**
   * Memory of the planned steps' functions in MB (the deployment's `*MemoryMb` settings, given to
   * the prepare step): prepare refuses a plan whose step would need more (domain/plan/memory.ts).
   * Unset locally, where the steps share the machine's memory and nothing is checked.
   */
  SHARD_MEMORY_MB: memoryMb,
  MERGE_AUDIT_MEMORY_MB: memoryMb,
  MERGE_SCORES_MEMORY_MB: memoryMb,
  FINALIZE_MEMORY_MB: memoryMb,
  /** Minutes a run's lease on its date lasts before another run may take it over. */
  LEASE_MINUTES: z.coerce.number().int().positive().default(60),
  /** Folder of the default policy files (set in the Lambda bundle; the repository's policies/ otherwise). */
  POLICY_DIR: z.string().optional(),
  POLICY_FILE: z.string().optional(),
  MAPPING_FILE: z.string().optional(),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** Parses the environment, failing fast with the names of the variables that are wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')} (${i.message})`).join(', ');
    throw new ConfigError(`invalid environment: ${names}`);
  }
  if (parsed.data.REPORT_LINK_BASE_URL !== undefined && !hasSecret(loadSecretsConfig(env), 'reportLinkKey')) {
    throw new ConfigError(
      'invalid environment: REPORT_LINK_BASE_URL needs the report-link key (REPORT_LINK_KEY_SECRET_ARN, or REPORT_LINK_KEY on the embedded stack)',
    );
  }
  return parsed.data;
}

/** The borrower-reference key of local runs (the embedded stack, tests); never used on AWS. */
export const LOCAL_BORROWER_REF_KEY = 'risk-audit-local-key';

const secretArn = z.string().regex(/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:.+$/, 'a secret ARN');

/**
 * Where the functions read their secrets (SECRET_SOURCE): `secrets-manager` on AWS, from the
 * ARNs each function is given (a function is given only the secrets it uses), or `environment`
 * on the embedded stack, which has no Secrets Manager, from plain variables. On AWS no secret
 * value is ever in the environment: a value variable next to SECRET_SOURCE=secrets-manager is
 * refused.
 */
export const SecretsConfigSchema = z
  .object({
    SECRET_SOURCE: z.enum(['environment', 'secrets-manager']).default('environment'),
    /** Seconds a value read from Secrets Manager is reused before it is read again. */
    SECRET_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    BORROWER_REF_KEY_SECRET_ARN: secretArn.optional(),
    REPORT_LINK_KEY_SECRET_ARN: secretArn.optional(),
    /** Secret key for the keyed hash of borrower ids in reports (borrowerRef); local runs only. */
    BORROWER_REF_KEY: z.string().min(8).optional(),
    /** Secret key of the HMAC that signs report links; local runs only. */
    REPORT_LINK_KEY: z.string().min(32).optional(),
    /** The report-link key before its last rotation; local runs only. */
    REPORT_LINK_PREVIOUS_KEY: z.string().min(32).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.SECRET_SOURCE !== 'secrets-manager') return;
    for (const name of ['BORROWER_REF_KEY', 'REPORT_LINK_KEY', 'REPORT_LINK_PREVIOUS_KEY'] as const) {
      if (c[name] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'a secret value must not be in the environment when SECRET_SOURCE is secrets-manager',
        });
      }
    }
  });
export type SecretsConfig = z.infer<typeof SecretsConfigSchema>;

/** Parses the secrets' configuration, failing fast with the names of the variables that are wrong. */
export function loadSecretsConfig(env: NodeJS.ProcessEnv = process.env): SecretsConfig {
  const parsed = SecretsConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')} (${i.message})`).join(', ');
    throw new ConfigError(`invalid environment: ${names}`);
  }
  return parsed.data;
}

/** The environment variable that gives a function each secret's ARN (Secrets Manager). */
export const SECRET_ARN_VARIABLES = {
  borrowerRefKey: 'BORROWER_REF_KEY_SECRET_ARN',
  reportLinkKey: 'REPORT_LINK_KEY_SECRET_ARN',
} as const satisfies Record<SecretName, keyof SecretsConfig>;

/** Whether the configuration gives this process a secret (an ARN on AWS, a value locally). */
export function hasSecret(config: SecretsConfig, name: SecretName): boolean {
  if (config.SECRET_SOURCE === 'secrets-manager') {
    return config[SECRET_ARN_VARIABLES[name]] !== undefined;
  }
  // Locally the borrower-reference key has a default.
  return name === 'borrowerRefKey' || config.REPORT_LINK_KEY !== undefined;
}

/** Environment of the report-link function: the bucket of the reports (its keys come from SecretSource). */
export function loadReportLinkConfig(env: NodeJS.ProcessEnv = process.env): { BUCKET_NAME: string } {
  const parsed = z.object({ BUCKET_NAME: z.string().min(1) }).safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join('.')} (${i.message})`).join(', ');
    throw new ConfigError(`invalid environment: ${names}`);
  }
  if (!hasSecret(loadSecretsConfig(env), 'reportLinkKey')) {
    throw new ConfigError(
      'invalid environment: the report-link function needs REPORT_LINK_KEY_SECRET_ARN (or REPORT_LINK_KEY on the embedded stack)',
    );
  }
  return parsed.data;
}
