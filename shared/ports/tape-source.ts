/** One part file of a date's tape. */
export interface TapePart {
  /** Object key (S3) or file path (local). */
  key: string;
  bytes: number;
  lastModified: Date | null;
}

/** Byte range of one part, inclusive start, exclusive end. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where tapes come from: S3 under a date prefix, or local files for the CLI. */
export interface TapeSource {
  /** The part files of the tape of a date, sorted by key; empty when no tape landed. */
  listParts(snapshotDate: string): Promise<TapePart[]>;
  /** Streams a part's bytes (or a range of them) without holding the part in memory. */
  open(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>>;
}

/** One part file of a tape, as the tape scan reads it. */
export interface TapePartInput {
  /** Object key or file path; names the part in errors and quarantine rows. */
  key: string;
  /** Streams the part's bytes, or a range of them. */
  open(range?: ByteRange): Promise<AsyncIterable<Uint8Array>>;
  /** Size in bytes; required for Parquet (random access) and byte ranges. */
  bytes?: number;
  /**
   * Read only the rows that start inside this byte range (uncompressed CSV or JSON Lines): the
   * header is read from byte 0, the first partial row is skipped and the last row is finished
   * past the range's end. Refused for tapes with line breaks inside quoted fields.
   */
  range?: ByteRange;
}

/** Running digest and size of a byte stream, filled in as the stream is consumed. */
export interface ByteTally {
  sha256: string;
  bytes: number;
}

/** One Parquet column as the tape scan sees it. */
export interface ParquetColumn {
  name: string;
  /** Turns a decoded value into cell text, or null for a value that is not one (a struct, list or map). */
  text: (value: unknown) => string | null;
}

/** How a Parquet part is read row by row. */
export interface ParquetReadOptions {
  /** IANA time zone in which instants are dated. */
  timeZone: string;
  /** Stops after this many rows. */
  maxRows?: number;
  /** Called once with the columns before any row. */
  onHeader(columns: readonly ParquetColumn[]): void;
  /**
   * Called per row with the decoded values (reused array, valid only during the call) and the
   * 1-based row number in the part. Returning false stops the read.
   */
  onRow(values: readonly unknown[], row: number): boolean | undefined;
  /** Awaited between slices when it returns a promise (the sink's backpressure). */
  between?(): Promise<void> | null;
}

/**
 * The byte work the tape scan leaves to an adapter: digests, gzip, character sets and Parquet
 * decoding. Each failure is a TapeUnreadableError naming the part (`key`) and the problem.
 */
export interface TapeDecoder {
  /**
   * Passes bytes through while counting them into `tally` and, when `digest`, hashing them
   * (tally.sha256 is the hex sha256 once the stream is consumed; '' otherwise).
   */
  tally(source: AsyncIterable<Uint8Array>, tally: ByteTally, digest: boolean): AsyncIterable<Uint8Array>;
  /** Decompresses gzip data; corrupt or truncated data throws. */
  gunzip(source: AsyncIterable<Uint8Array>, key: string): AsyncIterable<Uint8Array>;
  /**
   * Decodes bytes to text in `encoding` (strict UTF-8 without it, its byte order mark dropped),
   * refusing binary data; chunks end after a line break where one is near.
   */
  decodeText(
    source: AsyncIterable<Uint8Array>,
    key: string,
    encoding: string | undefined,
  ): AsyncIterable<string>;
  /** Streams a Parquet part's rows (the part's size is required: Parquet is read from its footer). */
  readParquet(part: TapePartInput, options: ParquetReadOptions): Promise<void>;
}
