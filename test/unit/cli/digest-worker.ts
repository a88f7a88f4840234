/** A worker entry for the WorkerPool tests: answers each job with the sha256 of the file it names. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { serveJobs } from '../../../shared/cli/worker-serve.ts';

serveJobs<{ path: string }>(parentPort!, async (job) => ({
  result: createHash('sha256')
    .update(await readFile(job.path))
    .digest('hex'),
}));
