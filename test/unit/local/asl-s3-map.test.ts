import { describe, expect, it } from 'vitest';
import { LocalStateMachine, type StateMachineDefinition } from '../../../shared/local/asl-engine.ts';
import { type ObjectStore, s3MapIntegrations } from '../../../shared/local/asl-s3-map.ts';
import {
  ITEM_READER_RESOURCE,
  MapRunManifestSchema,
  MapRunOutputSchema,
  MapRunResultFileSchema,
  RESULT_WRITER_RESOURCE,
} from '../../../shared/schema/map-run.ts';

class Bucket implements ObjectStore {
  public readonly objects = new Map<string, string>();
  public async get(key: string) {
    const body = this.objects.get(key);
    return body === undefined ? null : new TextEncoder().encode(body);
  }
  public async put(key: string, body: string) {
    this.objects.set(key, body);
  }
}

/** A Distributed Map over `$.itemsKey` in bucket `data`, exporting to `$.prefix`, failing odd items. */
function machine(tolerated: number): StateMachineDefinition {
  return {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemReader: {
          Resource: ITEM_READER_RESOURCE,
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'data', 'Key.$': '$.itemsKey' },
        },
        ResultWriter: {
          Resource: RESULT_WRITER_RESOURCE,
          Parameters: { Bucket: 'data', 'Prefix.$': '$.prefix' },
        },
        ToleratedFailureCount: tolerated,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: 'work', End: true } },
        },
        ResultPath: '$.results',
        End: true,
      },
    },
  };
}

const work = async (_: string, payload: unknown) => {
  const n = (payload as { n: number }).n;
  if (n % 2 === 1) throw Object.assign(new Error(`item ${n} is odd`), { name: 'OddError' });
  return { doubled: n * 2 };
};

describe('Function: s3MapIntegrations (the local ItemReader and ResultWriter)', () => {
  it('reads the items from the JSON array and exports every child as AWS documents: manifest, SUCCEEDED_0 and FAILED_0', async () => {
    const bucket = new Bucket();
    await bucket.put('plan/items.json', JSON.stringify([{ n: 0 }, { n: 1 }, { n: 2 }]));
    const engine = new LocalStateMachine(machine(1), {
      invoke: work,
      ...s3MapIntegrations({ data: bucket }),
    });
    const result = await engine.start({ itemsKey: 'plan/items.json', prefix: 'out/' });
    expect(result.status).toBe('SUCCEEDED');
    if (result.status !== 'SUCCEEDED') return;
    const output = MapRunOutputSchema.parse((result.output as { results: unknown }).results);
    const runId = output.MapRunArn.split(':').at(-1);
    expect(output.ResultWriterDetails).toEqual({ Bucket: 'data', Key: `out/${runId}/manifest.json` });
    const manifest = MapRunManifestSchema.parse(
      JSON.parse(bucket.objects.get(output.ResultWriterDetails.Key)!),
    );
    expect(manifest.DestinationBucket).toBe('data');
    expect(manifest.MapRunArn).toBe(output.MapRunArn);
    expect(manifest.ResultFiles.SUCCEEDED.map((f) => f.Key)).toEqual([`out/${runId}/SUCCEEDED_0.json`]);
    expect(manifest.ResultFiles.FAILED.map((f) => f.Key)).toEqual([`out/${runId}/FAILED_0.json`]);
    expect(manifest.ResultFiles.PENDING).toEqual([]);
    const succeeded = MapRunResultFileSchema.parse(
      JSON.parse(bucket.objects.get(`out/${runId}/SUCCEEDED_0.json`)!),
    );
    // Input and Output are JSON strings, as in AWS's results files.
    expect(succeeded.map((e) => [e.Status, JSON.parse(e.Input!), JSON.parse(e.Output!)])).toEqual([
      ['SUCCEEDED', { n: 0 }, { doubled: 0 }],
      ['SUCCEEDED', { n: 2 }, { doubled: 4 }],
    ]);
    expect(manifest.ResultFiles.SUCCEEDED[0]?.Size).toBe(
      Buffer.byteLength(bucket.objects.get(`out/${runId}/SUCCEEDED_0.json`)!),
    );
    const failed = MapRunResultFileSchema.parse(
      JSON.parse(bucket.objects.get(`out/${runId}/FAILED_0.json`)!),
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'OddError', Input: '{"n":1}' });
    expect(JSON.parse(failed[0]!.Cause!).errorMessage).toBe('item 1 is odd');
  });

  it('still exports the results of a map run that failed, then fails with ExceedToleratedFailureThreshold', async () => {
    const bucket = new Bucket();
    await bucket.put('items.json', JSON.stringify([{ n: 1 }, { n: 2 }]));
    const engine = new LocalStateMachine(machine(0), {
      invoke: work,
      ...s3MapIntegrations({ data: bucket }),
    });
    const result = await engine.start({ itemsKey: 'items.json', prefix: 'out' });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect([...bucket.objects.keys()].filter((k) => k.endsWith('manifest.json'))).toHaveLength(1);
  });

  it('fails with States.ItemReaderFailed when the items object is missing or holds no array', async () => {
    const bucket = new Bucket();
    await bucket.put('object.json', JSON.stringify({ n: 1 }));
    const engine = new LocalStateMachine(machine(0), {
      invoke: work,
      ...s3MapIntegrations({ data: bucket }),
    });
    expect(await engine.start({ itemsKey: 'missing.json', prefix: 'out' })).toMatchObject({
      status: 'FAILED',
      error: 'States.ItemReaderFailed',
    });
    const notArray = await engine.start({ itemsKey: 'object.json', prefix: 'out' });
    expect(notArray).toMatchObject({ status: 'FAILED', error: 'States.ItemReaderFailed' });
    expect(notArray.status === 'FAILED' ? notArray.cause : '').toContain('does not hold a JSON array');
  });

  it('fails with States.ResultWriterFailed when the bucket to export to is not there', async () => {
    const items = new Bucket();
    await items.put('items.json', JSON.stringify([{ n: 0 }]));
    const def = machine(0);
    (def.States.Each!.ResultWriter as { Parameters: { Bucket: string } }).Parameters.Bucket = 'elsewhere';
    const engine = new LocalStateMachine(def, { invoke: work, ...s3MapIntegrations({ data: items }) });
    expect(await engine.start({ itemsKey: 'items.json', prefix: 'out' })).toMatchObject({
      status: 'FAILED',
      error: 'States.ResultWriterFailed',
    });
  });
});
