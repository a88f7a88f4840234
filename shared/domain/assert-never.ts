/**
 * The default branch of an exhaustive switch over a closed set (a rule kind, a scope): it only
 * compiles when every member is handled, so adding a member is a compile error where it matters.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
