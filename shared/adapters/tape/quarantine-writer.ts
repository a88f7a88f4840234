import { closeSync, openSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { QuarantinedRow, RowSink } from '../../domain/tape/intake.ts';
import { QUARANTINE_CSV_HEADER, quarantineCsvLine } from '../../domain/tape/quarantine-csv.ts';

/** Receives quarantined rows one by one (a RowSink's quarantine side) and writes them out. */
export interface QuarantineWriter {
  add(row: QuarantinedRow): void;
  /** Finishes the file; resolves to the number of rows written. */
  close(): Promise<number>;
}

const BATCH_BYTES = 1 << 20;

/** Writes `quarantine.csv` to a local file in 1 MB batches (sync, so a RowSink can call it). */
export class QuarantineFileWriter implements QuarantineWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private size = 0;
  private rows = 0;

  public constructor(path: string) {
    this.fd = openSync(path, 'w');
    this.pending.push(QUARANTINE_CSV_HEADER);
  }

  public add(row: QuarantinedRow): void {
    const line = quarantineCsvLine(row);
    this.pending.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size >= BATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(`${this.pending.join('\n')}\n`);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off);
    this.pending = [];
    this.size = 0;
  }

  public async close(): Promise<number> {
    this.flush();
    closeSync(this.fd);
    return this.rows;
  }
}

/**
 * Quarantine CSV as a readable stream, for an S3 multipart upload (`new Upload({ params: { Body:
 * writer.stream } })` from @aws-sdk/lib-storage) that runs while the tape is scanned.
 */
export class QuarantineStreamWriter implements QuarantineWriter {
  /** The CSV bytes; ends when close() is called. */
  public readonly stream = new Readable({ read: () => undefined });
  private rows = 0;
  private pending: string[] = [QUARANTINE_CSV_HEADER];
  private size = 0;

  public add(row: QuarantinedRow): void {
    const line = quarantineCsvLine(row);
    this.pending.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size >= 64 * 1024) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.stream.push(`${this.pending.join('\n')}\n`);
    this.pending = [];
    this.size = 0;
  }

  public async close(): Promise<number> {
    this.flush();
    this.stream.push(null);
    return this.rows;
  }
}

/** A RowSink that sends loans to `onLoan` and quarantined rows to a quarantine writer. */
export function sinkWithQuarantine(onLoan: RowSink['loan'], quarantine: QuarantineWriter): RowSink {
  return { loan: onLoan, quarantine: (row) => quarantine.add(row) };
}
