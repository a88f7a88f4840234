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
