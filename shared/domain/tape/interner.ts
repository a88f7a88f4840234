/**
 * Reuses one string for cells that repeat (regions, industries): compared in place, a hit
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
    if (n === 0) return '';
    // Length and three characters tell low-cardinality values (regions, industries) apart; a
    // collision only costs a slice, as the hit is verified below.
    let h = Math.imul(n ^ text.charCodeAt(a), 0x01000193);
    h = Math.imul(h ^ text.charCodeAt(a + (n >> 1)), 0x01000193);
    h = Math.imul(h ^ text.charCodeAt(b - 1), 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const hit = this.slots[slot];
    if (hit !== undefined && hit.length === n && text.startsWith(hit, a)) return hit;
    const s = text.slice(a, b);
    this.slots[slot] = s;
    return s;
  }
}
