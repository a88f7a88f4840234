import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultPolicyPaths, type Policy, parsePolicy } from '../domain/policy/policy.ts';
import { type ColumnMapping, parseMapping } from '../domain/tape/mapping.ts';
import { ConfigError } from '../errors.ts';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${what} ${path} does not exist`);
    if (code === 'EISDIR') throw new ConfigError(`${what} ${path} is a folder, not a file`);
    throw new ConfigError(`${what} ${path} cannot be read (${code ?? 'unknown error'})`, { cause: error });
  }
}

/**
 * Loads the active policy: the shipped defaults (from POLICY_DIR in a Lambda bundle, else the
 * repository's policies/ folder), then the user's file, which replaces the part of its kind.
 */
export async function loadPolicy(userFile?: string, env: NodeJS.ProcessEnv = process.env): Promise<Policy> {
  const defaults = env.POLICY_DIR
    ? {
        rules: join(env.POLICY_DIR, 'default-rules.yaml'),
        appetite: join(env.POLICY_DIR, 'risk-appetite.yaml'),
      }
    : defaultPolicyPaths();
  const files = [defaults.rules, defaults.appetite, ...(userFile ? [userFile] : [])];
  const docs = await Promise.all(
    files.map(async (fileName) => ({ fileName, text: await readText(fileName, 'policy file') })),
  );
  return parsePolicy(docs);
}

/** Loads and validates a column mapping file (JSON or YAML); none given means canonical headers. */
export async function loadMapping(file: string | undefined): Promise<ColumnMapping | undefined> {
  if (!file) return undefined;
  return parseMapping(await readText(file, 'mapping file'), file);
}
