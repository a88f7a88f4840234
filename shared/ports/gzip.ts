/**
 * Gzip, as the pipeline's own files are stored (score files, drift indexes, quarantine rows):
 * the domain's file formats are written against it and the adapters give Node's zlib.
 */
export interface Gzip {
  /** A compressor fed chunk by chunk: only the compressed bytes are held. */
  compressor(level: number): GzipCompressor;
  /** Gzips byte chunks, in order, into one file. */
  gzip(chunks: Iterable<Uint8Array>, level?: number): Promise<Uint8Array>;
  /** The decompressed chunks of a gzip stream (a few hundred KiB each); corrupt data throws. */
  gunzip(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  /** Decompresses a whole gzip file at once (small files). */
  gunzipSync(bytes: Uint8Array): Uint8Array;
}

export interface GzipCompressor {
  /** Writes a chunk; returns a promise to await when the compressor is behind (else null). */
  write(bytes: Uint8Array): Promise<void> | null;
  /** Ends the stream: the whole gzip file. */
  end(): Promise<Uint8Array>;
}
