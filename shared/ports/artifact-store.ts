/** Where a run's files live: audit.json, quarantine and score files, partials, report archives. */
export interface ArtifactStore {
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /**
   * Writes an object from bytes as they come (a multipart upload on S3), never holding the whole
   * body: for outputs that grow with the tape, such as the quarantine file.
   */
  putStream(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  /** Streams an object, or null when it does not exist. */
  stream(key: string): Promise<AsyncIterable<Uint8Array> | null>;
  /**
   * Copies an object to another key inside the store (server-side on S3: the bytes never pass
   * through the caller); false when the source does not exist.
   */
  copy(fromKey: string, toKey: string): Promise<boolean>;
  /** Deletes every object under a prefix (used to clear a re-run's stale partials). */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A time-limited https link to the object, for the email, and when it really stops working:
   * a link signed with temporary credentials dies with them, whatever was asked for.
   */
  presignGet(key: string, expiresInSeconds: number): Promise<PresignedLink>;
}

/** A presigned link and the instant it stops working. */
export interface PresignedLink {
  url: string;
  expiresAt: Date;
}
