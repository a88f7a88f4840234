import { closeSync, openSync, writeSync } from 'node:fs';
import { constants, gzipSync } from 'node:zlib';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { type Loan, TAPE_COLUMNS } from '../../domain/loan.ts';
import { loanToCsvLine, loanToJsonLine, loanToRow, TAPE_CSV_HEADER } from '../../domain/tape/tape-row.ts';
import { ConfigError } from '../../errors.ts';

/**
 * Writes a tape file loan by loan. write() is synchronous (batched fs.writeSync), so it can be
 * called from a RowSink while another tape is being scanned (rolling a book forward); memory
 * stays at one batch whatever the tape's length.
 */
export interface TapeWriter {
  write(loan: Loan): void;
  /** Flushes and closes; resolves to the number of loans written. */
  close(): Promise<number>;
}

/** Output formats by file extension. */
export type TapeFileFormat = 'csv' | 'csv.gz' | 'jsonl' | 'jsonl.gz' | 'parquet';

/** The format a path's extension asks for; ConfigError for anything else. */
export function tapeFileFormat(path: string): TapeFileFormat {
  const p = path.toLowerCase();
  if (p.endsWith('.csv.gz')) return 'csv.gz';
  if (p.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (p.endsWith('.csv')) return 'csv';
  if (p.endsWith('.jsonl')) return 'jsonl';
  if (p.endsWith('.parquet')) return 'parquet';
  throw new ConfigError(`output ${path} must end in .csv, .csv.gz, .jsonl, .jsonl.gz or .parquet`);
}

const BATCH_BYTES = 8 << 20;

class LineFileWriter implements TapeWriter {
  private readonly fd: number;
  // Lines are copied into a byte buffer at once: holding them as strings would keep V8's
  // concatenation trees alive long enough to be promoted, and the GC then dominates.
  private buffer = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;
  private count = 0;

  public constructor(
    path: string,
    header: string | null,
    private readonly format: (loan: Loan) => string,
    private readonly gzip: boolean,
  ) {
    this.fd = openSync(path, 'w');
    if (header !== null) this.append(header);
  }

  private append(line: string): void {
    if (this.used + line.length * 3 + 1 > this.buffer.byteLength) {
      this.flush();
      if (line.length * 3 + 1 > this.buffer.byteLength) this.buffer = Buffer.allocUnsafe(line.length * 3 + 1);
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    this.buffer[this.used++] = 10;
  }

  public write(loan: Loan): void {
    this.append(this.format(loan));
    this.count++;
  }

  private flush(): void {
    if (this.used === 0) return;
    const text = this.buffer.subarray(0, this.used);
    // Each batch becomes one gzip member; concatenated members are one valid gzip file (RFC 1952).
    const bytes = this.gzip ? gzipSync(text, { level: constants.Z_DEFAULT_COMPRESSION }) : text;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off);
    this.used = 0;
  }

  public async close(): Promise<number> {
    this.flush();
    closeSync(this.fd);
    return this.count;
  }
}

type ColumnKind = 'STRING' | 'DOUBLE' | 'INT32' | 'BOOLEAN';
const KINDS: Record<string, ColumnKind> = {
  principal: 'DOUBLE',
  outstanding_principal: 'DOUBLE',
  annual_rate: 'DOUBLE',
  annual_income: 'DOUBLE',
  monthly_debt_payments: 'DOUBLE',
  own_funding_share: 'DOUBLE',
  term_months: 'INT32',
  days_past_due: 'INT32',
  borrower_age: 'INT32',
  other_lenders_count: 'INT32',
  credit_score: 'INT32',
  is_student: 'BOOLEAN',
};
const ROW_GROUP = 100_000;

class ParquetTapeWriter implements TapeWriter {
  private readonly writer: ParquetWriter;
  private columns: unknown[][] = TAPE_COLUMNS.map(() => []);
  private rows = 0;
  private count = 0;

  public constructor(path: string) {
    this.writer = new ParquetWriter({
      writer: fileWriter(path),
      schema: [
        { name: 'root', num_children: TAPE_COLUMNS.length },
        ...TAPE_COLUMNS.map((name) => {
          const kind = KINDS[name] ?? 'STRING';
          return kind === 'STRING'
            ? {
                name,
                type: 'BYTE_ARRAY' as const,
                converted_type: 'UTF8' as const,
                repetition_type: 'OPTIONAL' as const,
              }
            : { name, type: kind, repetition_type: 'OPTIONAL' as const };
        }),
      ],
    });
  }

  public write(loan: Loan): void {
    const row = loanToRow(loan);
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      // Integer columns holding a fraction (bad rows) cannot be INT32: keep them as null-free text elsewhere.
      this.columns[i]!.push(KINDS[TAPE_COLUMNS[i]!] === 'INT32' && typeof v === 'number' ? Math.trunc(v) : v);
    }
    this.rows++;
    this.count++;
    if (this.rows >= ROW_GROUP) this.flush();
  }

  private flush(): void {
    if (this.rows === 0) return;
    void this.writer.write({
      columnData: TAPE_COLUMNS.map((name, i) => ({ name, data: this.columns[i]! as never })),
      rowGroupSize: ROW_GROUP,
    });
    this.columns = TAPE_COLUMNS.map(() => []);
    this.rows = 0;
  }

  public async close(): Promise<number> {
    this.flush();
    await this.writer.finish();
    return this.count;
  }
}

/** Opens a writer for `path`, the format chosen by its extension (.csv, .csv.gz, .jsonl, .jsonl.gz, .parquet). */
export function openTapeWriter(path: string): TapeWriter {
  switch (tapeFileFormat(path)) {
    case 'csv':
      return new LineFileWriter(path, TAPE_CSV_HEADER, loanToCsvLine, false);
    case 'csv.gz':
      return new LineFileWriter(path, TAPE_CSV_HEADER, loanToCsvLine, true);
    case 'jsonl':
      return new LineFileWriter(path, null, loanToJsonLine, false);
    case 'jsonl.gz':
      return new LineFileWriter(path, null, loanToJsonLine, true);
    case 'parquet':
      return new ParquetTapeWriter(path);
  }
}

/** Writes every loan of an iterable to `path`; resolves to the count written. */
export async function writeTape(path: string, loans: Iterable<Loan>): Promise<number> {
  const writer = openTapeWriter(path);
  for (const loan of loans) writer.write(loan);
  return writer.close();
}
