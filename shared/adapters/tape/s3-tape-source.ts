import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { TapeUnreadableError } from '../../errors.ts';
import type { ByteRange, TapePart, TapeSource } from '../../ports/tape-source.ts';
import { KEYS } from '../../schema/tables.ts';

/** Where tapes land in the bucket. */
export interface S3TapeSourceProps {
  client: S3Client;
  bucket: string;
  /** Where a date's parts lie. @default KEYS.tapePrefix (`snapshots/<date>/`) */
  tapePrefix?: (snapshotDate: string) => string;
}

/** Tapes in S3 under their date's prefix (`snapshots/<YYYY-MM-DD>/`): every object there is a part of that date's tape. */
export class S3TapeSource implements TapeSource {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly tapePrefix: (snapshotDate: string) => string;

  public constructor(props: S3TapeSourceProps) {
    this.client = props.client;
    this.bucket = props.bucket;
    this.tapePrefix = props.tapePrefix ?? KEYS.tapePrefix;
  }

  /** Lists the date's part objects (paginated), skipping folder and marker objects, sorted by key. */
  public async listParts(snapshotDate: string): Promise<TapePart[]> {
    const parts: TapePart[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.tapePrefix(snapshotDate),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || o.Key.endsWith('/')) continue;
        const base = o.Key.slice(o.Key.lastIndexOf('/') + 1);
        if (base.startsWith('_') || base.startsWith('.')) continue;
        parts.push({ key: o.Key, bytes: o.Size ?? 0, lastModified: o.LastModified ?? null });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Streams an object (or a byte range of it: end exclusive) straight from GetObject's body. */
  public async open(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>> {
    if (range !== undefined && range.end <= range.start) return (async function* () {})();
    const out = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end - 1}` }),
      }),
    );
    const body = out.Body as unknown;
    if (body === undefined || body === null)
      throw new TapeUnreadableError(`tape part ${key} cannot be read: S3 returned no body`);
    if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
      return body as AsyncIterable<Uint8Array>;
    }
    const bytes = await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    return (async function* () {
      yield bytes;
    })();
  }
}
