import type { FieldRow } from './field-row.ts';
import { NUMBER_MISSING, NUMBER_OK, parsedNumber, parseNumberCell } from './values.ts';

/**
 * The mapping's expression language, parsed once and compiled to closures (never eval). Values are
 * numbers, text, true/false, or empty (null: an empty cell, "unknown"). Grammar, loosest first:
 *   or := and ('or' and)*;  and := not ('and' not)*;  not := 'not' not | cmp
 *   cmp := sum (('=' | '!=' | '<>' | '<' | '<=' | '>' | '>=') sum)?
 *   sum := term (('+' | '-') term)*;  term := unary (('*' | '/') unary)*;  unary := '-' unary | primary
 *   primary := number | 'text' | column | true | false | fn '(' expr, ... ')' | '(' expr ')'
 * A column is a bare name (letters of any script, digits, `_`, `.`) or a quoted one ("..." or
 * `...`) for headers with spaces, brackets or a keyword's name; 'single quotes' are text. Functions:
 * min, max, abs, round, if, coalesce, concat, row. docs/mapping.md documents each with an example.
 */

/** A mapping expression that cannot be parsed; the message says where. */
export class ExpressionError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** A value that cannot be computed (text where a number is needed); its row is quarantined. */
export interface ExprFailure {
  readonly failure: string;
}

/** What an expression yields for a row. */
export type ExprValue = number | string | boolean | null | ExprFailure;

/** True for the failure value of an expression. */
export function isFailure(v: ExprValue): v is ExprFailure {
  return typeof v === 'object' && v !== null;
}

type Token =
  | { kind: 'num'; value: number; at: number }
  | { kind: 'str'; value: string; at: number }
  | { kind: 'name'; value: string; at: number; quoted: boolean }
  | { kind: 'op'; value: string; at: number };

const NAME_CHAR = /[\p{L}\p{N}_.]/u;
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>' || two === '==') {
      tokens.push({ kind: 'op', value: two === '==' ? '=' : two === '<>' ? '!=' : two, at: i });
      i += 2;
      continue;
    }
    if ('+-*/(),=<>'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch, at: i });
      i++;
      continue;
    }
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = src.indexOf("'", j);
        if (close === -1) throw new ExpressionError(`unclosed ' at position ${i + 1}`);
        value += src.slice(j, close);
        if (src[close + 1] === "'") {
          value += "'";
          j = close + 2;
          continue;
        }
        j = close + 1;
        break;
      }
      tokens.push({ kind: 'str', value, at: i });
      i = j;
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

/** Comparison operators. */
export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** Parsed expression tree. */
export type ExpressionNode =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'col'; name: string }
  | { kind: 'neg'; arg: ExpressionNode }
  | { kind: 'not'; arg: ExpressionNode }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: ExpressionNode; right: ExpressionNode }
  | { kind: 'cmp'; op: Comparison; left: ExpressionNode; right: ExpressionNode }
  | { kind: 'logic'; op: 'and' | 'or'; left: ExpressionNode; right: ExpressionNode }
  | { kind: 'fn'; name: FunctionName; args: ExpressionNode[] };

/** Functions and how many arguments each takes. */
const FUNCTIONS = {
  min: [2, 64],
  max: [2, 64],
  abs: [1, 1],
  round: [1, 2],
  if: [3, 3],
  coalesce: [1, 64],
  concat: [1, 64],
  row: [0, 0],
} as const;
/** A function of the language. */
export type FunctionName = keyof typeof FUNCTIONS;

/** Parses an expression; throws ExpressionError naming the position of the problem. */
export function parseExpression(src: string): ExpressionNode {
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token | undefined => tokens[p];
  const isOp = (t: Token | undefined, ...ops: string[]): boolean => t?.kind === 'op' && ops.includes(t.value);
  const isWord = (t: Token | undefined, word: string): boolean =>
    t?.kind === 'name' && !t.quoted && t.value.toLowerCase() === word;
  const expectOp = (op: string): void => {
    const t = tokens[p];
    if (!isOp(t, op)) {
      throw new ExpressionError(
        `expected ${op} ${t === undefined ? 'at the end' : `at position ${t.at + 1}`}`,
      );
    }
    p++;
  };
  const or = (): ExpressionNode => {
    let left = and();
    while (isWord(peek(), 'or')) {
      p++;
      left = { kind: 'logic', op: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): ExpressionNode => {
    let left = not();
    while (isWord(peek(), 'and')) {
      p++;
      left = { kind: 'logic', op: 'and', left, right: not() };
    }
    return left;
  };
  const not = (): ExpressionNode => {
    if (isWord(peek(), 'not')) {
      p++;
      return { kind: 'not', arg: not() };
    }
    return cmp();
  };
  const cmp = (): ExpressionNode => {
    const left = sum();
    const t = peek();
    if (isOp(t, '=', '!=', '<', '<=', '>', '>=')) {
      p++;
      return { kind: 'cmp', op: (t as { value: Comparison }).value, left, right: sum() };
    }
    return left;
  };
  const sum = (): ExpressionNode => {
    let left = term();
    for (let t = peek(); isOp(t, '+', '-'); t = peek()) {
      p++;
      left = { kind: 'bin', op: (t as { value: '+' | '-' }).value, left, right: term() };
    }
    return left;
  };
  const term = (): ExpressionNode => {
    let left = unary();
    for (let t = peek(); isOp(t, '*', '/'); t = peek()) {
      p++;
      left = { kind: 'bin', op: (t as { value: '*' | '/' }).value, left, right: unary() };
    }
    return left;
  };
  const unary = (): ExpressionNode => {
    if (isOp(peek(), '-')) {
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
    if (t.kind === 'str') return { kind: 'str', value: t.value };
    if (t.kind === 'name') {
      const word = t.value.toLowerCase();
      const next = peek();
      if (!t.quoted && isOp(next, '(')) {
        if (!(word in FUNCTIONS))
          throw new ExpressionError(`unknown function ${t.value} at position ${t.at + 1}`);
        p++;
        const args: ExpressionNode[] = [];
        if (!isOp(peek(), ')')) {
          args.push(or());
          while (isOp(peek(), ',')) {
            p++;
            args.push(or());
          }
        }
        expectOp(')');
        const [lo, hi] = FUNCTIONS[word as FunctionName];
        if (args.length < lo || args.length > hi) {
          const count = lo === hi ? `${lo}` : hi === 64 ? `at least ${lo}` : `${lo} or ${hi}`;
          throw new ExpressionError(`${word} takes ${count} argument${lo === 1 && hi === 1 ? '' : 's'}`);
        }
        return { kind: 'fn', name: word as FunctionName, args };
      }
      if (!t.quoted && (word === 'true' || word === 'false')) return { kind: 'bool', value: word === 'true' };
      if (!t.quoted && KEYWORDS.has(word))
        throw new ExpressionError(`unexpected ${t.value} at position ${t.at + 1} (quote a column named so)`);
      return { kind: 'col', name: t.value };
    }
    if (t.value === '(') {
      const inner = or();
      expectOp(')');
      return inner;
    }
    throw new ExpressionError(`unexpected ${t.value} at position ${t.at + 1}`);
  };
  const root = or();
  const rest = peek();
  if (rest !== undefined)
    throw new ExpressionError(`unexpected ${String(rest.value)} at position ${rest.at + 1}`);
  return root;
}

/** Column names an expression reads. */
export function expressionColumns(node: ExpressionNode): string[] {
  switch (node.kind) {
    case 'num':
    case 'str':
    case 'bool':
      return [];
    case 'col':
      return [node.name];
    case 'neg':
    case 'not':
      return expressionColumns(node.arg);
    case 'bin':
    case 'cmp':
    case 'logic':
      return [...expressionColumns(node.left), ...expressionColumns(node.right)];
    case 'fn':
      return node.args.flatMap(expressionColumns);
  }
}

/** Whether an expression uses row(): such a mapping reads each part whole (row numbers are the part's). */
export function usesRowNumber(node: ExpressionNode): boolean {
  switch (node.kind) {
    case 'fn':
      return node.name === 'row' || node.args.some(usesRowNumber);
    case 'neg':
    case 'not':
      return usesRowNumber(node.arg);
    case 'bin':
    case 'cmp':
    case 'logic':
      return usesRowNumber(node.left) || usesRowNumber(node.right);
    default:
      return false;
  }
}

/** Whether an expression always yields true, false or empty (a condition, as `where` needs). */
export function isCondition(node: ExpressionNode): boolean {
  switch (node.kind) {
    case 'cmp':
    case 'logic':
    case 'not':
    case 'bool':
      return true;
    case 'fn':
      return (
        (node.name === 'if' && isCondition(node.args[1]!) && isCondition(node.args[2]!)) ||
        (node.name === 'coalesce' && node.args.every(isCondition))
      );
    default:
      return false;
  }
}

/** Evaluates a compiled expression over a row's source cells; `rowNumber` is what row() yields. */
export type FieldExpression = (row: FieldRow, rowNumber: number) => ExprValue;

const failures = new Map<string, ExprFailure>();
/** One shared failure object per message (rows failing alike allocate nothing). */
function fail(message: string): ExprFailure {
  let f = failures.get(message);
  if (f === undefined) {
    f = Object.freeze({ failure: message });
    if (failures.size < 1024) failures.set(message, f);
  }
  return f;
}

/** The value as a number: text is parsed (empty text is null); true/false is a failure. */
export function toNumber(v: ExprValue, what: string): number | null | ExprFailure {
  if (typeof v === 'number' || v === null || isFailure(v)) return v;
  if (typeof v === 'boolean') return fail(`${what} is true or false, not a number`);
  const status = parseNumberCell(v);
  if (status === NUMBER_OK) return parsedNumber.value;
  if (status === NUMBER_MISSING) return null;
  return fail(`${what} is not a number`);
}

/** The value as cell text: numbers in their shortest form, true/false as words, empty as ''. */
export function toText(v: ExprValue): string {
  if (v === null || isFailure(v)) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

type Compiled = (f: FieldRow, n: number) => ExprValue;

function describe(node: ExpressionNode): string {
  return node.kind === 'col' ? `column ${JSON.stringify(node.name)}` : 'a value';
}

/** Compares two values of one kind; null when either is empty, a failure when kinds differ. */
function compare(op: Comparison, a: ExprValue, b: ExprValue, left: string, right: string): ExprValue {
  if (isFailure(a)) return a;
  if (isFailure(b)) return b;
  if (a === null || b === null) return null;
  let x: number | string | boolean = a;
  let y: number | string | boolean = b;
  // Text against a number compares as numbers ("12" = 12): the text must be one.
  if (typeof x === 'number' && typeof y === 'string') {
    const n = toNumber(y, right);
    if (n === null || isFailure(n)) return n;
    y = n;
  } else if (typeof x === 'string' && typeof y === 'number') {
    const n = toNumber(x, left);
    if (n === null || isFailure(n)) return n;
    x = n;
  }
  if (typeof x !== typeof y)
    return fail(`${left} and ${right} cannot be compared (${typeof x} and ${typeof y})`);
  switch (op) {
    case '=':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/** A value as a condition: true, false or empty (null); anything else is a failure. */
function truth(v: ExprValue): boolean | null | ExprFailure {
  if (v === null || typeof v === 'boolean' || isFailure(v)) return v;
  return fail('a condition gives a value that is not true or false');
}

/**
 * Compiles a tree against a header (`indexOf` gives a name's source index). Empty cells are null
 * and pass through: arithmetic and comparisons with an empty operand are empty, `if` takes an
 * empty condition as false, `coalesce` skips empty values, `concat` reads them as ''.
 */
export function compileExpression(node: ExpressionNode, indexOf: (name: string) => number): FieldExpression {
  const build = (n: ExpressionNode): Compiled => {
    switch (n.kind) {
      case 'num':
      case 'str':
      case 'bool': {
        const v = n.value;
        return () => v;
      }
      case 'col': {
        const i = indexOf(n.name);
        if (i < 0) throw new ExpressionError(`column ${JSON.stringify(n.name)} is not in the header`);
        return (f) => {
          const t = f.get(i).trim();
          return t.length === 0 ? null : t;
        };
      }
      case 'neg': {
        const a = build(n.arg);
        const what = describe(n.arg);
        return (f, r) => {
          const v = toNumber(a(f, r), what);
          return typeof v === 'number' ? -v : v;
        };
      }
      case 'not': {
        const a = build(n.arg);
        return (f, r) => {
          const v = truth(a(f, r));
          return typeof v === 'boolean' ? !v : v;
        };
      }
      case 'bin': {
        const l = build(n.left);
        const r = build(n.right);
        const lw = describe(n.left);
        const rw = describe(n.right);
        const op = n.op;
        return (f, k) => {
          const a = toNumber(l(f, k), lw);
          if (isFailure(a)) return a;
          const b = toNumber(r(f, k), rw);
          if (isFailure(b)) return b;
          if (a === null || b === null) return null;
          switch (op) {
            case '+':
              return a + b;
            case '-':
              return a - b;
            case '*':
              return a * b;
            case '/':
              return a / b;
          }
        };
      }
      case 'cmp': {
        const l = build(n.left);
        const r = build(n.right);
        const lw = describe(n.left);
        const rw = describe(n.right);
        const op = n.op;
        return (f, k) => compare(op, l(f, k), r(f, k), lw, rw);
      }
      case 'logic': {
        const l = build(n.left);
        const r = build(n.right);
        const and = n.op === 'and';
        return (f, k) => {
          const a = truth(l(f, k));
          if (isFailure(a)) return a;
          if (a === !and) return a; // false and ..., true or ...
          const b = truth(r(f, k));
          if (isFailure(b)) return b;
          if (b === !and) return b;
          return a === null || b === null ? null : and;
        };
      }
      case 'fn':
        return buildFunction(n.name, n.args.map(build), n.args.map(describe));
    }
  };
  return build(node);
}

function buildFunction(name: FunctionName, args: Compiled[], what: string[]): Compiled {
  const a = args[0]!;
  const b = args[1];
  const numbers = (f: FieldRow, k: number, pick: (x: number, y: number) => number): ExprValue => {
    let acc: number | null = null;
    for (let i = 0; i < args.length; i++) {
      const v = toNumber(args[i]!(f, k), what[i]!);
      if (isFailure(v)) return v;
      if (v === null) return null;
      acc = acc === null ? v : pick(acc, v);
    }
    return acc;
  };
  switch (name) {
    case 'min':
      return (f, k) => numbers(f, k, Math.min);
    case 'max':
      return (f, k) => numbers(f, k, Math.max);
    case 'abs':
      return (f, k) => {
        const v = toNumber(a(f, k), what[0]!);
        return typeof v === 'number' ? Math.abs(v) : v;
      };
    case 'round':
      return (f, k) => {
        const v = toNumber(a(f, k), what[0]!);
        if (typeof v !== 'number') return v;
        if (b === undefined) return Math.round(v);
        const d = toNumber(b(f, k), what[1]!);
        if (typeof d !== 'number') return d;
        const scale = 10 ** d;
        return Math.round(v * scale) / scale;
      };
    case 'if': {
      const then = args[1]!;
      const otherwise = args[2]!;
      return (f, k) => {
        const c = truth(a(f, k));
        if (isFailure(c)) return c;
        return c === true ? then(f, k) : otherwise(f, k);
      };
    }
    case 'coalesce':
      return (f, k) => {
        for (const arg of args) {
          const v = arg(f, k);
          if (v !== null && v !== '') return v;
        }
        return null;
      };
    case 'concat':
      return (f, k) => {
        let out = '';
        for (const arg of args) {
          const v = arg(f, k);
          if (isFailure(v)) return v;
          out += toText(v);
        }
        return out.length === 0 ? null : out;
      };
    case 'row':
      return (_f, k) => k;
  }
}
