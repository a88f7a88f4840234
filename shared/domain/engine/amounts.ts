/**
 * Amounts exactly as the tape gives them (audit-result.md: exact sums, no amount rounded before
 * it is summed). Every amount is held as whole fen (hundredths) plus the rest in millionths of a
 * unit ("sub"): 39969.675 is 3996968 fen and -5000 sub. Both parts are integers, so every sum of
 * them is an integer sum, exact in any order and any merge of shards: fen below 2^53 (90
 * trillion), sub below 2^53 millionths as well (each amount adds at most 5,000). An amount is
 * exact to six decimals up to about 4 billion a loan (a double cannot hold six decimals much past
 * that); most tapes have two decimals, and their sub part is 0 on every row, which costs nothing.
 */

/** Millionths of a unit per fen. */
export const SUB_PER_FEN = 10_000;

/** The two parts of the last amount split (scratch, so the per-row loop allocates nothing). */
export const amountParts = { fen: 0, sub: 0 };

/** Splits an amount into amountParts: whole fen, and the rest in millionths (-5,000 to 5,000). */
export function splitAmount(amount: number): void {
  const micro = Math.round(amount * 1_000_000);
  const fen = Math.round(micro / SUB_PER_FEN);
  amountParts.fen = fen;
  amountParts.sub = micro - fen * SUB_PER_FEN;
}

/** An amount in millionths of a unit (per-borrower exposures: exact below about 9 billion). */
export function microOf(fen: number, sub: number): number {
  return fen * SUB_PER_FEN + sub;
}

/** The sum of fen and sub parts as a number: exactly rounded once (fen / 100 when sub is 0). */
export function amountValue(fen: number, sub: number): number {
  if (sub === 0) return fen / 100;
  const micro = BigInt(fen) * BigInt(SUB_PER_FEN) + BigInt(sub);
  const negative = micro < 0n;
  const digits = (negative ? -micro : micro).toString().padStart(7, '0');
  return Number(`${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`);
}

/** An amount held in millionths (an exact integer sum) as a number: exactly rounded once. */
export function amountOfMicro(micro: number): number {
  const fen = Math.trunc(micro / SUB_PER_FEN);
  return amountValue(fen, micro - fen * SUB_PER_FEN);
}
