/**
 * vitest globalSetup of the integration project: one embedded local AWS stack (fresh, in a temp
 * state folder) for the whole run, its env handed to the tests with `inject('awsEnv')`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { localWorkflowDefinition } from '../../shared/cli/workflow-definition.ts';
import { type LocalEndpoints, type LocalStack, startLocalStack } from '../../shared/local/local-stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** AWS_ENDPOINT_URL_*, region, dummy keys, BUCKET_NAME, TABLE_NAME, IDEMPOTENCY_TABLE_NAME. */
    awsEnv: Record<string, string>;
    localEndpoints: LocalEndpoints;
    localStateDir: string;
  }
}

let stack: LocalStack | null = null;
let stateDir: string | null = null;
const previousEnv = new Map<string, string | undefined>();

/** Starts the stack and provides its env; also exports it to process.env so forked workers inherit it. */
export async function setup(project: TestProject): Promise<void> {
  // The local runs execute the synthesized state machine: synthesized once, up front.
  await localWorkflowDefinition();
  stateDir = await mkdtemp(join(tmpdir(), 'risk-audit-it-'));
  stack = await startLocalStack({ stateDir, fresh: true, quiet: true, dynamoStorage: 'memory' });
  for (const [name, value] of Object.entries(stack.env)) {
    previousEnv.set(name, process.env[name]);
    process.env[name] = value;
  }
  project.provide('awsEnv', stack.env);
  project.provide('localEndpoints', stack.endpoints);
  project.provide('localStateDir', stack.stateDir);
}

/** Stops every child of the stack and removes its temp state folder. */
export async function teardown(): Promise<void> {
  await stack?.stop();
  stack = null;
  for (const [name, value] of previousEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (stateDir !== null) await rm(stateDir, { recursive: true, force: true });
  stateDir = null;
}
