/**
 * Milliseconds per part of a workflow step (reported in its result), each part timed from the end
 * of the one before; `start` carries an earlier step's parts.
 */
export function stepTimer(start: Readonly<Record<string, number>> = {}): {
  timings: Record<string, number>;
  lap(name: string): void;
} {
  const timings: Record<string, number> = { ...start };
  let mark = Date.now();
  return {
    timings,
    lap(name) {
      const now = Date.now();
      timings[name] = now - mark;
      mark = now;
    },
  };
}
