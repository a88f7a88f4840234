/**
 * The local engine's S3 ItemReader and ResultWriter, with the semantics Step Functions documents
 * for a Distributed Map (ItemReader: "the JSON file must contain an array", JSON Lines one item a
 * line; ResultWriter: "exports executions with the same status to their respective files" and
 * returns `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`, the Key naming `manifest.json`
 * under `<Prefix>/<map run id>/`). Objects are read and written through whatever store each bucket
 * is given (the embedded S3, or a folder).
 */
import {
  type ChildExecutionStatus,
  ITEM_READER_RESOURCE,
  type MapRunManifest,
  type MapRunOutput,
  type MapRunResultEntry,
  RESULT_WRITER_RESOURCE,
  resultFileKey,
} from '../schema/map-run.ts';
import type { ItemReaderFn, ItemReadRequest, ResultWriteRequest, ResultWriterFn } from './asl-engine.ts';
import { StatesError, UnsupportedDefinitionError } from './asl-engine.ts';

/** The objects of one bucket, as the S3 integrations need them. */
export interface ObjectStore {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, body: string, contentType: string): Promise<void>;
}

function storeOf(buckets: Readonly<Record<string, ObjectStore>>, bucket: unknown, what: string): ObjectStore {
  const store = typeof bucket === 'string' ? buckets[bucket] : undefined;
  if (store === undefined)
    throw new StatesError(
      what === 'read' ? 'States.ItemReaderFailed' : 'States.ResultWriterFailed',
      `there is no bucket named ${JSON.stringify(bucket)} here`,
    );
  return store;
}

/** `arn:aws:states:::s3:getObject` over JSON (an array) and JSONL objects. */
function readItems(buckets: Readonly<Record<string, ObjectStore>>): ItemReaderFn {
  return async ({ mapName, parameters, readerConfig }: ItemReadRequest) => {
    const type = readerConfig.InputType;
    if (type !== 'JSON' && type !== 'JSONL')
      throw new UnsupportedDefinitionError(
        `map ${mapName} reads items of InputType ${String(type)}; locally only JSON and JSONL are read`,
      );
    const key = parameters.Key;
    const bytes = await storeOf(buckets, parameters.Bucket, 'read').get(String(key));
    if (bytes === null)
      throw new StatesError(
        'States.ItemReaderFailed',
        `the items of map ${mapName} are missing: no object ${String(parameters.Bucket)}/${String(key)}`,
      );
    const text = Buffer.from(bytes).toString('utf8');
    try {
      if (type === 'JSONL')
        return text
          .split('\n')
          .filter((line) => line.trim().length > 0)
          .map((line) => JSON.parse(line) as unknown);
      const items = JSON.parse(text) as unknown;
      if (!Array.isArray(items)) throw new Error('the object does not hold a JSON array');
      return items;
    } catch (error) {
      throw new StatesError(
        'States.ItemReaderFailed',
        `the items of map ${mapName} (${String(key)}) cannot be read: ${(error as Error).message}`,
      );
    }
  };
}

/** One child execution as a results file lists it (Transformation NONE). */
function entryOf(e: ResultWriteRequest['executions'][number], stateMachineArn: string): MapRunResultEntry {
  const common = {
    ExecutionArn: e.executionArn,
    Input: JSON.stringify(e.input),
    InputDetails: { Included: true },
    Name: e.name,
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StartDate: e.startDate.toISOString(),
    StateMachineArn: stateMachineArn,
    StopDate: e.stopDate.toISOString(),
  };
  return e.status === 'SUCCEEDED'
    ? { ...common, Status: 'SUCCEEDED', Output: JSON.stringify(e.output), OutputDetails: { Included: true } }
    : { ...common, Status: 'FAILED', Error: e.error ?? 'States.TaskFailed', Cause: e.cause ?? '' };
}

/** `arn:aws:states:::s3:putObject`: the manifest and one JSON results file per status. */
function writeResults(buckets: Readonly<Record<string, ObjectStore>>): ResultWriterFn {
  return async ({ mapName, mapRunArn, stateMachineArn, parameters, writerConfig, executions }) => {
    if (writerConfig !== undefined && (writerConfig.Transformation ?? 'NONE') !== 'NONE')
      throw new UnsupportedDefinitionError(
        `map ${mapName} exports its results with Transformation ${String(writerConfig.Transformation)}; locally only NONE is written`,
      );
    if (writerConfig !== undefined && (writerConfig.OutputType ?? 'JSON') !== 'JSON')
      throw new UnsupportedDefinitionError(
        `map ${mapName} exports its results as ${String(writerConfig.OutputType)}; locally only JSON is written`,
      );
    const bucket = String(parameters.Bucket);
    const store = storeOf(buckets, parameters.Bucket, 'write');
    const prefix = typeof parameters.Prefix === 'string' ? parameters.Prefix.replace(/\/+$/, '') : '';
    const runId = mapRunArn.slice(mapRunArn.lastIndexOf(':') + 1);
    const manifestKey = `${prefix === '' ? '' : `${prefix}/`}${runId}/manifest.json`;
    const files: MapRunManifest['ResultFiles'] = { FAILED: [], PENDING: [], SUCCEEDED: [] };
    for (const status of ['SUCCEEDED', 'FAILED'] as const satisfies readonly ChildExecutionStatus[]) {
      const entries = executions.filter((e) => e.status === status).map((e) => entryOf(e, stateMachineArn));
      if (entries.length === 0) continue;
      const key = resultFileKey(manifestKey, status, 0);
      const body = JSON.stringify(entries);
      await store.put(key, body, 'application/json');
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifest: MapRunManifest = { DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: files };
    await store.put(manifestKey, JSON.stringify(manifest), 'application/json');
    return {
      MapRunArn: mapRunArn,
      ResultWriterDetails: { Bucket: bucket, Key: manifestKey },
    } satisfies MapRunOutput;
  };
}

/** The S3 ItemReader and ResultWriter over these buckets, for the engine's `itemReaders` / `resultWriters`. */
export function s3MapIntegrations(buckets: Readonly<Record<string, ObjectStore>>): {
  itemReaders: Record<string, ItemReaderFn>;
  resultWriters: Record<string, ResultWriterFn>;
} {
  return {
    itemReaders: { [ITEM_READER_RESOURCE]: readItems(buckets) },
    resultWriters: { [RESULT_WRITER_RESOURCE]: writeResults(buckets) },
  };
}
