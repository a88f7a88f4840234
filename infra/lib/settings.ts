import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { defaultPolicyPaths, parsePolicy } from '../../shared/domain/policy/policy.ts';
import { parseMapping } from '../../shared/domain/tape/mapping.ts';
import { ConfigError } from '../../shared/errors.ts';
import { PROJECT_ROOT } from './constructs/audit-function.ts';

/**
 * Deployment settings of the risk-audit stack: documented defaults, validation with readable
 * errors, and reading them from CDK context (`-c key=value` or cdk.json).
 */

/** How the SES sending identity is created: for the sender's address, its whole domain, or not at all. */
export type SenderIdentityMode = 'email' | 'domain' | 'none';

/** Settings of one deployment; every field has a default so `npx cdk synth` works with no flags. */
export interface AuditSettings {
  /**
   * Addresses that receive the nightly report.
   * @default ['risk-team@example.com']
   */
  readonly recipients?: readonly string[];
  /**
   * From address of the report; SES must be allowed to send from it.
   * @default 'risk-audit@example.com'
   */
  readonly sender?: string;
  /**
   * SES identity created for the sender: `domain` verifies the sender's domain with Easy DKIM
   * (2048-bit; the three CNAME records to publish are stack outputs), so the reports pass the
   * recipients' DMARC checks; `email` verifies the address alone (a click on SES's mail, no DNS,
   * but messages signed only by amazonses.com); `none` uses an identity already in the account.
   * @default 'domain'
   */
  readonly senderIdentity?: SenderIdentityMode;
  /**
   * EventBridge Scheduler cron expression of the nightly run, evaluated in `timezone`.
   * @default 'cron(0 6 * * ? *)' (06:00 every day)
   */
  readonly scheduleCron?: string;
  /**
   * IANA time zone of the schedule and of the tape cutoff; the run audits the previous local day.
   * @default 'Asia/Shanghai'
   */
  readonly timezone?: string;
  /**
   * Whether the nightly schedule is enabled (disable it to keep only on-demand runs).
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Days run results (DynamoDB detail items, quarantine, score and report files) are kept.
   * @default 400
   */
  readonly retentionDays?: number;
  /**
   * Days the tapes themselves are kept in S3 (loan records are often kept for years).
   * @default 2557 (seven years)
   */
  readonly tapeRetentionDays?: number;
  /**
   * Local time (HH:MM in `timezone`) by which the day's tape must have landed.
   * @default '05:30'
   */
  readonly tapeCutoff?: string;
  /**
   * Addresses subscribed to the alarm topic (SES sends each a confirmation mail on deploy, which
   * must be clicked before alarms reach it).
   * @default - none: subscribe to the AlarmTopicArn output yourself
   */
  readonly alarmEmails?: readonly string[];
  /**
   * One address subscribed to the alarm topic.
   * @deprecated use `alarmEmails`; a value here is added to them
   * @default - none
   */
  readonly alarmEmail?: string;
  /**
   * Most Lambdas each Distributed Map (shards, then loan-id buckets) runs at once. The default
   * fits a new account, whose Lambda concurrency quota may be as low as 10: the map leaves room
   * for the report-link function and an on-demand start. Raise it once the quota is raised
   * (README, Quotas); keep it below the account's concurrency.
   * @default 8
   */
  readonly mapMaxConcurrency?: number;
  /**
   * Reserved concurrency of the public report-link function: a flood of requests gets 429s from
   * Lambda instead of the night's capacity (about 10 requests a second per unit). `'none'`
   * reserves nothing, for accounts whose concurrency quota is below 100 + this value, where
   * Lambda refuses any reservation.
   * @default 5
   */
  readonly reportLinkConcurrency?: number | 'none';
  /**
   * Memory of the shard-scoring Lambda in MB (CPU grows with memory; 1769 MB is one full vCPU).
   * A 128 MiB shard needs about 510 MB whatever the book's size on a night whose loan-id buckets
   * count drift (the previous date audited by a run on an unchanged tape). On a night the shards
   * count it from the previous date's drift index (a first night, a previous tape delivered again)
   * each also loads the index (17 MB at 1M loans, 134 MB at 10M), held twice while it downloads:
   * 2,348 MB above about 50M loans, use 3008 there. The prepare step refuses a plan whose largest
   * shard would need more (README, Scale plan).
   * @default 1769
   */
  readonly shardMemoryMb?: number;
  /**
   * Memory of the merge-audit Lambda in MB. It holds the merged borrower table, the rule hits
   * every bucket needs and the date's new drift index: about 410 MB at 1M loans, 2,300 MB at 10M;
   * 3008 holds about 13M loans, 10240 (the Lambda maximum) about 47M (README, Scale plan).
   * @default 3008
   */
  readonly mergeMemoryMb?: number;
  /**
   * Memory of the loan-id bucket merge Lambda (merge-scores) in MB: about 200 MB and 215 MB per
   * million loans in its bucket (1.3 GB for a 5M-loan bucket); a bucket of at most 1 GiB of tape
   * needs at most about 1.7 GB. 1769 MB is also one full vCPU, which its merge uses.
   * @default 1769
   */
  readonly bucketMemoryMb?: number;
  /**
   * Memory of the finalize Lambda in MB: it combines the buckets' small results with the audit
   * (about 210 MB at 10M loans).
   * @default 1024
   */
  readonly finalizeMemoryMb?: number;
  /**
   * Start a run when a tape object lands under `snapshots/` (besides the schedule).
   * @default false
   */
  readonly s3Trigger?: boolean;
  /**
   * Key suffix that starts a run when `s3Trigger` is on; set it to a marker (e.g. `_SUCCESS`)
   * when tapes arrive in several parts, so that one run starts per date.
   * @default - any object under `snapshots/`
   */
  readonly s3TriggerSuffix?: string;
  /**
   * Uncompressed bytes above which one tape part is split into row-aligned shards.
   * @default - the functions' default (128 MiB)
   */
  readonly shardBytes?: number;
  /**
   * Loans listed at most in a report's watchlist.
   * @default 5000
   */
  readonly watchlistLimit?: number;
  /**
   * The lender's column mapping (YAML or JSON, as `risk-audit score --mapping`), a path inside
   * the project such as `config/mapping.yaml`: shipped in the functions that read tapes and read
   * through MAPPING_FILE. Checked when the stack is built: a mapping that does not load fails the
   * synth, not the first night.
   * @default - none: tapes carry the canonical headers of loan-tape.md
   */
  readonly mappingFile?: string;
  /**
   * A rule pack or risk appetite replacing the default one of its kind (as `--policy`), a path
   * inside the project: shipped in the functions that score and rate, read through POLICY_FILE,
   * and checked when the stack is built.
   * @default - the default policy files under `policies/`
   */
  readonly policyFile?: string;
}

/** Settings with every default applied and every value checked. */
export type ResolvedSettings = Required<
  Omit<AuditSettings, 'alarmEmail' | 's3TriggerSuffix' | 'shardBytes' | 'mappingFile' | 'policyFile'>
> &
  Pick<AuditSettings, 's3TriggerSuffix' | 'shardBytes' | 'mappingFile' | 'policyFile'> & {
    readonly recipients: readonly string[];
    /** Every alarm address, `alarmEmail` included. */
    readonly alarmEmails: readonly string[];
  };

/** Defaults of every setting (also listed in cdk.json's context). */
export const DEFAULT_SETTINGS = {
  recipients: ['risk-team@example.com'],
  sender: 'risk-audit@example.com',
  senderIdentity: 'domain',
  scheduleCron: 'cron(0 6 * * ? *)',
  timezone: 'Asia/Shanghai',
  scheduleEnabled: true,
  retentionDays: 400,
  tapeRetentionDays: 2557,
  tapeCutoff: '05:30',
  alarmEmails: [],
  mapMaxConcurrency: 8,
  reportLinkConcurrency: 5,
  shardMemoryMb: 1769,
  mergeMemoryMb: 3008,
  bucketMemoryMb: 1769,
  finalizeMemoryMb: 1024,
  s3Trigger: false,
  watchlistLimit: 5000,
} as const satisfies ResolvedSettings;

/** Thrown for a setting that cannot be deployed; the message names the setting and the value. */
export class SettingsError extends ConfigError {}

const EMAIL = /^[^@\s,;]+@[^@\s,;]+\.[A-Za-z0-9-]{2,}$/;
// EventBridge Scheduler cron: six fields (minutes hours day-of-month month day-of-week year).
const CRON = /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function fail(name: string, expected: string, value: unknown): never {
  throw new SettingsError(`invalid ${name}: expected ${expected}, got ${JSON.stringify(value)}`);
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** Tells whether the runtime knows an IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}

/** Applies defaults and checks every setting, throwing a SettingsError on the first bad one. */
export function resolveSettings(settings: AuditSettings = {}): ResolvedSettings {
  const { alarmEmail, ...rest } = settings;
  const given = { ...DEFAULT_SETTINGS, ...stripUndefined(rest) };
  // The older single address joins the list (once).
  const s = {
    ...given,
    alarmEmails: [...new Set([...given.alarmEmails, ...(alarmEmail === undefined ? [] : [alarmEmail])])],
  };
  if (s.recipients.length === 0) fail('recipients', 'at least one email address', s.recipients);
  for (const r of s.recipients) if (!EMAIL.test(r)) fail('recipients', 'email addresses', r);
  if (!EMAIL.test(s.sender)) fail('sender', 'an email address', s.sender);
  if (!['email', 'domain', 'none'].includes(s.senderIdentity)) {
    fail('senderIdentity', "one of 'email', 'domain', 'none'", s.senderIdentity);
  }
  if (!CRON.test(s.scheduleCron))
    fail('scheduleCron', "a six-field 'cron(m h dom mon dow year)'", s.scheduleCron);
  if (!isTimeZone(s.timezone)) fail('timezone', "an IANA time zone such as 'Asia/Shanghai'", s.timezone);
  checkInt('retentionDays', s.retentionDays, 1, 3650);
  checkInt('tapeRetentionDays', s.tapeRetentionDays, 2, 36500);
  if (!HHMM.test(s.tapeCutoff)) fail('tapeCutoff', "a local time 'HH:MM'", s.tapeCutoff);
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) fail('alarmEmail', 'an email address', alarmEmail);
  for (const a of s.alarmEmails) if (!EMAIL.test(a)) fail('alarmEmails', 'email addresses', a);
  checkInt('mapMaxConcurrency', s.mapMaxConcurrency, 1, 10_000);
  if (s.reportLinkConcurrency !== 'none') {
    if (
      !Number.isInteger(s.reportLinkConcurrency) ||
      s.reportLinkConcurrency < 1 ||
      s.reportLinkConcurrency > 1000
    ) {
      fail('reportLinkConcurrency', "an integer from 1 to 1000, or 'none'", s.reportLinkConcurrency);
    }
  }
  checkInt('shardMemoryMb', s.shardMemoryMb, 128, 10_240);
  checkInt('mergeMemoryMb', s.mergeMemoryMb, 128, 10_240);
  checkInt('bucketMemoryMb', s.bucketMemoryMb, 128, 10_240);
  checkInt('finalizeMemoryMb', s.finalizeMemoryMb, 128, 10_240);
  checkInt('watchlistLimit', s.watchlistLimit, 1, 1_000_000);
  if (s.shardBytes !== undefined) checkInt('shardBytes', s.shardBytes, 1 << 20, 10 * 1024 ** 3);
  if (s.s3TriggerSuffix !== undefined && s.s3TriggerSuffix.length === 0) {
    fail('s3TriggerSuffix', 'a non-empty key suffix', s.s3TriggerSuffix);
  }
  if (s.mappingFile !== undefined) {
    const text = projectFile('mappingFile', s.mappingFile);
    loads('mappingFile', () => parseMapping(text, s.mappingFile));
  }
  if (s.policyFile !== undefined) {
    const text = projectFile('policyFile', s.policyFile);
    const defaults = defaultPolicyPaths();
    loads('policyFile', () =>
      parsePolicy([
        { fileName: defaults.rules, text: readFileSync(defaults.rules, 'utf8') },
        { fileName: defaults.appetite, text: readFileSync(defaults.appetite, 'utf8') },
        { fileName: s.policyFile!, text },
      ]),
    );
  }
  return s;
}

/** The text of a file given as a path inside the project (it is copied into function assets). */
function projectFile(name: string, path: string): string {
  const rel = normalize(path);
  if (path.length === 0 || isAbsolute(path) || rel.startsWith('..')) {
    fail(name, "a path inside the project, such as 'config/file.yaml'", path);
  }
  const file = join(PROJECT_ROOT, rel);
  if (!existsSync(file)) fail(name, 'an existing file (relative to the project root)', path);
  return readFileSync(file, 'utf8');
}

/** Runs a file's own checks, turning their error into this setting's. */
function loads(name: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw new SettingsError(`invalid ${name}: ${(error as Error).message}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads one context value; the CLI passes `-c` values as strings, cdk.json may hold typed values. */
export type ContextReader = (key: string) => unknown;

function asString(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(name, 'a string', v);
}

function asNumber(name: string, v: unknown): number | undefined {
  const t = asString(name, v);
  if (t === undefined) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : fail(name, 'a number', v);
}

function asBoolean(name: string, v: unknown): boolean | undefined {
  const t = asString(name, v);
  if (t === undefined) return undefined;
  if (t === 'true') return true;
  if (t === 'false') return false;
  return fail(name, "'true' or 'false'", v);
}

function asList(name: string, v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.map((x) => asString(name, x) ?? '').filter((x) => x.length > 0);
  const t = asString(name, v);
  if (t === undefined) return undefined;
  return t
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** Context keys read by the app, one per setting (e.g. `-c recipients=a@x.com,b@x.com`). */
export const CONTEXT_KEYS = [
  'recipients',
  'sender',
  'senderIdentity',
  'scheduleCron',
  'timezone',
  'scheduleEnabled',
  'retentionDays',
  'tapeRetentionDays',
  'tapeCutoff',
  'alarmEmails',
  'alarmEmail',
  'mapMaxConcurrency',
  'reportLinkConcurrency',
  'shardMemoryMb',
  'mergeMemoryMb',
  'bucketMemoryMb',
  'finalizeMemoryMb',
  's3Trigger',
  's3TriggerSuffix',
  'shardBytes',
  'watchlistLimit',
  'mappingFile',
  'policyFile',
] as const satisfies readonly (keyof AuditSettings)[];

/** Builds settings from CDK context values; unset keys keep their defaults. */
export function settingsFromContext(read: ContextReader): AuditSettings {
  const senderIdentity = asString('senderIdentity', read('senderIdentity'));
  const settings: { -readonly [K in keyof AuditSettings]: AuditSettings[K] } = {};
  const put = <K extends keyof AuditSettings>(k: K, v: AuditSettings[K] | undefined): void => {
    if (v !== undefined) settings[k] = v;
  };
  put('recipients', asList('recipients', read('recipients')));
  put('sender', asString('sender', read('sender')));
  put('senderIdentity', senderIdentity as SenderIdentityMode | undefined);
  put('scheduleCron', asString('scheduleCron', read('scheduleCron')));
  put('timezone', asString('timezone', read('timezone')));
  put('scheduleEnabled', asBoolean('scheduleEnabled', read('scheduleEnabled')));
  put('retentionDays', asNumber('retentionDays', read('retentionDays')));
  put('tapeRetentionDays', asNumber('tapeRetentionDays', read('tapeRetentionDays')));
  put('tapeCutoff', asString('tapeCutoff', read('tapeCutoff')));
  put('alarmEmails', asList('alarmEmails', read('alarmEmails')));
  put('alarmEmail', asString('alarmEmail', read('alarmEmail')));
  put('mapMaxConcurrency', asNumber('mapMaxConcurrency', read('mapMaxConcurrency')));
  const linkConcurrency = asString('reportLinkConcurrency', read('reportLinkConcurrency'));
  put(
    'reportLinkConcurrency',
    linkConcurrency === undefined || linkConcurrency === 'none'
      ? linkConcurrency
      : (asNumber('reportLinkConcurrency', linkConcurrency) as number),
  );
  put('shardMemoryMb', asNumber('shardMemoryMb', read('shardMemoryMb')));
  put('mergeMemoryMb', asNumber('mergeMemoryMb', read('mergeMemoryMb')));
  put('bucketMemoryMb', asNumber('bucketMemoryMb', read('bucketMemoryMb')));
  put('finalizeMemoryMb', asNumber('finalizeMemoryMb', read('finalizeMemoryMb')));
  put('s3Trigger', asBoolean('s3Trigger', read('s3Trigger')));
  put('s3TriggerSuffix', asString('s3TriggerSuffix', read('s3TriggerSuffix')));
  put('shardBytes', asNumber('shardBytes', read('shardBytes')));
  put('watchlistLimit', asNumber('watchlistLimit', read('watchlistLimit')));
  put('mappingFile', asString('mappingFile', read('mappingFile')));
  put('policyFile', asString('policyFile', read('policyFile')));
  return settings;
}
