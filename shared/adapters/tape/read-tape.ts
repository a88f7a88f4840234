import type { RowSink } from '../../domain/tape/intake.ts';
import { scanTapeWith, surveyTapeDateWith, type TapeScanResult } from '../../domain/tape/scan.ts';
import type { ScanOptions } from '../../domain/tape/scan-options.ts';
import { TapeUnreadableError } from '../../errors.ts';
import type { TapeDecoder, TapePartInput } from '../../ports/tape-source.ts';
import { coalesce, decodeText, gunzipBytes, tallyBytes } from './byte-streams.ts';
import { ParquetDataError, readParquetPart } from './parquet-reader.ts';

/** The tape decoder on Node: node:crypto digests, zlib, iconv-lite, hyparquet. */
export const nodeTapeDecoder: TapeDecoder = {
  tally: tallyBytes,
  gunzip: gunzipBytes,
  decodeText: (source, key, encoding) => decodeText(coalesce(source), key, encoding),
  async readParquet(part, options) {
    try {
      await readParquetPart(part, options);
    } catch (error) {
      if (!(error instanceof ParquetDataError)) throw error;
      throw new TapeUnreadableError(`tape part ${part.key} cannot be read: ${error.message}`, {
        cause: error,
      });
    }
  },
};

/** Scans a tape's parts with the Node decoder (see scanTapeWith): what the steps and the CLI call. */
export function scanTape(
  parts: readonly TapePartInput[],
  options: ScanOptions,
  sink: RowSink,
): Promise<TapeScanResult> {
  return scanTapeWith(nodeTapeDecoder, parts, options, sink);
}

/** The date most of a tape's first rows carry, read with the Node decoder (see surveyTapeDateWith). */
export function surveyTapeDate(
  parts: readonly TapePartInput[],
  options: Omit<ScanOptions, 'snapshotDate' | 'maxRows'>,
): Promise<string | null> {
  return surveyTapeDateWith(nodeTapeDecoder, parts, options);
}
