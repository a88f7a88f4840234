import { describe, expect, it } from 'vitest';
import {
  copyCommands,
  handlerEntry,
  NODE_RUNTIME,
  PROJECT_ROOT,
} from '../../infra/lib/constructs/audit-function.ts';

describe('Function: copyCommands', () => {
  it('creates the destination folder and copies each path from the input to the output folder', () => {
    const commands = copyCommands(
      [
        { from: 'node_modules/@resvg/resvg-js', to: 'node_modules/@resvg/resvg-js' },
        { from: 'fonts/a.ttf', to: 'fonts/a.ttf' },
      ],
      '/src',
      '/out',
    );
    expect(commands).toEqual([
      "mkdir -p '/out/node_modules/@resvg'",
      "cp -R '/src/node_modules/@resvg/resvg-js' '/out/node_modules/@resvg/resvg-js'",
      "mkdir -p '/out/fonts'",
      "cp -R '/src/fonts/a.ttf' '/out/fonts/a.ttf'",
    ]);
  });

  it('quotes paths holding spaces and single quotes', () => {
    const [mkdir, cp] = copyCommands([{ from: "it's here/x", to: 'a b/x' }], '/in', '/out');
    expect(mkdir).toBe("mkdir -p '/out/a b'");
    expect(cp).toBe("cp -R '/in/it'\\''s here/x' '/out/a b/x'");
  });

  it('copies nothing when asked nothing', () => {
    expect(copyCommands([], '/in', '/out')).toEqual([]);
  });
});

describe('Function: handlerEntry', () => {
  it('resolves functions/<name>/handler.ts from the project root', () => {
    expect(handlerEntry('score-shard')).toBe(`${PROJECT_ROOT}functions/score-shard/handler.ts`);
  });
});

describe('Constant: NODE_RUNTIME', () => {
  it('is the newest Node.js runtime aws-cdk-lib offers', async () => {
    const { Runtime } = await import('aws-cdk-lib/aws-lambda');
    const versions = Object.keys(Runtime)
      .map((k) => /^NODEJS_(\d+)_X$/.exec(k)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number);
    expect(NODE_RUNTIME.name).toBe(`nodejs${Math.max(...versions)}.x`);
  });
});
