import { parentPort } from 'node:worker_threads';
import { runShardJob } from './shard-jobs.ts';
import { serveJobs } from './worker-serve.ts';

// One worker serves many jobs in turn (the previous tape's ranges, then the shards, then the
// digests), so a run starts each thread once.
serveJobs(parentPort!, runShardJob);
