import { describe, expect, it } from 'vitest';
import {
  ExecutionAlreadyExistsError,
  type ItemReaderFn,
  LocalStateMachine,
  type StateMachineDefinition,
  UnsupportedDefinitionError,
} from '../../../shared/local/asl-engine.ts';

/** An error a task raises under a name of our choosing (as a Lambda's errorType). */
function failure(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A machine of one Task state (named Work) with the given fields. */
function oneTask(fields: Record<string, unknown>): StateMachineDefinition {
  return {
    StartAt: 'Work',
    States: {
      Work: { Type: 'Task', Resource: 'fn:work', End: true, ...fields },
      Caught: { Type: 'Pass', End: true },
    },
  };
}

/** A distributed map over `$.items`, each item through task fn:item. */
function distributedMap(fields: Record<string, unknown> = {}): StateMachineDefinition {
  return {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Item',
          States: { Item: { Type: 'Task', Resource: 'fn:item', End: true } },
        },
        ResultPath: '$.results',
        End: true,
        ...fields,
      },
    },
  };
}

describe('Class: LocalStateMachine', () => {
  describe('Map', () => {
    it('waits for every item, then fails with ExceedToleratedFailureThreshold when none is tolerated', async () => {
      const finished: number[] = [];
      const engine = new LocalStateMachine(distributedMap({ ToleratedFailureCount: 0, MaxConcurrency: 4 }), {
        invoke: async (_r, item) => {
          const n = item as number;
          await new Promise((r) => setTimeout(r, n === 1 ? 0 : 30));
          finished.push(n);
          if (n === 1) throw failure('BadShard');
          return n * 10;
        },
      });
      const result = await engine.start({ items: [0, 1, 2, 3] });
      expect(result).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
      // Items already running when item 1 failed still finished.
      expect(finished.sort()).toEqual([0, 1, 2, 3]);
    });

    it('tolerates ToleratedFailureCount failed items and keeps the others’ results in item order', async () => {
      const engine = new LocalStateMachine(distributedMap({ ToleratedFailureCount: 1 }), {
        invoke: async (_r, item) => {
          if (item === 2) throw failure('BadShard');
          return `r${String(item)}`;
        },
      });
      const result = await engine.start({ items: [1, 2, 3] });
      expect(result).toMatchObject({
        status: 'SUCCEEDED',
        output: { items: [1, 2, 3], results: ['r1', 'r3'] },
      });
      const two = await engine.start({ items: [2, 2, 3] });
      expect(two).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    });

    it('tolerates failures up to ToleratedFailurePercentage of the items', async () => {
      const engine = new LocalStateMachine(distributedMap({ ToleratedFailurePercentage: 50 }), {
        invoke: async (_r, item) => {
          if ((item as number) < 0) throw failure('BadShard');
          return item;
        },
      });
      // 2 of 4 = 50%: tolerated; 3 of 4 = 75%: not.
      expect((await engine.start({ items: [-1, -2, 3, 4] })).status).toBe('SUCCEEDED');
      expect((await engine.start({ items: [-1, -2, -3, 4] })).status).toBe('FAILED');
    });

    it('keeps at most MaxConcurrency items in flight', async () => {
      let inFlight = 0;
      let most = 0;
      const engine = new LocalStateMachine(distributedMap({ MaxConcurrency: 2 }), {
        invoke: async () => {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 10));
          inFlight--;
          return null;
        },
      });
      await engine.start({ items: [1, 2, 3, 4, 5] });
      expect(most).toBe(2);
    });

    it('fails an inline map on its first failed item', async () => {
      const def = distributedMap();
      const each = def.States.Each as { ItemProcessor: Record<string, unknown> };
      delete each.ItemProcessor.ProcessorConfig;
      const engine = new LocalStateMachine(def, {
        invoke: async (_r, item) => {
          if (item === 2) throw failure('BadItem', 'item two is bad');
          return item;
        },
      });
      expect(await engine.start({ items: [1, 2, 3] })).toMatchObject({ status: 'FAILED', error: 'BadItem' });
    });

    it('gives each item its ItemSelector with $$.Map.Item.Index and Value', async () => {
      const seen: unknown[] = [];
      const engine = new LocalStateMachine(
        distributedMap({
          ItemSelector: { 'at.$': '$$.Map.Item.Index', 'v.$': '$$.Map.Item.Value', 'k.$': '$.k' },
        }),
        {
          invoke: async (_r, item) => {
            seen.push(item);
            return null;
          },
        },
      );
      await engine.start({ items: ['a', 'b'], k: 7 });
      expect(seen).toEqual([
        { at: 0, v: 'a', k: 7 },
        { at: 1, v: 'b', k: 7 },
      ]);
    });

    it('refuses a map that reads its items with an ItemReader it has no reader for, and reads them with one', async () => {
      const def = distributedMap({
        ItemsPath: undefined,
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' } },
      });
      await expect(new LocalStateMachine(def, { invoke: async () => null }).start({})).rejects.toBeInstanceOf(
        UnsupportedDefinitionError,
      );
      const reader: ItemReaderFn = async () => [5, 6];
      const engine = new LocalStateMachine(def, {
        invoke: async (_r, item) => (item as number) + 1,
        itemReaders: { 'arn:aws:states:::s3:getObject': reader },
      });
      expect(await engine.start({})).toMatchObject({ status: 'SUCCEEDED', output: { results: [6, 7] } });
    });
  });

  describe('Retry and Catch', () => {
    it('retries a matching error MaxAttempts times with IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds', async () => {
      const pauses: number[] = [];
      let calls = 0;
      const engine = new LocalStateMachine(
        oneTask({
          Retry: [
            {
              ErrorEquals: ['Lambda.ServiceException'],
              IntervalSeconds: 2,
              BackoffRate: 2,
              MaxAttempts: 4,
              MaxDelaySeconds: 10,
            },
          ],
        }),
        {
          invoke: async () => {
            calls++;
            throw failure('Lambda.ServiceException');
          },
          sleep: async (ms) => {
            pauses.push(ms);
          },
        },
      );
      const result = await engine.start({});
      expect(result).toMatchObject({ status: 'FAILED', error: 'Lambda.ServiceException' });
      expect(calls).toBe(5);
      // 2, 4, 8, then 16 capped at 10 seconds.
      expect(pauses).toEqual([2000, 4000, 8000, 10000]);
    });

    it('scales the pauses, never the attempts, and draws full jitter below the interval', async () => {
      const pauses: number[] = [];
      let calls = 0;
      const engine = new LocalStateMachine(
        oneTask({
          Retry: [
            { ErrorEquals: ['States.ALL'], IntervalSeconds: 3, MaxAttempts: 2, JitterStrategy: 'FULL' },
          ],
        }),
        {
          invoke: async () => {
            if (calls++ < 2) throw failure('Flaky');
            return 'ok';
          },
          retryIntervalScale: 0.01,
          random: () => 0.5,
          sleep: async (ms) => {
            pauses.push(ms);
          },
        },
      );
      expect(await engine.start({})).toMatchObject({ status: 'SUCCEEDED', output: 'ok' });
      // 3 s and 6 s (default BackoffRate 2), halved by the jitter, scaled by 0.01.
      expect(pauses).toEqual([15, 30]);
    });

    it('uses the first retrier that matches, each with its own count, then the first matching catcher', async () => {
      const errors = ['A', 'B', 'A', 'B', 'C'];
      const engine = new LocalStateMachine(
        oneTask({
          Retry: [
            { ErrorEquals: ['A'], MaxAttempts: 2, IntervalSeconds: 0 },
            { ErrorEquals: ['A', 'B'], MaxAttempts: 1, IntervalSeconds: 0 },
          ],
          Catch: [
            { ErrorEquals: ['B'], Next: 'Caught', ResultPath: '$.b' },
            { ErrorEquals: ['States.ALL'], Next: 'Caught', ResultPath: '$.error' },
          ],
        }),
        {
          invoke: async () => {
            throw failure(errors.shift()!, 'why');
          },
        },
      );
      const result = await engine.start({ keep: 1 });
      // A (retry 1 of A), B (retry 1 of B), A (retry 2 of A), B: B's retrier is spent: caught as B.
      expect(errors).toEqual(['C']);
      expect(result).toMatchObject({ status: 'SUCCEEDED', output: { keep: 1, b: { Error: 'B' } } });
    });

    it('never retries with MaxAttempts 0', async () => {
      let calls = 0;
      const engine = new LocalStateMachine(
        oneTask({ Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 0 }] }),
        {
          invoke: async () => {
            calls++;
            throw failure('X');
          },
        },
      );
      await engine.start({});
      expect(calls).toBe(1);
    });

    it("catches a handler's exception as Lambda reports it: its name and a Cause holding its message", async () => {
      const engine = new LocalStateMachine(
        oneTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught', ResultPath: '$.error' }] }),
        {
          invoke: async () => {
            throw failure('TapeUnreadableError', 'part a.csv.gz is not valid gzip');
          },
        },
      );
      const result = await engine.start({});
      const error = (result as { output: { error: { Error: string; Cause: string } } }).output.error;
      expect(error.Error).toBe('TapeUnreadableError');
      expect(JSON.parse(error.Cause)).toMatchObject({
        errorType: 'TapeUnreadableError',
        errorMessage: 'part a.csv.gz is not valid gzip',
      });
    });
  });

  describe('timeouts and the payload quota', () => {
    it('fails a task that runs past its TimeoutSeconds with States.Timeout, which a Catch can take', async () => {
      const engine = new LocalStateMachine(
        oneTask({
          TimeoutSeconds: 1,
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Caught', ResultPath: '$.error' }],
        }),
        { invoke: () => new Promise((r) => setTimeout(() => r('late'), 200)), timeoutScale: 0.05 },
      );
      expect(await engine.start({})).toMatchObject({
        status: 'SUCCEEDED',
        output: { error: { Error: 'States.Timeout' } },
      });
    });

    it('times the execution out after its TimeoutSeconds', async () => {
      const def = { ...oneTask({}), TimeoutSeconds: 1 };
      const engine = new LocalStateMachine(def, {
        invoke: () => new Promise((r) => setTimeout(() => r('late'), 200)),
        timeoutScale: 0.05,
      });
      expect(await engine.start({})).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    });

    it('fails with States.DataLimitExceeded on a result over 256 KiB, which States.ALL does not catch', async () => {
      const big = 'x'.repeat(256 * 1024);
      const caughtAll = new LocalStateMachine(
        oneTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }] }),
        { invoke: async () => big },
      );
      expect(await caughtAll.start({})).toMatchObject({
        status: 'FAILED',
        error: 'States.DataLimitExceeded',
      });
      const named = new LocalStateMachine(
        oneTask({
          Catch: [{ ErrorEquals: ['States.DataLimitExceeded'], Next: 'Caught', ResultPath: '$.error' }],
        }),
        { invoke: async () => big },
      );
      expect((await named.start({})).status).toBe('SUCCEEDED');
      // Exactly at the quota is fine: 262,144 bytes of JSON.
      const atLimit = new LocalStateMachine(oneTask({ ResultPath: null }), {
        invoke: async () => 'x'.repeat(256 * 1024 - 2),
      });
      expect((await atLimit.start({})).status).toBe('SUCCEEDED');
    });

    it('refuses an input over the quota, and a missing path is States.Runtime (not caught by States.ALL)', async () => {
      const engine = new LocalStateMachine(
        oneTask({ InputPath: '$.missing', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }] }),
        { invoke: async () => null },
      );
      expect(await engine.start({ x: 1 })).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(await engine.start({ x: 'y'.repeat(300 * 1024) })).toMatchObject({
        status: 'FAILED',
        error: 'States.DataLimitExceeded',
      });
    });
  });

  describe('executions and definitions', () => {
    it('refuses an execution name already used, before running anything', async () => {
      let calls = 0;
      const engine = new LocalStateMachine(oneTask({}), {
        invoke: async () => {
          calls++;
          return null;
        },
      });
      await engine.start({}, '2026-11-25-on-demand-1');
      await expect(engine.start({}, '2026-11-25-on-demand-1')).rejects.toBeInstanceOf(
        ExecutionAlreadyExistsError,
      );
      await expect(engine.start({}, 'has space')).rejects.toThrow(/execution name/);
      expect(calls).toBe(1);
    });

    it('refuses JSONata states and state types it does not run when built', () => {
      const jsonata = { StartAt: 'C', States: { C: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } } };
      expect(() => new LocalStateMachine(jsonata, { invoke: async () => null })).toThrow(/JSONata/);
      const wait = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, End: true } } };
      expect(() => new LocalStateMachine(wait, { invoke: async () => null })).toThrow(
        UnsupportedDefinitionError,
      );
    });

    it('applies InputPath, Parameters, ResultSelector, ResultPath and OutputPath in that order', async () => {
      let got: unknown;
      const engine = new LocalStateMachine(
        oneTask({
          InputPath: '$.in',
          Parameters: {
            'id.$': '$.id',
            fixed: 1,
            'key.$': "States.ArrayGetItem(States.StringSplit($.key, '/'), 1)",
          },
          ResultSelector: { 'n.$': '$.count' },
          ResultPath: '$.in.out',
          OutputPath: '$.in',
        }),
        {
          invoke: async (_r, payload) => {
            got = payload;
            return { count: 3, noise: true };
          },
        },
      );
      const result = await engine.start({ in: { id: 'a', key: 'snapshots/2026-11-25/x.csv' }, other: 1 });
      expect(got).toEqual({ id: 'a', fixed: 1, key: '2026-11-25' });
      expect(result).toMatchObject({
        status: 'SUCCEEDED',
        output: { id: 'a', key: 'snapshots/2026-11-25/x.csv', out: { n: 3 } },
      });
    });

    it('merges two objects shallowly with States.JsonMerge, as Step Functions documents, and refuses a deep merge', async () => {
      // Prepare: the second object's keys replace the first's, nested objects whole.
      const pass = (deep: string): StateMachineDefinition => ({
        StartAt: 'M',
        States: {
          M: {
            Type: 'Pass',
            Parameters: { [`plan.$`]: `States.JsonMerge($.plan, $.extra, ${deep})` },
            End: true,
          },
        },
      });
      const input = { plan: { a: 1, b: { x: 1, y: 2 }, c: 3 }, extra: { b: { x: 9 }, d: 4 } };

      // Act
      const merged = await new LocalStateMachine(pass('false'), { invoke: async () => null }).start(input);
      const deep = await new LocalStateMachine(pass('true'), { invoke: async () => null }).start(input);

      // Assess
      expect(merged).toMatchObject({
        status: 'SUCCEEDED',
        output: { plan: { a: 1, b: { x: 9 }, c: 3, d: 4 } },
      });
      expect(deep).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    });

    it('follows Choice rules and fails with States.NoChoiceMatched when none matches and there is no Default', async () => {
      const def: StateMachineDefinition = {
        StartAt: 'Pick',
        States: {
          Pick: {
            Type: 'Choice',
            Choices: [
              {
                And: [
                  { Variable: '$.n', NumericGreaterThan: 2 },
                  { Not: { Variable: '$.s', StringEquals: 'x' } },
                ],
                Next: 'Big',
              },
              { Variable: '$.flag', IsPresent: true, Next: 'Flagged' },
            ],
          },
          Big: { Type: 'Succeed' },
          Flagged: { Type: 'Fail', Error: 'Flagged', Cause: 'flag set' },
        },
      };
      const engine = new LocalStateMachine(def, { invoke: async () => null });
      expect((await engine.start({ n: 3, s: 'y' })).path).toEqual(['Pick', 'Big']);
      expect(await engine.start({ n: 1, flag: true })).toMatchObject({
        status: 'FAILED',
        error: 'Flagged',
        cause: 'flag set',
      });
      expect(await engine.start({ n: 3, s: 'x' })).toMatchObject({
        status: 'FAILED',
        error: 'States.NoChoiceMatched',
      });
    });
  });
});
