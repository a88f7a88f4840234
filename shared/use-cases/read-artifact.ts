import type { z } from 'zod';
import type { ArtifactStore } from '../ports/artifact-store.ts';

/** The first problem zod found, with where it is: `at portfolio.loanCount: expected number`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'it does not match its schema';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `at ${path}: ${issue.message}`;
}

/** The artifact's JSON through its schema, or an error naming the artifact, its key and the problem. */
function parseArtifact<S extends z.ZodType>(
  bytes: Uint8Array,
  key: string,
  schema: S,
  what: string,
): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`the ${what} is not JSON (${key})`);
  }
  return checkShape(json, key, schema, what);
}

/** A value read from an artifact (its JSON, or a binary file's JSON header) through its schema. */
export function checkShape<S extends z.ZodType>(
  value: unknown,
  key: string,
  schema: S,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new Error(`the ${what} has an unexpected shape (${key}): ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/**
 * Reads a JSON artifact through its schema (what is read back is checked like an event); a
 * missing or malformed one is an error whose one sentence names it and its key.
 */
export async function readArtifact<S extends z.ZodType>(
  artifacts: Pick<ArtifactStore, 'get'>,
  key: string,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  const bytes = await artifacts.get(key);
  if (bytes === null) throw new Error(`the ${what} is missing (${key})`);
  return parseArtifact(bytes, key, schema, what);
}

/** As readArtifact, for an artifact that may not exist yet: null then. */
export async function readOptionalArtifact<S extends z.ZodType>(
  artifacts: Pick<ArtifactStore, 'get'>,
  key: string,
  schema: S,
  what: string,
): Promise<z.output<S> | null> {
  const bytes = await artifacts.get(key);
  return bytes === null ? null : parseArtifact(bytes, key, schema, what);
}
