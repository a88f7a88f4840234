/**
 * The worker side of a WorkerPool, kept apart from the pool (which builds worker bundles with
 * esbuild) so that a worker's bundle carries none of that.
 */

/** A worker's answer to one job: its result, or the one-sentence error that failed it. */
export type WorkerReply = { ok: true; result: unknown } | { ok: false; error: string; name: string };

/**
 * The worker side: answers each posted job with one WorkerReply, `run` giving the result and the
 * buffers to transfer with it.
 */
export function serveJobs<Job>(
  port: import('node:worker_threads').MessagePort,
  run: (job: Job) => Promise<{ result: unknown; transfer?: ArrayBuffer[] }>,
): void {
  port.on('message', (job: Job) => {
    run(job).then(
      ({ result, transfer }) => port.postMessage({ ok: true, result } satisfies WorkerReply, transfer ?? []),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        port.postMessage({ ok: false, error: e.message, name: e.name } satisfies WorkerReply);
      },
    );
  });
}
