import { parentPort } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.ts';
import { serveJobs } from './worker-serve.ts';

/** One item of the local Distributed Map: the shard event the score-shard Lambda would receive. */
export interface LambdaJob {
  event: unknown;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

let handler: Promise<Handler> | null = null;

// Imported on the first job, once: like a Lambda's cold start, the handler reads its environment
// (the local stack's endpoints, bucket, table, POWERTOOLS_*) and creates its clients then.
function scoreShardHandler(): Promise<Handler> {
  handler ??= import('../../functions/score-shard/handler.ts').then((m) => m.handler as Handler);
  return handler;
}

// A worker thread is a warm score-shard Lambda: it serves shard after shard, and a shard that
// throws answers with its sentence, which the local runner hands to the failure step.
serveJobs<LambdaJob>(parentPort!, async (job) => ({
  result: await (await scoreShardHandler())(job.event, lambdaContext('score-shard')),
}));
