import type { FieldExpression } from './column-plan.ts';
import type { FieldRow } from './field-row.ts';
import { NUMBER_MISSING, NUMBER_OK, parsedNumber, parseNumberCell } from './values.ts';

/**
 * A tiny arithmetic grammar for computed columns, parsed once and compiled to closures (never
 * eval): expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
 * unary := '-' unary | primary; primary := number | column | '(' expr ')' | fn '(' expr, ... ')'.
 * A column is a bare name (letters of any script, digits, `_`, `.`) or a quoted name ("..." or
 * `...`) for headers with spaces or brackets. Functions: min, max, abs, round.
 */

/** A mapping expression that cannot be parsed; the message says where. */
export class ExpressionError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Token =
  | { kind: 'num'; value: number; at: number }
  | { kind: 'name'; value: string; at: number; quoted: boolean }
  | { kind: 'op'; value: string; at: number };

const NAME_CHAR = /[\p{L}\p{N}_.]/u;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if ('+-*/(),'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch, at: i });
      i++;
      continue;
    }
    if (ch === '"' || ch === '`') {
      const close = src.indexOf(ch, i + 1);
      if (close === -1) throw new ExpressionError(`unclosed ${ch} at position ${i + 1}`);
      tokens.push({ kind: 'name', value: src.slice(i + 1, close), at: i, quoted: true });
      i = close + 1;
      continue;
    }
    if ((ch >= '0' && ch <= '9') || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i))!;
      // A name may start with digits (e.g. 2024余额): only a pure number is a number.
      if (!NAME_CHAR.test(src[i + m[0].length] ?? '') || m[0].includes('.')) {
        tokens.push({ kind: 'num', value: Number(m[0]), at: i });
        i += m[0].length;
        continue;
      }
    }
    if (NAME_CHAR.test(ch)) {
      let j = i;
      while (j < src.length && NAME_CHAR.test(src[j]!)) j++;
      tokens.push({ kind: 'name', value: src.slice(i, j), at: i, quoted: false });
      i = j;
      continue;
    }
    throw new ExpressionError(`unexpected character ${JSON.stringify(ch)} at position ${i + 1}`);
  }
  return tokens;
}

/** Parsed expression tree. */
export type ExpressionNode =
  | { kind: 'num'; value: number }
  | { kind: 'col'; name: string }
  | { kind: 'neg'; arg: ExpressionNode }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: ExpressionNode; right: ExpressionNode }
  | { kind: 'fn'; name: 'min' | 'max' | 'abs' | 'round'; args: ExpressionNode[] };

const FUNCTIONS = { min: [2, 2], max: [2, 2], abs: [1, 1], round: [1, 2] } as const;

/** Parses an expression; throws ExpressionError naming the position of the problem. */
export function parseExpression(src: string): ExpressionNode {
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token | undefined => tokens[p];
  const expectOp = (op: string): void => {
    const t = tokens[p];
    if (t?.kind !== 'op' || t.value !== op) {
      throw new ExpressionError(
        `expected ${op} ${t === undefined ? 'at the end' : `at position ${t.at + 1}`}`,
      );
    }
    p++;
  };
  const expr = (): ExpressionNode => {
    let left = term();
    for (let t = peek(); t?.kind === 'op' && (t.value === '+' || t.value === '-'); t = peek()) {
      p++;
      left = { kind: 'bin', op: t.value, left, right: term() };
    }
    return left;
  };
  const term = (): ExpressionNode => {
    let left = unary();
    for (let t = peek(); t?.kind === 'op' && (t.value === '*' || t.value === '/'); t = peek()) {
      p++;
      left = { kind: 'bin', op: t.value, left, right: unary() };
    }
    return left;
  };
  const unary = (): ExpressionNode => {
    const t = peek();
    if (t?.kind === 'op' && t.value === '-') {
      p++;
      return { kind: 'neg', arg: unary() };
    }
    return primary();
  };
  const primary = (): ExpressionNode => {
    const t = tokens[p];
    if (t === undefined) throw new ExpressionError('unexpected end of expression');
    p++;
    if (t.kind === 'num') return { kind: 'num', value: t.value };
    if (t.kind === 'name') {
      const next = peek();
      if (!t.quoted && next?.kind === 'op' && next.value === '(') {
        const name = t.value.toLowerCase();
        if (!(name in FUNCTIONS))
          throw new ExpressionError(`unknown function ${t.value} at position ${t.at + 1}`);
        p++;
        const args: ExpressionNode[] = [expr()];
        while (peek()?.kind === 'op' && peek()?.value === ',') {
          p++;
          args.push(expr());
        }
        expectOp(')');
        const [lo, hi] = FUNCTIONS[name as keyof typeof FUNCTIONS];
        if (args.length < lo || args.length > hi) {
          throw new ExpressionError(`${name} takes ${lo === hi ? lo : `${lo} or ${hi}`} arguments`);
        }
        return { kind: 'fn', name: name as keyof typeof FUNCTIONS, args };
      }
      return { kind: 'col', name: t.value };
    }
    if (t.value === '(') {
      const inner = expr();
      expectOp(')');
      return inner;
    }
    throw new ExpressionError(`unexpected ${t.value} at position ${t.at + 1}`);
  };
  const root = expr();
  const rest = peek();
  if (rest !== undefined)
    throw new ExpressionError(`unexpected ${String(rest.value)} at position ${rest.at + 1}`);
  return root;
}

/** Column names an expression reads. */
export function expressionColumns(node: ExpressionNode): string[] {
  switch (node.kind) {
    case 'num':
      return [];
    case 'col':
      return [node.name];
    case 'neg':
      return expressionColumns(node.arg);
    case 'bin':
      return [...expressionColumns(node.left), ...expressionColumns(node.right)];
    case 'fn':
      return node.args.flatMap(expressionColumns);
  }
}

type Compiled = (f: FieldRow) => number;

/**
 * Compiles a tree against a header: operands are parsed as numbers; an empty operand makes the
 * result null (unknown), an unparseable one NaN (quarantined by the validator).
 */
export function compileExpression(node: ExpressionNode, indexOf: (name: string) => number): FieldExpression {
  const state = { missing: false };
  const build = (n: ExpressionNode): Compiled => {
    switch (n.kind) {
      case 'num': {
        const v = n.value;
        return () => v;
      }
      case 'col': {
        const i = indexOf(n.name);
        if (i < 0) throw new ExpressionError(`column ${JSON.stringify(n.name)} is not in the header`);
        return (f) => {
          const status = parseNumberCell(f.get(i).trim());
          if (status === NUMBER_OK) return parsedNumber.value;
          if (status === NUMBER_MISSING) state.missing = true;
          return Number.NaN;
        };
      }
      case 'neg': {
        const a = build(n.arg);
        return (f) => -a(f);
      }
      case 'bin': {
        const l = build(n.left);
        const r = build(n.right);
        switch (n.op) {
          case '+':
            return (f) => l(f) + r(f);
          case '-':
            return (f) => l(f) - r(f);
          case '*':
            return (f) => l(f) * r(f);
          case '/':
            return (f) => l(f) / r(f);
        }
        break;
      }
      case 'fn': {
        const args = n.args.map(build);
        const a = args[0]!;
        const b = args[1];
        switch (n.name) {
          case 'min':
            return (f) => Math.min(a(f), b!(f));
          case 'max':
            return (f) => Math.max(a(f), b!(f));
          case 'abs':
            return (f) => Math.abs(a(f));
          case 'round':
            return b === undefined
              ? (f) => Math.round(a(f))
              : (f) => {
                  const k = 10 ** b(f);
                  return Math.round(a(f) * k) / k;
                };
        }
      }
    }
  };
  const root = build(node);
  return (f) => {
    state.missing = false;
    const v = root(f);
    return state.missing ? null : v;
  };
}
