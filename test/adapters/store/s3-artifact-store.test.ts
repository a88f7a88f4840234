import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../shared/adapters/s3-artifact-store.ts';
import { StoreError } from '../../../shared/errors.ts';

const s3Mock = mockClient(S3Client);
const artifacts = new S3ArtifactStore(
  new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
  'bucket',
);

beforeEach(() => s3Mock.reset());

describe('Class: S3ArtifactStore (mocked S3)', () => {
  it('puts a small body in one PutObject with its content type', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await artifacts.put('runs/2026-01-01/audit.json', '{}', 'application/json');
    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.Bucket).toBe('bucket');
    expect(input?.Key).toBe('runs/2026-01-01/audit.json');
    expect(input?.ContentType).toBe('application/json');
  });

  it('turns NoSuchKey into null', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    expect(await artifacts.get('missing')).toBeNull();
    expect(await artifacts.stream('missing')).toBeNull();
  });

  it('turns other failures into a StoreError naming the object', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(artifacts.get('runs/x')).rejects.toThrow(
      new StoreError('could not read s3://bucket/runs/x: Access Denied'),
    );
  });

  it('deletes a prefix page by page', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        Contents: [{ Key: 'p/1' }, { Key: 'p/2' }],
        IsTruncated: true,
        NextContinuationToken: 't2',
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({ Contents: [{ Key: 'p/3' }], IsTruncated: false });
    s3Mock.on(DeleteObjectsCommand).resolves({});
    expect(await artifacts.deletePrefix('p/')).toBe(3);
    const deleted = s3Mock
      .commandCalls(DeleteObjectsCommand)
      .map((c) => c.args[0].input.Delete?.Objects?.map((o) => o.Key));
    expect(deleted).toEqual([['p/1', 'p/2'], ['p/3']]);
  });

  it('fails when S3 reports objects it could not delete', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'p/1' }], IsTruncated: false });
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'p/1', Code: 'AccessDenied' }] });
    await expect(artifacts.deletePrefix('p/')).rejects.toThrow(
      'could not delete s3://bucket/p/*: 1 objects not deleted (first: p/1 AccessDenied)',
    );
  });
});
