import jsonata from 'jsonata';

/**
 * A small interpreter for the subset of Amazon States Language the audit workflow uses, so tests
 * can drive the synthesized definition with stub tasks and check what each function receives:
 * JSONPath states (InputPath, Parameters, ResultPath, Catch, Choice IsPresent, Pass, Map with
 * ItemsPath, Fail, Succeed, the intrinsics used here) and JSONata Choice/Pass states.
 * Retries, timeouts and concurrency are not simulated.
 */

type Json = unknown;
type State = Record<string, unknown>;

/** The error a task raises, as Step Functions reports it (`{ Error, Cause }`). */
export class TaskError extends Error {
  public constructor(
    public readonly errorName: string,
    public readonly errorCause: string,
  ) {
    super(`${errorName}: ${errorCause}`);
  }
}

/** A stub for a Task state, by state name: returns the function's result or throws a TaskError. */
export type TaskStub = (input: Json) => Json | Promise<Json>;

/** How a simulated execution ended. */
export type ExecutionResult =
  | { status: 'SUCCEEDED'; output: Json; path: string[] }
  | { status: 'FAILED'; error: string | undefined; cause: string | undefined; path: string[] };

function splitPath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw new Error(`unsupported path ${path}`);
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_]+)|\[(\d+)\]/g;
  const rest = path.slice(1);
  let m: RegExpExecArray | null = re.exec(rest);
  let consumed = 0;
  while (m !== null) {
    if (m.index !== consumed) throw new Error(`unsupported path ${path}`);
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    consumed = m.index + m[0].length;
    m = re.exec(rest);
  }
  if (consumed !== rest.length) throw new Error(`unsupported path ${path}`);
  return out;
}

/** Reads a reference path; a missing field is Step Functions' States.Runtime error. */
export function readPath(data: Json, path: string): Json {
  let cur: Json = data;
  for (const key of splitPath(path)) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) {
      throw new TaskError('States.Runtime', `the path ${path} does not exist in the input`);
    }
    cur = (cur as Record<string | number, Json>)[key];
  }
  return cur;
}

function pathExists(data: Json, path: string): boolean {
  try {
    readPath(data, path);
    return true;
  } catch {
    return false;
  }
}

function writePath(data: Json, path: string | null | undefined, value: Json): Json {
  if (path === null) return data;
  if (path === undefined || path === '$') return value;
  const keys = splitPath(path);
  const root: Record<string, Json> =
    data !== null && typeof data === 'object' ? structuredClone(data as Record<string, Json>) : {};
  let cur: Record<string | number, Json> = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) cur[key] = value;
    else {
      const next = cur[key];
      cur[key] = next !== null && typeof next === 'object' ? next : {};
      cur = cur[key] as Record<string | number, Json>;
    }
  });
  return root;
}

// The intrinsics the definition uses, evaluated on already-parsed arguments.
function evalIntrinsic(expr: string, data: Json): Json {
  const call = /^States\.(\w+)\((.*)\)$/.exec(expr.trim());
  if (call === null) return readPath(data, expr.trim());
  const [, name, argText] = call as unknown as [string, string, string];
  const args: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < argText.length; i++) {
    const c = argText[i];
    if (c === "'" && argText[i - 1] !== '\\') quote = !quote;
    if (quote) continue;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      args.push(argText.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(argText.slice(start).trim());
  const value = (a: string): Json => {
    if (a.startsWith("'")) return a.slice(1, -1);
    if (/^-?\d+$/.test(a)) return Number(a);
    return evalIntrinsic(a, data);
  };
  const vals = args.map(value);
  switch (name) {
    case 'StringSplit': {
      const [s, sep] = vals as [string, string];
      return s.split(new RegExp(`[${sep.replace(/[\]\\^-]/g, '\\$&')}]`)).filter((x) => x.length > 0);
    }
    case 'ArrayGetItem': {
      const [arr, i] = vals as [Json[], number];
      return arr[i];
    }
    case 'ArrayLength':
      return (vals[0] as Json[]).length;
    default:
      throw new Error(`unsupported intrinsic States.${name}`);
  }
}

function resolveParameters(template: Json, data: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((t) => resolveParameters(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(template as Record<string, Json>)) {
    if (k.endsWith('.$')) {
      const expr = String(v);
      out[k.slice(0, -2)] = expr.startsWith('$$')
        ? readPath(context, expr.slice(1))
        : evalIntrinsic(expr, data);
    } else out[k] = resolveParameters(v, data, context);
  }
  return out;
}

async function evalJsonata(text: string, input: Json, errorOutput?: Json): Promise<Json> {
  const m = /^\{%([\s\S]*)%\}$/.exec(text.trim());
  if (m === null) return text;
  return jsonata(m[1] as string).evaluate({}, { states: { input, errorOutput } });
}

function errorMatches(equals: string[], error: string): boolean {
  return equals.includes('States.ALL') || equals.includes(error);
}

/** Runs a (sub-)state machine from its StartAt on the given input. */
export async function simulate(
  machine: { StartAt: string; States: Record<string, State> },
  input: Json,
  tasks: Record<string, TaskStub>,
  context: Json = {},
): Promise<ExecutionResult> {
  const path: string[] = [];
  let name: string | undefined = machine.StartAt;
  let data: Json = input;
  for (let steps = 0; name !== undefined && steps < 1000; steps++) {
    const state: State | undefined = machine.States[name];
    if (state === undefined) throw new Error(`no state named ${name}`);
    path.push(name);
    const jsonataState = state.QueryLanguage === 'JSONata';
    try {
      switch (state.Type) {
        case 'Succeed':
          return { status: 'SUCCEEDED', output: data, path };
        case 'Fail':
          return {
            status: 'FAILED',
            error:
              (state.Error as string | undefined) ??
              (state.ErrorPath ? String(readPath(data, state.ErrorPath as string)) : undefined),
            cause:
              (state.Cause as string | undefined) ??
              (state.CausePath ? String(readPath(data, state.CausePath as string)) : undefined),
            path,
          };
        case 'Choice': {
          let next = state.Default as string | undefined;
          for (const c of state.Choices as Record<string, Json>[]) {
            const hit = jsonataState
              ? (await evalJsonata(c.Condition as string, data)) === true
              : c.IsPresent !== undefined
                ? pathExists(data, c.Variable as string) === c.IsPresent
                : (() => {
                    throw new Error(`unsupported choice rule ${JSON.stringify(c)}`);
                  })();
            if (hit) {
              next = c.Next as string;
              break;
            }
          }
          if (next === undefined)
            throw new TaskError('States.NoChoiceMatched', `no choice matched in ${name}`);
          name = next;
          continue;
        }
        case 'Pass': {
          if (jsonataState)
            data = state.Output === undefined ? data : await evalJsonata(state.Output as string, data);
          else {
            const effective =
              state.InputPath === undefined ? data : readPath(data, state.InputPath as string);
            const result =
              state.Parameters === undefined
                ? effective
                : resolveParameters(state.Parameters, effective, context);
            data = writePath(data, state.ResultPath as string | null | undefined, result);
          }
          break;
        }
        case 'Task': {
          const stub = tasks[name];
          if (stub === undefined) throw new Error(`no stub for task ${name}`);
          const effective = state.InputPath === undefined ? data : readPath(data, state.InputPath as string);
          if (typeof state.Parameters === 'string')
            throw new Error(`invalid ASL: ${name} has string Parameters`);
          const payload =
            state.Parameters === undefined
              ? effective
              : resolveParameters(state.Parameters, effective, context);
          const result = await stub(structuredClone(payload));
          data = writePath(data, state.ResultPath as string | null | undefined, result);
          break;
        }
        case 'Map': {
          const items = readPath(data, (state.ItemsPath as string | undefined) ?? '$') as Json[];
          const processor = state.ItemProcessor as { StartAt: string; States: Record<string, State> };
          const results: Json[] = [];
          let failures = 0;
          for (const [index, item] of items.entries()) {
            const child = await simulate(processor, item, tasks, {
              Map: { Item: { Index: index, Value: item } },
            });
            if (child.status === 'FAILED') failures++;
            else results.push(child.output);
          }
          const tolerated = (state.ToleratedFailureCount as number | undefined) ?? 0;
          if (failures > tolerated) {
            throw new TaskError(
              'States.ExceedToleratedFailureThreshold',
              'The specified tolerated failure threshold was exceeded',
            );
          }
          data = writePath(data, state.ResultPath as string | null | undefined, results);
          break;
        }
        default:
          throw new Error(`unsupported state type ${String(state.Type)}`);
      }
    } catch (error) {
      if (!(error instanceof TaskError)) throw error;
      const handler = ((state.Catch as Record<string, Json>[] | undefined) ?? []).find((c) =>
        errorMatches(c.ErrorEquals as string[], error.errorName),
      );
      if (handler === undefined)
        return { status: 'FAILED', error: error.errorName, cause: error.errorCause, path };
      data = writePath(data, handler.ResultPath as string | null | undefined, {
        Error: error.errorName,
        Cause: error.errorCause,
      });
      name = handler.Next as string;
      continue;
    }
    name = state.End === true ? undefined : (state.Next as string | undefined);
  }
  return { status: 'SUCCEEDED', output: data, path };
}

/** The error a Lambda function's unhandled exception becomes in Step Functions. */
export function lambdaError(error: Error): TaskError {
  return new TaskError(
    error.name,
    JSON.stringify({
      errorType: error.name,
      errorMessage: error.message,
      trace: [`${error.name}: ${error.message}`],
    }),
  );
}
