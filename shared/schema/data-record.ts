/**
 * A zod record for keys that come from the data (a tape's region or industry, a partner id):
 * zod's own record drops a `__proto__` key, this one keeps every key as an own property.
 */
import { z } from 'zod';

/** A record of `value`s whose keys are kept as given, `__proto__` and `constructor` included. */
export function dataRecord<V extends z.ZodType>(value: V): z.ZodType<Record<string, z.output<V>>, unknown> {
  return z.unknown().transform((input, ctx) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      ctx.issues.push({ code: 'invalid_type', expected: 'record', input, message: 'expected an object' });
      return z.NEVER;
    }
    const out: Record<string, z.output<V>> = {};
    for (const [key, entry] of Object.entries(input)) {
      const parsed = value.safeParse(entry);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.issues.push({ ...issue, input: entry, path: [key, ...issue.path] });
        continue;
      }
      Object.defineProperty(out, key, {
        value: parsed.data,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  });
}
