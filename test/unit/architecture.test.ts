import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers, read from the source's import statements: the domain stays pure (it imports the
 * types of the listed ports, nothing else outside it), shared/ and functions/ have no import
 * cycle, and use cases reach adapters only through ports. The list of the domain's port imports
 * is exact: a new entry fails the test, and so does an entry that no longer exists.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  /** The importing file, relative to the repository (`shared/domain/loan.ts`). */
  from: string;
  /** A relative import resolved against the repository; a package or `node:` module as written. */
  to: string;
  /** `import type` / `export type`: erased at runtime. */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// Static imports and re-exports (`import x from`, `import type {..} from`, `export * from`, over
// several lines), side-effect imports (`import './x'`) and dynamic `import('...')`.
const IMPORT =
  /^[ \t]*(?:(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*|import\s*)['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** The imports of a source file's text. */
function parseImports(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = (m[3] ?? m[4])!;
    const to = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec;
    out.push({ from: file, to, typeOnly: m[2] !== undefined });
  }
  return out;
}

const FILES = [...sourceFiles('shared'), ...sourceFiles('functions')].sort();
const IMPORTS = FILES.flatMap((f) => parseImports(f, readFileSync(join(ROOT, f), 'utf8')));
const local = (i: Import): boolean => i.to.startsWith('shared/') || i.to.startsWith('functions/');
const edge = (i: Import): string => `${i.from} -> ${i.to}`;

/** Strongly connected components of more than one file (Tarjan), each sorted, in sorted order. */
function importCycles(): string[][] {
  const next = new Map<string, string[]>(FILES.map((f) => [f, []]));
  for (const i of IMPORTS) if (next.has(i.to)) next.get(i.from)!.push(i.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const f of FILES) if (!index.has(f)) visit(f);
  return cycles.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** Prints an exception list beside the test's name, so a run shows what is left to move. */
function show(title: string, entries: readonly string[]): void {
  console.info(`${title} (${entries.length}):${entries.map((e) => `\n  ${e}`).join('')}`);
}

/**
 * The ports the domain is written against, as types only (erased at runtime): the tape scan's
 * byte reading and decoding, the score file's compression, and the store's history item and the
 * listed parts the checks read.
 */
const DOMAIN_PORT_IMPORTS = [
  'shared/domain/engine/previous-scan.ts -> shared/ports/tape-source.ts',
  'shared/domain/engine/shard-audit.ts -> shared/ports/tape-source.ts',
  'shared/domain/store/loan-change.ts -> shared/ports/risk-store.ts',
  'shared/domain/store/score-file.ts -> shared/ports/gzip.ts',
  'shared/domain/tape/scan-parquet.ts -> shared/ports/tape-source.ts',
  'shared/domain/tape/scan.ts -> shared/ports/tape-source.ts',
  'shared/domain/tape/tape-checks.ts -> shared/ports/tape-source.ts',
];

/** Modules the domain never imports: the AWS SDK, file system, compression, streams, Parquet. */
const IO_MODULE = /^(?:node:)?(?:fs|zlib|stream)(?:\/|$)|^@aws-sdk\/|^hyparquet/;

describe('Architecture: the import graph of shared/ and functions/', () => {
  it('reads every relative import to a file that exists', () => {
    // Prepare
    const relativeImports = IMPORTS.filter(local);

    // Assess: a parse that missed imports would pass every other check here.
    expect(FILES.length).toBeGreaterThan(100);
    expect(relativeImports.length).toBeGreaterThan(500);
    expect(relativeImports.filter((i) => !existsSync(join(ROOT, i.to))).map(edge)).toEqual([]);
  });

  it('keeps the domain inside the domain, errors.ts, the bucket layout and the types of its ports', () => {
    // Act: shared/schema/tables.ts is the one source of the keys and prefixes (constants and key
    // builders, importing nothing), which the report link's key check reads too.
    const domain = IMPORTS.filter((i) => i.from.startsWith('shared/domain/') && local(i));
    const outside = domain.filter(
      (i) =>
        !i.to.startsWith('shared/domain/') &&
        i.to !== 'shared/errors.ts' &&
        i.to !== 'shared/schema/tables.ts',
    );
    const layoutImports = IMPORTS.filter((i) => i.from === 'shared/schema/tables.ts');
    const ports = outside.filter((i) => i.to.startsWith('shared/ports/'));
    show('domain imports of ports (types only)', DOMAIN_PORT_IMPORTS);

    // Assess
    expect(outside.filter((i) => !i.to.startsWith('shared/ports/')).map(edge)).toEqual([]);
    expect(layoutImports.map(edge)).toEqual([]);
    expect(ports.filter((i) => !i.typeOnly).map(edge)).toEqual([]);
    expect([...new Set(ports.map(edge))].sort()).toEqual(DOMAIN_PORT_IMPORTS);
  });

  it('keeps the AWS SDK, file system, compression, streams and Parquet out of the domain', () => {
    // Act
    const io = IMPORTS.filter((i) => i.from.startsWith('shared/domain/') && IO_MODULE.test(i.to));

    // Assess
    expect(io.map(edge)).toEqual([]);
  });

  it('has no import cycle among the files of shared/', () => {
    // Act
    const cycles = importCycles();

    // Assess
    expect(cycles).toEqual([]);
  });

  it('keeps use cases off adapters, the CLI and the local stack: they reach them through ports', () => {
    // Act
    const reach = IMPORTS.filter(
      (i) => i.from.startsWith('shared/use-cases/') && /^shared\/(?:adapters|cli|local)\//.test(i.to),
    );

    // Assess
    expect(reach.map(edge)).toEqual([]);
  });
});

/** The files a file reaches through its imports (runtime ones: `import type` is erased), itself included. */
function reachable(from: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  for (let at = todo.pop(); at !== undefined; at = todo.pop())
    for (const i of IMPORTS)
      if (i.from === at && !i.typeOnly && local(i) && !seen.has(i.to)) {
        seen.add(i.to);
        todo.push(i.to);
      }
  return seen;
}

describe('Architecture: what each Lambda bundles', () => {
  it('lets only send-report and notify-failure reach the chart renderer, whose native add-on ships in their bundles only', () => {
    // Prepare: charts.ts loads resvg, which esbuild cannot bundle; infra ships it beside those two.
    const handlers = FILES.filter((f) => /^functions\/[^/]+\/handler\.ts$/.test(f));

    // Act
    const rendering = handlers.filter((h) => reachable(h).has('shared/adapters/report/charts.ts'));

    // Assess
    expect(handlers.length).toBeGreaterThan(8);
    expect(rendering).toEqual(['functions/notify-failure/handler.ts', 'functions/send-report/handler.ts']);
  });
});

describe('Function: parseImports (the parse the architecture tests rest on)', () => {
  it('reads static, type-only, multi-line, re-export, side-effect and dynamic imports', () => {
    // Prepare: one of each, resolved by hand against shared/domain/tape/.
    const text = [
      "import { readFileSync } from 'node:fs';",
      "import type { TapePart } from '../../ports/tape-source.ts';",
      'import {',
      '  type ColumnMapping,',
      '  compileMapping,',
      "} from './mapping.ts';",
      "export { FieldRow } from './field-row.ts';",
      "export type * from '../loan.ts';",
      "import './polyfill.ts';",
      'const later = async () => import("../../adapters/tape/read-tape.ts");',
      "// a comment that says import from './nowhere.ts' is not an import",
      "const text = 'import x from y';",
    ].join('\n');

    // Act
    const found = parseImports('shared/domain/tape/x.ts', text);

    // Assess
    expect(found.map((i) => [i.to, i.typeOnly])).toEqual([
      ['node:fs', false],
      ['shared/ports/tape-source.ts', true],
      ['shared/domain/tape/mapping.ts', false],
      ['shared/domain/tape/field-row.ts', false],
      ['shared/domain/loan.ts', true],
      ['shared/domain/tape/polyfill.ts', false],
      ['shared/adapters/tape/read-tape.ts', false],
    ]);
  });
});
