import type { QuarantinedRow } from './intake.ts';
import { QUARANTINE_CSV_HEADER, quarantineCsvLine } from './quarantine-csv.ts';

/**
 * Receives quarantined rows one by one (a RowSink's quarantine side) and writes them out as they
 * come, so memory stays flat however many rows a tape quarantines.
 */
export interface QuarantineWriter {
  add(row: QuarantinedRow): void;
  /**
   * A promise while the writer holds more than it should (the reader waits for it between chunks
   * of the tape); null when it can take more at once.
   */
  ready(): Promise<void> | null;
  /** Finishes the file; resolves to the number of rows written. */
  close(): Promise<number>;
}

/**
 * Quarantine CSV as an async iterable of byte batches, for a streamed upload (ArtifactStore
 * putStream) that runs while the tape is scanned. It holds at most about `highWaterBytes`: past
 * that, ready() asks the reader to wait until the upload has taken the batches.
 */
export class QuarantineStreamWriter implements QuarantineWriter, AsyncIterable<Uint8Array> {
  private rows = 0;
  private lines: string[] = [];
  private lineBytes = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private closed = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  private drained: (() => void) | null = null;

  /** `header` false leaves the header out (a shard's rows, joined under one header later). */
  public constructor(
    header = true,
    private readonly highWaterBytes = 4 << 20,
  ) {
    if (header) this.lines.push(QUARANTINE_CSV_HEADER);
  }

  public add(row: QuarantinedRow): void {
    if (this.failure !== null) throw this.failure;
    const line = quarantineCsvLine(row);
    this.lines.push(line);
    this.lineBytes += line.length;
    this.rows++;
    if (this.lineBytes >= 64 * 1024) this.flush();
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    const bytes = Buffer.from(`${this.lines.join('\n')}\n`);
    this.lines = [];
    this.lineBytes = 0;
    this.queue.push(bytes);
    this.queued += bytes.byteLength;
    this.wake?.();
    this.wake = null;
  }

  public ready(): Promise<void> | null {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.queued <= this.highWaterBytes) return null;
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  /** Stops the writer when its consumer failed: waiting readers and later rows get `error`. */
  public abort(error: unknown): void {
    this.failure = error;
    this.drained?.();
    this.drained = null;
  }

  public async close(): Promise<number> {
    this.flush();
    this.closed = true;
    this.wake?.();
    this.wake = null;
    return this.rows;
  }

  public async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        this.queued -= next.byteLength;
        if (this.queued <= this.highWaterBytes) {
          this.drained?.();
          this.drained = null;
        }
        yield next;
        continue;
      }
      if (this.closed || this.failure !== null) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
