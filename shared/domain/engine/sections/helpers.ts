/**
 * The small conversions the section builders share: an amount figure from its exact fen and
 * millionths parts, the same amount in fen for shares, a borrower's exposure in fen, the book's
 * total outstanding and a ratio that is null over an empty base.
 */

import type { PartialAudit } from '../accumulator.ts';
import { amountValue, SUB_PER_FEN } from '../amounts.ts';

/** An amount figure from its whole fen and the millionths beyond them (engine/amounts.ts), exactly rounded once. */
export const yuan = (fen: number, sub = 0): number => amountValue(fen, sub);

/** An amount figure in fen, for shares: whole fen and the fraction the millionths add. */
export const inFen = (fen: number, sub: number): number => (sub === 0 ? fen : fen + sub / SUB_PER_FEN);

/** A borrower's exposure (millionths in the table) in fen, for shares. */
export const exposureFen = (micro: number): number => micro / SUB_PER_FEN;

/** A ratio, or null when its base is zero. */
export const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** The book's total outstanding in fen: the whole of every share of outstanding. */
export const totalFen = (partial: PartialAudit): number =>
  inFen(partial.outstandingFen, partial.sub.outstanding);
