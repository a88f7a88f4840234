import type { z } from 'zod';
import { MapItemFailedError } from '../errors.ts';
import type { ArtifactStore } from '../ports/artifact-store.ts';
import {
  LambdaErrorCauseSchema,
  MapRunManifestSchema,
  type MapRunOutput,
  MapRunResultFileSchema,
} from '../schema/map-run.ts';
import { readArtifact } from './read-artifact.ts';
import type { CaughtError } from './workflow-types.ts';

/** The JSON value of a text, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Turns Step Functions' caught error into the one sentence a person reads. */
export function failureSentence(error: CaughtError): { type: string; sentence: string } {
  let type = error.Error ?? 'Error';
  let message = '';
  if (error.Cause) {
    const cause = LambdaErrorCauseSchema.safeParse(parseJson(error.Cause));
    if (cause.success) {
      if (cause.data.errorMessage !== undefined) message = cause.data.errorMessage;
      if (cause.data.errorType !== undefined) type = cause.data.errorType;
    } else {
      // Not a Lambda error's JSON (a Step Functions error's own text): the cause is the sentence.
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

/**
 * Every item's outcome of a Distributed Map that exported its results to S3 (the data bucket):
 * its manifest, then each SUCCEEDED file's outputs through `outcome`; a child execution that
 * failed outright (FAILED files) becomes `failed(itemInput, { Error, Cause })`, so the step after
 * the map sees every item either way. `expected` items must come back, or the step fails.
 */
export async function readMapResults<T>(
  artifacts: Pick<ArtifactStore, 'get'>,
  output: MapRunOutput,
  options: {
    what: string;
    expected: number;
    outcome: z.ZodType<T>;
    failed: (input: unknown, error: CaughtError) => T;
  },
): Promise<T[]> {
  const manifest = await readArtifact(
    artifacts,
    output.ResultWriterDetails.Key,
    MapRunManifestSchema,
    `manifest of the ${options.what} results`,
  );
  // Each results file's entries beside the file's key, one file read at a time.
  async function* entriesOf(files: readonly { Key: string }[]) {
    for (const file of files) {
      const read = await readArtifact(
        artifacts,
        file.Key,
        MapRunResultFileSchema,
        `${options.what} results file`,
      );
      for (const entry of read) yield { key: file.Key, entry };
    }
  }
  const out: T[] = [];
  for await (const { key, entry } of entriesOf(manifest.ResultFiles.SUCCEEDED)) {
    const parsed = options.outcome.safeParse(JSON.parse(entry.Output ?? 'null'));
    if (!parsed.success)
      throw new Error(
        `a ${options.what} result in ${key} has an unexpected shape: ${parsed.error.issues[0]?.message}`,
      );
    const value = parsed.data as T & { failed?: unknown; error?: CaughtError };
    // What travels on from a failed item is its sentence, not the runtime's whole error.
    if (value.failed === true && value.error !== undefined) value.error = trimmedError(value.error);
    out.push(value);
  }
  for await (const { entry } of entriesOf(manifest.ResultFiles.FAILED)) {
    out.push(
      options.failed(
        JSON.parse(entry.Input ?? 'null'),
        trimmedError({ Error: entry.Error ?? 'States.TaskFailed', Cause: entry.Cause ?? '' }),
      ),
    );
  }
  if (out.length !== options.expected)
    throw new Error(`${out.length} of the run's ${options.expected} ${options.what} results came back`);
  return out;
}

/**
 * A failed item's error trimmed to its sentence: the error name and the one sentence a person
 * reads (failureSentence), without the Lambda runtime's stack trace, before it travels on.
 */
export function trimmedError(error: CaughtError): CaughtError {
  const { type, sentence } = failureSentence(error);
  return { Error: error.Error ?? type, Cause: JSON.stringify({ errorType: type, errorMessage: sentence }) };
}

/** An item's number (`index` of a shard, `bucket` of a loan-id bucket) read from its input. */
export function itemNumber(input: unknown, key: 'index' | 'bucket'): number {
  const value =
    input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[key] : undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new Error(`a failed map item's input names no ${key}`);
  return value;
}
