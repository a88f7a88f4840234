import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StoreError } from '../errors.ts';
import type { ArtifactStore, PresignedLink } from '../ports/artifact-store.ts';

/** Bodies above this size go through a multipart upload (parts of 8 MiB, 4 at a time). */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;

function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey) return true;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** The run's files in an S3 bucket (the real one on AWS, s3rver locally). */
export class S3ArtifactStore implements ArtifactStore {
  public constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  public async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      if (bytes.byteLength <= MULTIPART_THRESHOLD) {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType }),
        );
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType },
        partSize: 8 * 1024 * 1024,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw new StoreError(`could not write s3://${this.bucket}/${key}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  public async putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    try {
      // 5 MiB parts (S3's minimum), two in flight: about 10 MiB held whatever the body's size.
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: Readable.from(body), ContentType: contentType },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw new StoreError(`could not write s3://${this.bucket}/${key}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  public async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return null;
      throw new StoreError(`could not read s3://${this.bucket}/${key}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  public async copy(fromKey: string, toKey: string): Promise<boolean> {
    try {
      // One request up to 5 GB (a drift index of some 600M loans); keys are URL-encoded in the source.
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: toKey,
          CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw new StoreError(`could not copy s3://${this.bucket}/${fromKey} to ${toKey}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  public async stream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = out.Body as unknown as AsyncIterable<Uint8Array> | undefined;
      if (!body) return (async function* () {})();
      return body;
    } catch (error) {
      if (isMissing(error)) return null;
      throw new StoreError(`could not read s3://${this.bucket}/${key}: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  public async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
        if (keys.length > 0) {
          const out = await this.client.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          const failed = out.Errors ?? [];
          if (failed.length > 0) {
            throw new Error(
              `${failed.length} objects not deleted (first: ${failed[0]?.Key} ${failed[0]?.Code})`,
            );
          }
          deleted += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw new StoreError(`could not delete s3://${this.bucket}/${prefix}*: ${firstLine(error)}`, {
        cause: error,
      });
    }
    return deleted;
  }

  public async presignGet(key: string, expiresInSeconds: number): Promise<PresignedLink> {
    const now = Date.now();
    // A link signed with temporary credentials (a Lambda role's) stops working when they expire.
    const credentials = await this.client.config.credentials();
    const left = credentials.expiration
      ? Math.floor((credentials.expiration.getTime() - now) / 1000)
      : Infinity;
    const seconds = Math.max(1, Math.min(expiresInSeconds, left));
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: seconds,
    });
    return { url, expiresAt: new Date(now + seconds * 1000) };
  }
}
