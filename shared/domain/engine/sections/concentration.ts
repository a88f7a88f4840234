/**
 * The concentration section: the borrower HHI (sum of squared borrower shares of outstanding),
 * the top-10 and largest borrower shares, the ten largest borrowers by `borrowerRef` (largest
 * exposure first, ties broken by hash), and the shares and HHI of outstanding by industry and by
 * region, with the shares by product. Every share is null or empty on a book with no outstanding.
 */

import type { ConcentrationSection, SegmentShare, TopBorrower } from '../../audit-result.ts';
import { PRODUCTS } from '../../loan.ts';
import { defineKey, type PartialAudit } from '../accumulator.ts';
import type { BorrowerTable } from '../borrower-table.ts';
import { exactAdd, exactSumValue } from '../exact-sum.ts';
import { borrowerRefFromKey, hashKey } from '../hash.ts';
import { exposureFen, inFen, ratio, totalFen, yuan } from './helpers.ts';

function topBorrowerSlots(t: BorrowerTable, n: number): number[] {
  // Largest exposure first; ties by hash so the order never depends on insertion order.
  const before = (i: number, j: number): boolean => {
    const ei = t.exposure(i);
    const ej = t.exposure(j);
    if (ei !== ej) return ei > ej;
    if (t.keyHi(i) !== t.keyHi(j)) return t.keyHi(i) < t.keyHi(j);
    return t.keyLo(i) < t.keyLo(j);
  };
  const top: number[] = [];
  for (let i = 0; i < t.capacity; i++) {
    if (!t.used(i)) continue;
    if (top.length === n && !before(i, top[n - 1]!)) continue;
    let pos = top.length < n ? top.length : n - 1;
    top[pos] = i;
    while (pos > 0 && before(i, top[pos - 1]!)) {
      top[pos] = top[pos - 1]!;
      top[pos - 1] = i;
      pos--;
    }
  }
  return top;
}

function segments(
  record: Record<string, [number, number, number]>,
  total: number,
): { shares: Record<string, SegmentShare>; hhi: number | null } {
  const shares: Record<string, SegmentShare> = {};
  const sq: number[] = [];
  for (const name of Object.keys(record).sort()) {
    const [count, fen, sub] = record[name]!;
    const share = total === 0 ? 0 : inFen(fen, sub) / total;
    defineKey(shares, name, { count, outstanding: yuan(fen, sub), share });
    exactAdd(sq, share * share);
  }
  return { shares, hhi: total === 0 ? null : exactSumValue(sq) };
}

/** Builds the concentration section of a merged partial, naming borrowers by the keyed hash of `borrowerRefKey`. */
export function concentrationSection(
  partial: PartialAudit,
  table: BorrowerTable,
  borrowerRefKey: string,
): ConcentrationSection {
  const total = totalFen(partial);
  const hhiParts: number[] = [];
  if (total > 0) {
    for (let i = 0; i < table.capacity; i++) {
      if (!table.used(i)) continue;
      const s = exposureFen(table.exposure(i)) / total;
      exactAdd(hhiParts, s * s);
    }
  }
  const top = total > 0 ? topBorrowerSlots(table, 10) : [];
  const topBorrowers: TopBorrower[] = top.map((slot) => ({
    borrowerRef: borrowerRefFromKey(hashKey(table.keyHi(slot), table.keyLo(slot)), borrowerRefKey),
    exposure: table.exposure(slot) / 1_000_000,
    share: exposureFen(table.exposure(slot)) / total,
    loanCount: table.loans(slot),
  }));
  const topFen = exposureFen(top.reduce((s, slot) => s + table.exposure(slot), 0));
  const industry = segments(partial.industry, total);
  const region = segments(partial.region, total);
  const productRecord: Record<string, [number, number, number]> = {};
  PRODUCTS.forEach((p, i) => {
    if (partial.productCount[i]! > 0)
      productRecord[p] = [partial.productCount[i]!, partial.productFen[i]!, partial.sub.product[i]!];
  });
  return {
    borrowerHhi: total > 0 ? exactSumValue(hhiParts) : null,
    top10BorrowerShare: ratio(topFen, total),
    largestBorrowerShare: top.length > 0 ? ratio(exposureFen(table.exposure(top[0]!)), total) : null,
    topBorrowers,
    byIndustry: industry.shares,
    byRegion: region.shares,
    byProduct: segments(productRecord, total).shares,
    industryHhi: industry.hhi,
    regionHhi: region.hhi,
  };
}
