/**
 * One source row as offsets into a text, reused from row to row: the per-row loop parses numbers,
 * dates and enum values in place and only slices the cells it keeps (ids, names), which saves
 * most of the per-cell string allocations that dominate CSV intake.
 */
export class FieldRow {
  /** Text the offsets point into (a chunk of the tape, or the row's cells joined). */
  public text = '';
  /** Cell i is text.slice(starts[i], ends[i]). */
  public starts: Int32Array;
  public ends: Int32Array;
  /** Number of cells. */
  public count = 0;

  public constructor(capacity = 64) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Makes room for at least `n` cells. */
  public ensure(n: number): void {
    if (n <= this.starts.length) return;
    let cap = this.starts.length * 2;
    while (cap < n) cap *= 2;
    const s = new Int32Array(cap);
    const e = new Int32Array(cap);
    s.set(this.starts);
    e.set(this.ends);
    this.starts = s;
    this.ends = e;
  }

  /** Points the row at already-unquoted cell values (quoted CSV records, JSON Lines, Parquet). */
  public setCells(cells: readonly string[]): this {
    this.ensure(cells.length);
    this.text = cells.join('');
    let at = 0;
    for (let i = 0; i < cells.length; i++) {
      this.starts[i] = at;
      at += cells[i]!.length;
      this.ends[i] = at;
    }
    this.count = cells.length;
    return this;
  }

  /** Cell i as a string ('' past the end). */
  public get(i: number): string {
    return i < this.count ? this.text.slice(this.starts[i]!, this.ends[i]!) : '';
  }

  /** All cells as strings (tests and slow paths). */
  public toArray(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.get(i));
    return out;
  }

  /** A fresh row holding `cells`. */
  public static of(cells: readonly string[]): FieldRow {
    return new FieldRow(Math.max(4, cells.length)).setCells(cells);
  }
}
