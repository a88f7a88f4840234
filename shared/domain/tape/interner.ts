/**
 * Reuses one string for cells that repeat (regions, industries, dates): compared in place, a hit
 * costs no allocation, and loans kept by a sink share the string instead of holding a copy each.
 * A small direct-mapped cache: a miss just slices and takes the slot.
 */
export class Interner {
  private readonly slots: (string | undefined)[];
  private readonly mask: number;

  public constructor(size = 1024) {
    this.mask = size - 1;
    this.slots = new Array<string | undefined>(size).fill(undefined);
  }

  /** text.slice(a, b), shared with earlier equal cells when cached. */
  public get(text: string, a: number, b: number): string {
    const n = b - a;
    let h = n;
    // Sample up to 8 characters spread over the cell: enough to tell regions and dates apart.
    const step = n > 8 ? n >> 3 : 1;
    for (let i = a; i < b; i += step) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const hit = this.slots[slot];
    if (hit !== undefined && hit.length === n && text.startsWith(hit, a)) return hit;
    const s = text.slice(a, b);
    this.slots[slot] = s;
    return s;
  }
}
