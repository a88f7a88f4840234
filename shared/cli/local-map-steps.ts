import { createLocalDeps, type LocalDepsSpec } from '../adapters/local-deps.ts';
import type { AuditDeps } from '../use-cases/deps.ts';
import { mergeScoreBucket } from '../use-cases/merge-scores.ts';
import { parseEvent } from '../use-cases/parse-event.ts';
import { scoreShard } from '../use-cases/score-shard.ts';
import { BucketSpecSchema, ShardSpecSchema } from '../use-cases/workflow-types.ts';

/** A workflow function's body: its handler's event schema and use case, on the ports given. */
export type Step = (event: unknown, deps: AuditDeps) => Promise<unknown>;

/** The map functions with local ports (what a worker thread of `risk-audit score` runs). */
export const MAP_STEPS: Record<string, Step> = {
  'score-shard': (e, deps) => scoreShard(parseEvent(ShardSpecSchema, e, 'shard'), deps),
  'merge-scores': (e, deps) => mergeScoreBucket(parseEvent(BucketSpecSchema, e, 'bucket'), deps),
};

const built = new Map<string, AuditDeps>();

/** Runs one of `steps` with local ports, built once per spec and thread (like a warm Lambda's). */
export function runStepOf(
  steps: Record<string, Step>,
  fn: string,
  event: unknown,
  spec: LocalDepsSpec,
): Promise<unknown> {
  const step = steps[fn];
  if (step === undefined) throw new Error(`the workflow has no function ${fn} here`);
  const key = JSON.stringify(spec);
  let deps = built.get(key);
  if (deps === undefined) {
    deps = createLocalDeps(spec);
    built.set(key, deps);
  }
  return step(event, deps);
}
