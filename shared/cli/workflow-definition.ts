import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateMachineDefinition } from '../local/asl-engine.ts';

/** The ARN a local run gives a function: the same shape as Lambda's, in a `local` region. */
export function localFunctionArn(folder: string): string {
  return `arn:aws:lambda:local:000000000000:function:${folder}`;
}

/**
 * The data bucket as the local definition names it: whatever store a local run uses (the
 * embedded S3's bucket, a scratch folder) answers to this name in the maps' ItemReader and ResultWriter.
 */
export const LOCAL_DATA_BUCKET = 'risk-audit-data';

/** The function folder (`score-shard`) a local function ARN names. */
export function functionOfArn(arn: string): string {
  const name = /:function:([^:]+)$/.exec(arn)?.[1];
  if (name === undefined) throw new Error(`not a Lambda function ARN: ${arn}`);
  return name;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(tmpdir(), 'risk-audit-workflow');

/**
 * A digest of what the synthesized definition depends on: the CDK app's sources (by path inside
 * the project, so clones of the same commit share it), cdk.json and the CDK library's version.
 */
function definitionInputs(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(relative(ROOT, path)).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'infra'));
  hash.update(readFileSync(join(ROOT, 'cdk.json')));
  hash.update(readFileSync(join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json')));
  return hash.digest('hex').slice(0, 20);
}

let loaded: Promise<StateMachineDefinition> | null = null;

/**
 * The state machine definition `cdk synth` produces for the stack, with local function ARNs
 * (see `synthesizedWorkflow`). Synthesizing takes 10-20 s here, so the rendered definition is
 * kept in the temp folder under a digest of the CDK app's sources, cdk.json and the CDK
 * library's version: a change to any of them synthesizes again.
 */
export function localWorkflowDefinition(): Promise<StateMachineDefinition> {
  loaded ??= (async () => {
    const path = join(CACHE_DIR, `audit-workflow-${definitionInputs()}.json`);
    try {
      if (statSync(path).size > 0) return JSON.parse(readFileSync(path, 'utf8')) as StateMachineDefinition;
    } catch {
      // Not synthesized yet for these sources.
    }
    const { synthesizedWorkflow } = await import('../../infra/lib/workflow-definition.ts');
    const definition = synthesizedWorkflow({
      functionArn: localFunctionArn,
      dataBucket: LOCAL_DATA_BUCKET,
    }) as StateMachineDefinition;
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written under a private name, then renamed: a concurrent run never reads half a file.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(definition));
    renameSync(tmp, path);
    return definition;
  })();
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}
