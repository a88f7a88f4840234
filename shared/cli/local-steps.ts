import type { LocalDepsSpec } from '../adapters/local-deps.ts';
import { finalizeRun } from '../use-cases/finalize-run.ts';
import { mergeAudit } from '../use-cases/merge-audit.ts';
import { parseEvent } from '../use-cases/parse-event.ts';
import { prepareRun } from '../use-cases/prepare-run.ts';
import {
  FinalizeEventSchema,
  MergeEventSchema,
  NotifyEventSchema,
  PrepareEventSchema,
  RunOutcomeSchema,
} from '../use-cases/workflow-types.ts';

import { MAP_STEPS, runStepOf, type Step } from './local-map-steps.ts';

/**
 * The workflow's functions (by folder name, as the state machine's tasks name them) with the
 * ports given instead of AWS's: each parses its event with its handler's schema and calls its
 * handler's use case (functions/<name>/handler.ts does the same with the AWS ports). The map
 * functions come from local-map-steps.ts, which is all a worker thread loads.
 */
const STEPS: Record<string, Step> = {
  ...MAP_STEPS,
  'prepare-run': (e, deps) => prepareRun(parseEvent(PrepareEventSchema, e, 'prepare event'), deps),
  'merge-audit': (e, deps) => mergeAudit(parseEvent(MergeEventSchema, e, 'merge event'), deps),
  'finalize-audit': (e, deps) => finalizeRun(parseEvent(FinalizeEventSchema, e, 'finalize event'), deps),
  // The report modules (MJML, charts) load only when a report is rendered.
  'send-report': async (e, deps) =>
    (await import('../use-cases/send-report.ts')).sendReport(
      parseEvent(RunOutcomeSchema, e, 'run outcome'),
      deps,
    ),
  'notify-failure': async (e, deps) =>
    (await import('../use-cases/record-failure.ts')).notifyEnding(
      parseEvent(NotifyEventSchema, e, 'failure event'),
      deps,
    ),
};

/** Runs a workflow function with local ports (built once per spec and thread, like a warm Lambda's). */
export function runLocalStep(fn: string, event: unknown, spec: LocalDepsSpec): Promise<unknown> {
  return runStepOf(STEPS, fn, event, spec);
}
