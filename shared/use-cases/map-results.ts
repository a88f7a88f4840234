import { MapItemFailedError } from '../errors.ts';
import type { CaughtError } from './workflow-types.ts';

/** Turns Step Functions' caught error into the one sentence a person reads. */
export function failureSentence(error: CaughtError): { type: string; sentence: string } {
  let type = error.Error ?? 'Error';
  let message = '';
  if (error.Cause) {
    try {
      const cause = JSON.parse(error.Cause) as { errorMessage?: unknown; errorType?: unknown };
      if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
      if (typeof cause.errorType === 'string') type = cause.errorType;
    } catch {
      message = error.Cause;
    }
  }
  message = message.split('\n')[0]!.trim();
  if (type === 'States.Timeout')
    return { type, sentence: 'the run took longer than its time limit and was stopped' };
  if (message === '') return { type, sentence: `the run failed with ${type}` };
  return { type, sentence: message };
}

/**
 * The results of a map step once every item has finished: the first failed item (in item order)
 * fails the step, and so the run, with that item's own error name and sentence.
 */
export function succeededItems<I extends object>(items: readonly I[]): Exclude<I, { failed: true }>[] {
  for (const item of items) {
    if ('failed' in item && item.failed === true) {
      const { type, sentence } = failureSentence((item as unknown as { error: CaughtError }).error);
      throw new MapItemFailedError(type, sentence);
    }
  }
  return items as Exclude<I, { failed: true }>[];
}
