import type { z } from 'zod';
import { RiskAuditError } from '../errors.ts';

/** An event that does not match its step's schema: refused with a sentence naming each wrong field. */
export class InvalidEventError extends RiskAuditError {}

/** Validates a step's input, turning zod's issues into one readable sentence. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what: string): z.output<S> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  throw new InvalidEventError(`invalid ${what}: ${describeIssues(result.error.issues)}`);
}

/** zod's issues as one clause: each wrong field's path and what is wrong with it (the first five). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
