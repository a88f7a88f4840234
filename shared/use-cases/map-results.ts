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
 * fails the step, and so the run, with that item's own error name and sentence. An error of Step
 * Functions itself (`States.Timeout`, ...) is named MapItemFailedError instead (a function may not
 * raise a `States.` name) and its sentence says which item it was.
 */
export function succeededItems<I extends object>(
  items: readonly I[],
  item: { what: string; key: 'index' | 'bucket' },
): Exclude<I, { failed: true }>[] {
  for (const result of items) {
    if ('failed' in result && result.failed === true) {
      const failed = result as unknown as { error: CaughtError } & Record<string, unknown>;
      const { type, sentence } = failureSentence(failed.error);
      if (!type.startsWith('States.')) throw new MapItemFailedError(type, sentence);
      const which = `${item.what} ${String(failed[item.key])}`;
      throw new MapItemFailedError(
        'MapItemFailedError',
        type === 'States.Timeout'
          ? `${which} took longer than its time limit and was stopped`
          : `${which} failed with ${type}`,
      );
    }
  }
  return items as Exclude<I, { failed: true }>[];
}
