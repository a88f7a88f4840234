import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { defaultPolicyPaths } from '../domain/policy/policy.ts';
import { RiskAuditError } from '../errors.ts';
import type { WorkerReply } from './worker-serve.ts';

/** A job's worker failed: the run fails with the worker's sentence. */
export class ShardFailedError extends RiskAuditError {}

/** The worker entry module (in this folder) the runs use; a pool also takes another module's URL. */
export type WorkerEntry = 'lambda-worker-impl.ts';

const bundles = new Map<string, Promise<URL>>();

/** Where bundles are kept between runs: one per entry and content, reused while the sources are unchanged. */
const BUNDLE_DIR = join(tmpdir(), 'risk-audit-workers');

/** What a kept bundle was built from (its stamp file beside it in the temp folder). */
const BundleStampSchema = z.object({
  bundle: z.string().min(1),
  /** Every input file of the bundle with its size and modification time when it was built. */
  inputs: z.record(z.string(), z.tuple([z.number(), z.number()])),
});
type BundleStamp = z.infer<typeof BundleStampSchema>;

function unchanged(stamp: BundleStamp): boolean {
  if (!existsSync(stamp.bundle)) return false;
  for (const [path, [size, mtimeMs]] of Object.entries(stamp.inputs)) {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s === undefined || s.size !== size || s.mtimeMs !== mtimeMs) return false;
  }
  return true;
}

/**
 * A worker's code as one ES module, bundled with esbuild: a worker then starts in a fraction of a
 * second instead of transpiling every TypeScript module again through tsx (about 3 s per worker
 * on this machine). The bundle is named by its content and kept in the temp folder with the list
 * of its inputs, so a later run whose sources have not changed skips the build (about 0.5 s) and
 * runs leave no file per process behind. Without esbuild (a production install), the tsx
 * bootstrap `worker-bootstrap.js` loads the TypeScript entry.
 */
function workerModule(source: URL): Promise<URL> {
  let bundle = bundles.get(source.href);
  if (bundle === undefined) {
    bundle = (async () => {
      const name = basename(fileURLToPath(source)).replace(/\.ts$/, '');
      const root = fileURLToPath(new URL('../..', import.meta.url));
      // One stamp per checkout: another copy of the project never reuses this one's bundle.
      const stampPath = join(
        BUNDLE_DIR,
        `${name}-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.json`,
      );
      try {
        const stamp = BundleStampSchema.parse(JSON.parse(readFileSync(stampPath, 'utf8')));
        if (unchanged(stamp)) return pathToFileURL(stamp.bundle);
      } catch {
        // No usable stamp: build.
      }
      try {
        const { build } = await import('esbuild');
        const result = await build({
          entryPoints: [fileURLToPath(source)],
          absWorkingDir: root,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          write: false,
          metafile: true,
          outfile: join(BUNDLE_DIR, `${name}.mjs`),
          logLevel: 'silent',
          banner: {
            js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
          },
        });
        const code = result.outputFiles[0]!.contents;
        const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
        const path = join(BUNDLE_DIR, `${name}-${hash}.mjs`);
        const inputs: BundleStamp['inputs'] = {};
        for (const input of Object.keys(result.metafile.inputs)) {
          const file = resolve(root, input.replace(/^[a-z-]+:/, ''));
          const s = statSync(file, { throwIfNoEntry: false });
          if (s !== undefined) inputs[file] = [s.size, s.mtimeMs];
        }
        mkdirSync(BUNDLE_DIR, { recursive: true });
        // Written under a private name, then renamed: concurrent runs never see half a file.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, code);
        renameSync(tmp, path);
        writeFileSync(`${stampPath}.${process.pid}.tmp`, JSON.stringify({ bundle: path, inputs }));
        renameSync(`${stampPath}.${process.pid}.tmp`, stampPath);
        return pathToFileURL(path);
      } catch {
        return new URL('./worker-bootstrap.js', import.meta.url);
      }
    })();
    bundles.set(source.href, bundle);
  }
  return bundle;
}

/**
 * Worker threads that each run jobs in turn, the local counterpart of the Distributed Map's
 * Lambdas: `map` runs a list of jobs on at most `threads` threads and returns the results in
 * order. Jobs run first come, first served, also across `map` calls made one after the other
 * without waiting (a later list starts on the first thread that frees up). Threads are started once and reused; `close` ends them. A worker
 * entry answers each posted job with one WorkerReply.
 */
export class WorkerPool<Job = unknown> {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly dead = new WeakSet<Worker>();
  private readonly queue: { job: Job; resolve: (r: unknown) => void; reject: (e: unknown) => void }[] = [];
  private starting = 0;
  private closed = false;
  /** The worker entry module's URL. */
  private readonly source: URL;

  /**
   * Starts its threads at once (a thread takes about 0.2 s to load its bundle), so they are
   * ready by the first job while the caller still reads its settings.
   */
  public constructor(
    private readonly threads: number,
    entry: WorkerEntry | URL = 'lambda-worker-impl.ts',
  ) {
    this.source = typeof entry === 'string' ? new URL(`./${entry}`, import.meta.url) : entry;
    for (let i = 0; i < threads; i++) this.spawn();
  }

  /**
   * Runs `jobs` on the pool; the first failure fails the whole map with the worker's sentence.
   * `onResult` sees each result as soon as its job is done (a throw there fails the map too).
   */
  public map<R>(jobs: readonly Job[], onResult?: (result: R, index: number) => void): Promise<R[]> {
    return Promise.all(
      jobs.map((job, i) =>
        new Promise<R>((resolve, reject) => {
          this.queue.push({ job, resolve: resolve as (r: unknown) => void, reject });
          this.pump();
        }).then((result) => {
          onResult?.(result, i);
          return result;
        }),
      ),
    );
  }

  /** Stops every thread; jobs still queued fail. */
  public async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new ShardFailedError('the worker pool was closed'));
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }

  /** Gives queued jobs to idle threads, starting threads (up to their number) for the rest. */
  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop();
      if (worker === undefined) {
        if (this.closed || this.queue.length <= this.starting) return;
        if (this.all.length + this.starting >= this.threads) return;
        this.spawn();
        continue;
      }
      const task = this.queue.shift()!;
      this.run(worker, task.job)
        .then(task.resolve, task.reject)
        .finally(() => {
          // A thread that stopped is dropped; a job that failed with its sentence leaves it usable.
          if (this.dead.has(worker)) this.all.splice(this.all.indexOf(worker), 1);
          else if (!this.closed) this.idle.push(worker);
          this.pump();
        });
    }
  }

  /** Starts one thread; it takes a queued job, if any, once it is up. */
  private spawn(): void {
    this.starting++;
    this.start().then(
      (w) => {
        this.starting--;
        this.idle.push(w);
        this.pump();
      },
      (error: unknown) => {
        this.starting--;
        this.queue.shift()?.reject(error);
        this.pump();
      },
    );
  }

  private async start(): Promise<Worker> {
    const url = await workerModule(this.source);
    if (this.closed) throw new ShardFailedError('the worker pool was closed');
    // The bundle lives outside the repository: tell it where the default policy files are.
    const policyDir = process.env.POLICY_DIR ?? dirname(defaultPolicyPaths().rules);
    const worker = new Worker(url, {
      env: { ...process.env, POLICY_DIR: policyDir },
      // The bundle needs no loader; the tsx bootstrap registers its own.
      execArgv: [],
      workerData: { entry: this.source.href },
    });
    this.all.push(worker);
    return worker;
  }

  private run(worker: Worker, job: Job): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: WorkerReply): void => {
        done();
        if (reply.ok) resolve(reply.result);
        else {
          // The job's own error name goes with its sentence (the workflow's Retry and Catch match on it).
          const error = new ShardFailedError(reply.error);
          if (reply.name && reply.name !== 'Error') error.name = reply.name;
          reject(error);
        }
      };
      const onError = (e: Error): void => {
        done();
        this.dead.add(worker);
        reject(new ShardFailedError(e.message, { cause: e }));
      };
      const onExit = (code: number): void => {
        done();
        this.dead.add(worker);
        reject(new ShardFailedError(`a worker thread stopped with exit code ${code}`));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage(job);
    });
  }
}
