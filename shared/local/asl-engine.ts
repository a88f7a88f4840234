/**
 * The local Step Functions: an interpreter of the Amazon States Language that runs the state
 * machine definition `cdk synth` produces (JSONPath states) with AWS's documented semantics, its
 * Task states calling whatever `invoke` is given (locally: the real Lambda handlers).
 *
 * Modelled: Pass, Task, Choice, Map (inline and distributed: ItemsPath, ItemSelector/Parameters,
 * MaxConcurrency, ToleratedFailureCount/Percentage, every item awaited), Succeed, Fail; InputPath,
 * Parameters, ResultSelector, ResultPath, OutputPath; the intrinsics below; Retry (ErrorEquals,
 * IntervalSeconds, BackoffRate, MaxAttempts, MaxDelaySeconds, JitterStrategy; intervals may be
 * scaled down locally, the attempts and their order are real); Catch; task TimeoutSeconds
 * (States.Timeout) and the execution's TimeoutSeconds (TIMED_OUT); the payload quota on every
 * state's input and output and every task's result (States.DataLimitExceeded, which `States.ALL`
 * does not catch, nor States.Runtime); execution names (ExecutionAlreadyExists).
 *
 * Not modelled: JSONata states (refused when the machine is built), Wait and Parallel states,
 * HeartbeatSeconds, IAM (a task may do whatever its handler can), service quotas and real
 * concurrency (MaxConcurrency bounds the items in flight; what runs at once is up to `mapRun`),
 * execution history and redrive. A Distributed Map's ItemReader and ResultWriter are an extension
 * point: give `itemReaders` / `resultWriters` by resource (asl-s3-map.ts has S3's, as AWS documents
 * them: JSON / JSON Lines items, the exported manifest and results files); without one such a Map
 * is refused. The engine resolves their `Parameters`, applies `MaxItems`, and turns a reader's or
 * writer's throw into States.ItemReaderFailed / States.ResultWriterFailed.
 */

type Json = unknown;
type JsonObject = Record<string, Json>;

/** A state as it appears in a definition. */
export type StateDefinition = Record<string, Json>;

/** A (sub-)state machine: the top-level definition or a Map's ItemProcessor. */
export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, StateDefinition>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  Comment?: string;
}

/** Step Functions' payload quota: 256 KiB of UTF-8 for any state's input or output and any task result. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** An error as Step Functions names it (`Error`) with its `Cause`. */
export class StatesError extends Error {
  public constructor(
    public readonly error: string,
    public override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
  }
}

/** The definition uses something the local engine does not run (a definition to fix, not a run to retry). */
export class UnsupportedDefinitionError extends Error {
  public override readonly name = 'UnsupportedDefinitionError';
}

/** The name of a new execution is taken (StartExecution's ExecutionAlreadyExists). */
export class ExecutionAlreadyExistsError extends Error {
  public override readonly name = 'ExecutionAlreadyExists';
}

/** The Step Functions error of a Lambda function's unhandled exception (what the Node.js runtime reports). */
export function lambdaFunctionError(error: unknown): StatesError {
  if (error instanceof StatesError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  return new StatesError(
    e.name,
    JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [`${e.name}: ${e.message}`] }),
  );
}

/** What a task invocation knows about where it runs. */
export interface TaskContext {
  stateName: string;
  /** 0 for the first attempt, then 1, 2, ... for each retry. */
  attempt: number;
  executionName: string;
  /** The item's index when the task runs inside a Map's ItemProcessor. */
  mapItemIndex?: number;
}

/** Runs a Task state's resource on its effective input; a throw becomes the state's error. */
export type TaskInvoker = (resource: string, payload: Json, context: TaskContext) => Promise<Json>;

/** What a Map run may bring: its own invoker for the items' tasks (threads, say) and a close. */
export interface MapRunScope {
  invoke?: TaskInvoker;
  close?: () => Promise<void>;
}

/** What an ItemReader is asked for: its `Parameters` resolved against the Map's input, its `ReaderConfig`. */
export interface ItemReadRequest {
  mapName: string;
  parameters: JsonObject;
  readerConfig: JsonObject;
}
/**
 * Reads a Distributed Map's items for its ItemReader (extension point; see the file comment). A
 * throw becomes `States.ItemReaderFailed`; `ReaderConfig.MaxItems` is applied by the engine.
 */
export type ItemReaderFn = (request: ItemReadRequest) => Promise<Json[]>;

/** One child execution of a Distributed Map, as its results are exported. */
export interface ChildExecution {
  /** The item's index in the Map's items. */
  index: number;
  name: string;
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  input: Json;
  /** The child's output (SUCCEEDED). */
  output?: Json;
  /** The child's error and cause (FAILED). */
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate: Date;
}

/** What a ResultWriter is asked to export: every child execution the Map Run started, in item order. */
export interface ResultWriteRequest {
  mapName: string;
  mapRunArn: string;
  stateMachineArn: string;
  parameters: JsonObject;
  writerConfig: JsonObject | undefined;
  executions: ChildExecution[];
}
/**
 * Exports a Distributed Map's results for its ResultWriter and returns the Map's result (on AWS,
 * `{ MapRunArn, ResultWriterDetails }`). A throw becomes `States.ResultWriterFailed`.
 */
export type ResultWriterFn = (request: ResultWriteRequest) => Promise<Json>;

/** A state's start or end, for progress and timings. */
export interface StateEvent {
  type: 'entered' | 'exited';
  name: string;
  /** Nesting: 0 for the top level, 1 inside a Map's items, ... */
  depth: number;
  /** Milliseconds in the state (on `exited`). */
  ms?: number;
}

/** Options of the local engine. */
export interface EngineOptions {
  invoke: TaskInvoker;
  /**
   * Multiplies every Retry interval (and MaxDelaySeconds): 0.001 turns seconds into milliseconds.
   * The number and order of attempts are unchanged.
   * @default 1
   */
  retryIntervalScale?: number;
  /**
   * Multiplies task and execution TimeoutSeconds (for tests of the timeout paths).
   * @default 1
   */
  timeoutScale?: number;
  /** @default PAYLOAD_LIMIT_BYTES */
  payloadLimitBytes?: number;
  /** Called as a Map state starts its items; the scope's invoker runs the items' tasks. */
  mapRun?: (map: { name: string; items: number; maxConcurrency: number }) => Promise<MapRunScope | undefined>;
  /** ItemReader implementations by their `Resource` (none: a Map with an ItemReader is refused). */
  itemReaders?: Record<string, ItemReaderFn>;
  /** ResultWriter implementations by their `Resource` (none: a Map with a ResultWriter is refused). */
  resultWriters?: Record<string, ResultWriterFn>;
  onState?: (event: StateEvent) => void;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** How an execution ended. */
export type ExecutionResult = { name: string; startDate: Date; path: string[] } & (
  | { status: 'SUCCEEDED'; output: Json }
  | { status: 'FAILED' | 'TIMED_OUT'; error: string; cause: string }
);

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * A state machine run locally: `start` runs one execution to its end. Execution names are unique
 * per machine, as on AWS (a standard workflow keeps a name for 90 days; here, for the machine's
 * life, or as long as the `names` set given lives).
 */
export class LocalStateMachine {
  private readonly names: Set<string>;

  public constructor(
    private readonly definition: StateMachineDefinition,
    private readonly options: EngineOptions,
    names: Set<string> = new Set(),
  ) {
    this.names = names;
    checkSupported(definition, 'the state machine');
  }

  /** Runs an execution; a name already used throws ExecutionAlreadyExistsError before anything runs. */
  public async start(input: Json, name: string = randomName()): Promise<ExecutionResult> {
    if (!NAME.test(name))
      throw new UnsupportedDefinitionError(
        `an execution name is 1-80 letters, digits, - or _, got ${JSON.stringify(name)}`,
      );
    if (this.names.has(name))
      throw new ExecutionAlreadyExistsError(`an execution named ${name} already exists`);
    this.names.add(name);
    const startDate = new Date();
    const run = new Run(this.options, name, startDate);
    const path: string[] = [];
    const limit = this.definition.TimeoutSeconds;
    let executionTimeout: StatesError | null = null;
    const work = (async () => {
      run.checkSize(input, 'the execution input');
      return run.states(this.definition, input, { depth: 0, path, context: run.context(input) });
    })();
    try {
      const output =
        limit === undefined
          ? await work
          : await withTimeout(work, limit * 1000 * (this.options.timeoutScale ?? 1), () => {
              executionTimeout = new StatesError(
                'States.Timeout',
                `the execution took longer than ${limit} s`,
              );
              return executionTimeout;
            });
      return { name, startDate, status: 'SUCCEEDED', output, path };
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      return {
        name,
        startDate,
        status: error === executionTimeout ? 'TIMED_OUT' : 'FAILED',
        error: error.error,
        cause: error.cause,
        path,
      };
    }
  }
}

function randomName(): string {
  return globalThis.crypto.randomUUID();
}

/** Refuses, before anything runs, what the engine would not run as AWS does. */
function checkSupported(machine: StateMachineDefinition, where: string): void {
  if (machine.QueryLanguage === 'JSONata')
    throw new UnsupportedDefinitionError(`${where} uses JSONata, which the local engine does not run`);
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.QueryLanguage === 'JSONata')
      throw new UnsupportedDefinitionError(
        `state ${name} uses JSONata, which the local engine does not run: decide in a task instead`,
      );
    if (!['Pass', 'Task', 'Choice', 'Map', 'Succeed', 'Fail'].includes(String(state.Type)))
      throw new UnsupportedDefinitionError(
        `state ${name} is a ${String(state.Type)} state, which the local engine does not run`,
      );
    if (state.Type === 'Map') {
      const processor = (state.ItemProcessor ?? state.Iterator) as StateMachineDefinition | undefined;
      if (processor === undefined) throw new UnsupportedDefinitionError(`map ${name} has no ItemProcessor`);
      checkSupported(processor, `the items of map ${name}`);
    }
  }
}

// Errors that States.ALL does not match (AWS: "can't catch the States.DataLimitExceeded terminal
// error or Runtime error types"); a Catch or Retry naming them explicitly still does.
const NOT_IN_ALL = new Set(['States.DataLimitExceeded', 'States.Runtime']);

function errorMatches(equals: readonly string[], error: string): boolean {
  return equals.includes(error) || (equals.includes('States.ALL') && !NOT_IN_ALL.has(error));
}

interface Scope {
  depth: number;
  path: string[] | null;
  context: JsonObject;
  invoke?: TaskInvoker;
  mapItemIndex?: number;
}

/** One execution's run (its name, timers and counters). */
class Run {
  public constructor(
    private readonly options: EngineOptions,
    private readonly name: string,
    private readonly startDate: Date,
  ) {}

  public context(input: Json): JsonObject {
    return {
      Execution: {
        Id: `local:${this.name}`,
        Name: this.name,
        Input: input,
        StartTime: this.startDate.toISOString(),
      },
      StateMachine: { Id: 'local', Name: 'local' },
    };
  }

  public checkSize(value: Json, what: string): void {
    const limit = this.options.payloadLimitBytes ?? PAYLOAD_LIMIT_BYTES;
    const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
    if (bytes > limit)
      throw new StatesError(
        'States.DataLimitExceeded',
        `${what} is ${bytes} bytes, more than the ${limit}-byte quota`,
      );
  }

  /** Runs states from StartAt until a terminal state; returns the output. */
  public async states(machine: StateMachineDefinition, input: Json, scope: Scope): Promise<Json> {
    let name: string | undefined = machine.StartAt;
    let data = input;
    for (let transitions = 0; ; transitions++) {
      // Standard workflows allow 25,000 events per execution: a loop this long is a definition bug.
      if (transitions > 25_000) throw new StatesError('States.Runtime', 'more than 25,000 state transitions');
      const state: StateDefinition | undefined = machine.States[name];
      if (state === undefined) throw new StatesError('States.Runtime', `no state named ${name}`);
      scope.path?.push(name);
      this.options.onState?.({ type: 'entered', name, depth: scope.depth });
      const since = Date.now();
      let next: { data: Json; next: string | undefined };
      try {
        next = await this.state(name, state, data, scope);
      } finally {
        this.options.onState?.({ type: 'exited', name, depth: scope.depth, ms: Date.now() - since });
      }
      data = next.data;
      if (next.next === undefined) return data;
      name = next.next;
    }
  }

  /** One state: its output and the next state (undefined at the end). */
  private async state(
    name: string,
    state: StateDefinition,
    input: Json,
    scope: Scope,
  ): Promise<{ data: Json; next: string | undefined }> {
    const after = (data: Json): { data: Json; next: string | undefined } => {
      this.checkSize(data, `the output of state ${name}`);
      return { data, next: state.End === true ? undefined : (state.Next as string | undefined) };
    };
    switch (state.Type) {
      case 'Succeed':
        return { data: applyOutputPath(applyInputPath(input, state), state), next: undefined };
      case 'Fail':
        throw new StatesError(
          (state.Error as string | undefined) ??
            (state.ErrorPath ? String(readPath(input, state.ErrorPath as string)) : 'States.Fail'),
          (state.Cause as string | undefined) ??
            (state.CausePath ? String(readPath(input, state.CausePath as string)) : ''),
        );
      case 'Choice': {
        const effective = applyInputPath(input, state);
        for (const rule of (state.Choices as JsonObject[] | undefined) ?? []) {
          if (evaluateRule(rule, effective))
            return { data: applyOutputPath(effective, state), next: rule.Next as string };
        }
        if (state.Default === undefined)
          throw new StatesError('States.NoChoiceMatched', `no choice rule of ${name} matched`);
        return { data: applyOutputPath(effective, state), next: state.Default as string };
      }
      case 'Pass': {
        const effective = applyInputPath(input, state);
        const result =
          state.Result !== undefined
            ? state.Result
            : state.Parameters !== undefined
              ? resolveTemplate(state.Parameters, effective, scope.context)
              : effective;
        return after(applyOutputPath(applyResultPath(input, state.ResultPath, result), state));
      }
      case 'Task':
      case 'Map':
        return this.withRetryAndCatch(name, state, input, scope, after);
      default:
        throw new UnsupportedDefinitionError(`state ${name} has type ${String(state.Type)}`);
    }
  }

  private async withRetryAndCatch(
    name: string,
    state: StateDefinition,
    input: Json,
    scope: Scope,
    after: (data: Json) => { data: Json; next: string | undefined },
  ): Promise<{ data: Json; next: string | undefined }> {
    const retriers = (state.Retry as JsonObject[] | undefined) ?? [];
    const attempts = retriers.map(() => 0);
    for (let attempt = 0; ; attempt++) {
      try {
        const result =
          state.Type === 'Task'
            ? await this.task(name, state, input, scope, attempt)
            : await this.map(name, state, input, scope);
        const selected =
          state.ResultSelector === undefined
            ? result
            : resolveTemplate(state.ResultSelector, result, scope.context);
        return after(applyOutputPath(applyResultPath(input, state.ResultPath, selected), state));
      } catch (raw) {
        if (!(raw instanceof StatesError)) throw raw;
        const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals as string[], raw.error));
        const retrier = retriers[index];
        if (retrier !== undefined) {
          const max = (retrier.MaxAttempts as number | undefined) ?? 3;
          const done = attempts[index]!;
          if (done < max) {
            attempts[index] = done + 1;
            await this.pause(retrier, done);
            continue;
          }
        }
        const catcher = ((state.Catch as JsonObject[] | undefined) ?? []).find((c) =>
          errorMatches(c.ErrorEquals as string[], raw.error),
        );
        if (catcher === undefined) throw raw;
        const data = applyResultPath(input, catcher.ResultPath, { Error: raw.error, Cause: raw.cause });
        this.checkSize(data, `the output of state ${name}`);
        return { data, next: catcher.Next as string };
      }
    }
  }

  /** The pause before retry number `done + 1` of a retrier. */
  private async pause(retrier: JsonObject, done: number): Promise<void> {
    const scale = this.options.retryIntervalScale ?? 1;
    const interval = ((retrier.IntervalSeconds as number | undefined) ?? 1) * 1000;
    const backoff = (retrier.BackoffRate as number | undefined) ?? 2;
    let ms = interval * backoff ** done;
    if (retrier.MaxDelaySeconds !== undefined) ms = Math.min(ms, (retrier.MaxDelaySeconds as number) * 1000);
    if (retrier.JitterStrategy === 'FULL') ms *= (this.options.random ?? Math.random)();
    await (this.options.sleep ?? sleep)(ms * scale);
  }

  private async task(
    name: string,
    state: StateDefinition,
    input: Json,
    scope: Scope,
    attempt: number,
  ): Promise<Json> {
    if (typeof state.Parameters === 'string')
      throw new UnsupportedDefinitionError(`state ${name} has a string Parameters, which AWS rejects`);
    const effective = applyInputPath(input, state);
    const payload =
      state.Parameters === undefined
        ? effective
        : resolveTemplate(state.Parameters, effective, scope.context);
    this.checkSize(payload, `the input of state ${name}`);
    const invoke = scope.invoke ?? this.options.invoke;
    const call = (async () => {
      try {
        return await invoke(String(state.Resource), structuredClone(payload), {
          stateName: name,
          attempt,
          executionName: this.name,
          ...(scope.mapItemIndex === undefined ? {} : { mapItemIndex: scope.mapItemIndex }),
        });
      } catch (error) {
        throw lambdaFunctionError(error);
      }
    })();
    const seconds = state.TimeoutSeconds as number | undefined;
    const result =
      seconds === undefined
        ? await call
        : await withTimeout(
            call,
            seconds * 1000 * (this.options.timeoutScale ?? 1),
            () => new StatesError('States.Timeout', `state ${name} took longer than ${seconds} s`),
          );
    this.checkSize(result, `the result of state ${name}`);
    return result;
  }

  private async map(name: string, state: StateDefinition, input: Json, scope: Scope): Promise<Json> {
    const effective = applyInputPath(input, state);
    let items: Json[];
    const reader = state.ItemReader as JsonObject | undefined;
    if (reader !== undefined) {
      const read = this.options.itemReaders?.[String(reader.Resource)];
      if (read === undefined)
        throw new UnsupportedDefinitionError(
          `map ${name} reads its items with ${String(reader.Resource)}, which the local engine has no reader for`,
        );
      const readerConfig = (reader.ReaderConfig as JsonObject | undefined) ?? {};
      const parameters = resolveTemplate(reader.Parameters ?? {}, effective, scope.context) as JsonObject;
      try {
        items = await read({ mapName: name, parameters, readerConfig });
      } catch (error) {
        if (error instanceof StatesError) throw error;
        throw new StatesError(
          'States.ItemReaderFailed',
          `map ${name} could not read its items: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const maxItems = readerConfig.MaxItems as number | undefined;
      if (maxItems !== undefined && maxItems > 0) items = items.slice(0, maxItems);
    } else {
      const value = readPath(effective, (state.ItemsPath as string | undefined) ?? '$');
      if (!Array.isArray(value))
        throw new StatesError('States.Runtime', `the items of map ${name} are not an array`);
      items = value;
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as StateMachineDefinition;
    const distributed =
      (processor as { ProcessorConfig?: { Mode?: string } }).ProcessorConfig?.Mode === 'DISTRIBUTED';
    const maxConcurrency = (state.MaxConcurrency as number | undefined) ?? 0;
    const selector = (state.ItemSelector ?? state.Parameters) as Json | undefined;
    // Each threshold given applies (either one exceeded fails the Map); with neither, none is tolerated.
    const toleratedCount = state.ToleratedFailureCount as number | undefined;
    const toleratedPercent = state.ToleratedFailurePercentage as number | undefined;
    const exceeds = (failures: number): boolean =>
      toleratedCount === undefined && toleratedPercent === undefined
        ? failures > 0
        : (toleratedCount !== undefined && failures > toleratedCount) ||
          (toleratedPercent !== undefined && (failures / items.length) * 100 > toleratedPercent);
    const mapScope = (await this.options.mapRun?.({ name, items: items.length, maxConcurrency })) ?? {};
    const results = new Array<Json>(items.length);
    const succeeded = new Array<boolean>(items.length).fill(false);
    const failed: StatesError[] = [];
    const mapRunId = randomName();
    const mapRunArn = `arn:aws:states:local:000000000000:mapRun:local/${name}:${mapRunId}`;
    const executions: ChildExecution[] = [];
    let exceeded = false;
    try {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (!exceeded && next < items.length) {
          const index = next++;
          const item = items[index];
          const context = { ...scope.context, Map: { Item: { Index: index, Value: item } } };
          const itemInput = selector === undefined ? item : resolveTemplate(selector, effective, context);
          const child = {
            index,
            name: `${mapRunId}-${index}`,
            executionArn: `arn:aws:states:local:000000000000:execution:local/${name}:${mapRunId}-${index}`,
            input: itemInput,
            startDate: new Date(),
          };
          try {
            this.checkSize(itemInput, `the input of item ${index} of map ${name}`);
            results[index] = await this.states(processor, itemInput, {
              depth: scope.depth + 1,
              path: null,
              context,
              mapItemIndex: index,
              ...(mapScope.invoke
                ? { invoke: mapScope.invoke }
                : scope.invoke
                  ? { invoke: scope.invoke }
                  : {}),
            });
            succeeded[index] = true;
            executions.push({ ...child, status: 'SUCCEEDED', output: results[index], stopDate: new Date() });
          } catch (error) {
            if (!(error instanceof StatesError)) throw error;
            executions.push({
              ...child,
              status: 'FAILED',
              error: error.error,
              cause: error.cause,
              stopDate: new Date(),
            });
            // An inline Map fails on its first failed item; a distributed one counts them.
            if (!distributed) throw error;
            failed.push(error);
            // No new item starts; those in flight finish (a local handler cannot be stopped).
            if (exceeds(failed.length)) exceeded = true;
          }
        }
      };
      const lanes = maxConcurrency === 0 ? items.length : Math.min(maxConcurrency, items.length);
      await Promise.all(Array.from({ length: Math.max(lanes, 0) }, lane));
    } finally {
      await mapScope.close?.();
    }
    // The results are exported whether the Map Run succeeded or failed (what a failed run did is
    // in its FAILED files); a Map with no ResultWriter returns the succeeded items' outputs in order.
    const writer = state.ResultWriter as JsonObject | undefined;
    let exported: Json = null;
    if (writer !== undefined) {
      const write = this.options.resultWriters?.[String(writer.Resource)];
      if (write === undefined)
        throw new UnsupportedDefinitionError(
          `map ${name} writes its results with ${String(writer.Resource)}, which the local engine has no writer for`,
        );
      executions.sort((a, b) => a.index - b.index);
      try {
        exported = await write({
          mapName: name,
          mapRunArn,
          stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:local',
          parameters: resolveTemplate(writer.Parameters ?? {}, effective, scope.context) as JsonObject,
          writerConfig: writer.WriterConfig as JsonObject | undefined,
          executions,
        });
      } catch (error) {
        if (error instanceof StatesError) throw error;
        throw new StatesError(
          'States.ResultWriterFailed',
          `map ${name} could not write its results: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (exceeded)
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        `${failed.length} of the ${items.length} items of map ${name} failed; the first: ${failed[0]!.error}: ${failed[0]!.cause}`,
      );
    if (writer !== undefined) return exported;
    // A tolerated failed item leaves no output: the Map's result holds the succeeded items in order.
    return results.filter((_, i) => succeeded[i]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Paths, templates, intrinsics and choice rules (JSONPath query language).

function splitPath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw new StatesError('States.Runtime', `unsupported path ${path}`);
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]/g;
  const rest = path.slice(1);
  let consumed = 0;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    if (m.index !== consumed) throw new StatesError('States.Runtime', `unsupported path ${path}`);
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] as string)));
    consumed = m.index + m[0].length;
  }
  if (consumed !== rest.length) throw new StatesError('States.Runtime', `unsupported path ${path}`);
  return out;
}

/** Reads a reference path; a missing field is States.Runtime (uncaught by States.ALL, as on AWS). */
export function readPath(data: Json, path: string): Json {
  let cur: Json = data;
  for (const key of splitPath(path)) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object)))
      throw new StatesError('States.Runtime', `the path ${path} does not exist in the input`);
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

function applyInputPath(input: Json, state: StateDefinition): Json {
  if (state.InputPath === null) return {};
  return state.InputPath === undefined ? input : readPath(input, state.InputPath as string);
}

function applyOutputPath(output: Json, state: StateDefinition): Json {
  if (state.OutputPath === null) return {};
  return state.OutputPath === undefined ? output : readPath(output, state.OutputPath as string);
}

function applyResultPath(input: Json, resultPath: Json, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const keys = splitPath(resultPath as string);
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new StatesError('States.ResultPathMatchFailure', `cannot apply ResultPath ${String(resultPath)}`);
  const root = { ...(input as JsonObject) };
  let cur: Record<string | number, Json> = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) cur[key] = result;
    else {
      const child = cur[key];
      cur[key] =
        child !== null && typeof child === 'object' ? { ...(child as JsonObject) } : ({} as JsonObject);
      cur = cur[key] as Record<string | number, Json>;
    }
  });
  return root;
}

/** Parameters / ItemSelector / ResultSelector: fields ending in `.$` are paths or intrinsics. */
function resolveTemplate(template: Json, data: Json, context: JsonObject): Json {
  if (Array.isArray(template)) return template.map((t) => resolveTemplate(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(template as JsonObject)) {
    if (k.endsWith('.$')) out[k.slice(0, -2)] = evaluateExpression(String(v), data, context);
    else out[k] = resolveTemplate(v, data, context);
  }
  return out;
}

function evaluateExpression(expr: string, data: Json, context: JsonObject): Json {
  const text = expr.trim();
  if (text.startsWith('$$')) return readPath(context, text.slice(1));
  if (text.startsWith('$')) return readPath(data, text);
  const call = /^States\.(\w+)\(([\s\S]*)\)$/.exec(text);
  if (call === null) throw new StatesError('States.Runtime', `cannot evaluate ${expr}`);
  const [, fn, argText] = call as unknown as [string, string, string];
  const args = splitArguments(argText).map((a): Json => {
    if (a.startsWith("'")) return a.slice(1, -1).replace(/\\(.)/g, '$1');
    if (/^-?\d+(\.\d+)?$/.test(a)) return Number(a);
    if (a === 'null') return null;
    if (a === 'true' || a === 'false') return a === 'true';
    return evaluateExpression(a, data, context);
  });
  return intrinsic(fn, args);
}

function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last.length > 0 || args.length > 0) args.push(last);
  return args;
}

function intrinsic(fn: string, args: Json[]): Json {
  switch (fn) {
    case 'StringSplit': {
      const [s, separators] = args as [string, string];
      const out: string[] = [];
      let word = '';
      for (const c of s) {
        if (separators.includes(c)) {
          if (word.length > 0) out.push(word);
          word = '';
        } else word += c;
      }
      if (word.length > 0) out.push(word);
      return out;
    }
    case 'ArrayGetItem': {
      const [array, index] = args as [Json[], number];
      return array[index];
    }
    case 'ArrayLength':
      return (args[0] as Json[]).length;
    case 'Array':
      return args;
    case 'Format': {
      const [template, ...values] = args as [string, ...Json[]];
      let i = 0;
      return template.replace(/\{\}/g, () => {
        const v = values[i++];
        return typeof v === 'string' ? v : JSON.stringify(v);
      });
    }
    case 'JsonToString':
      return JSON.stringify(args[0]);
    case 'StringToJson':
      return JSON.parse(args[0] as string) as Json;
    case 'MathAdd':
      return (args[0] as number) + (args[1] as number);
    case 'JsonMerge': {
      // Step Functions merges shallowly only (the third argument must be false): the second
      // object's keys replace the first's.
      const [first, second, deep] = args as [JsonObject, JsonObject, boolean];
      if (deep !== false)
        throw new StatesError('States.Runtime', 'States.JsonMerge supports the shallow merge only (false)');
      const isObject = (v: Json): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
      if (!isObject(first) || !isObject(second))
        throw new StatesError('States.Runtime', 'States.JsonMerge merges two JSON objects');
      return { ...first, ...second };
    }
    default:
      throw new StatesError('States.Runtime', `the intrinsic States.${fn} is not supported locally`);
  }
}

const COMPARISONS: Record<string, (a: Json, b: Json) => boolean> = {
  StringEquals: (a, b) => typeof a === 'string' && a === b,
  StringLessThan: (a, b) => typeof a === 'string' && a < (b as string),
  StringGreaterThan: (a, b) => typeof a === 'string' && a > (b as string),
  StringLessThanEquals: (a, b) => typeof a === 'string' && a <= (b as string),
  StringGreaterThanEquals: (a, b) => typeof a === 'string' && a >= (b as string),
  NumericEquals: (a, b) => typeof a === 'number' && a === b,
  NumericLessThan: (a, b) => typeof a === 'number' && a < (b as number),
  NumericGreaterThan: (a, b) => typeof a === 'number' && a > (b as number),
  NumericLessThanEquals: (a, b) => typeof a === 'number' && a <= (b as number),
  NumericGreaterThanEquals: (a, b) => typeof a === 'number' && a >= (b as number),
  BooleanEquals: (a, b) => typeof a === 'boolean' && a === b,
};

function evaluateRule(rule: JsonObject, data: Json): boolean {
  if (Array.isArray(rule.And)) return (rule.And as JsonObject[]).every((r) => evaluateRule(r, data));
  if (Array.isArray(rule.Or)) return (rule.Or as JsonObject[]).some((r) => evaluateRule(r, data));
  if (rule.Not !== undefined) return !evaluateRule(rule.Not as JsonObject, data);
  const variable = rule.Variable as string;
  if (rule.IsPresent !== undefined) return pathExists(data, variable) === rule.IsPresent;
  const value = readPath(data, variable);
  if (rule.IsNull !== undefined) return (value === null) === rule.IsNull;
  if (rule.IsString !== undefined) return (typeof value === 'string') === rule.IsString;
  if (rule.IsNumeric !== undefined) return (typeof value === 'number') === rule.IsNumeric;
  if (rule.IsBoolean !== undefined) return (typeof value === 'boolean') === rule.IsBoolean;
  for (const [op, compare] of Object.entries(COMPARISONS)) {
    if (rule[op] !== undefined) return compare(value, rule[op]);
    if (rule[`${op}Path`] !== undefined) return compare(value, readPath(data, rule[`${op}Path`] as string));
  }
  throw new UnsupportedDefinitionError(`unsupported choice rule ${JSON.stringify(rule)}`);
}
