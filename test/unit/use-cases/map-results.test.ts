import { describe, expect, it } from 'vitest';
import { isExpectedError, MapItemFailedError } from '../../../shared/errors.ts';
import { failureSentence, succeededItems } from '../../../shared/use-cases/map-results.ts';

const shard = { what: 'shard', key: 'index' } as const;
const lambdaCause = (type: string, message: string) =>
  JSON.stringify({ errorType: type, errorMessage: message });

describe('Function: succeededItems', () => {
  it('hands the results on when no item failed', () => {
    const results = [
      { index: 0, partialKey: 'a' },
      { index: 1, partialKey: 'b' },
    ];
    expect(succeededItems(results, shard)).toEqual(results);
  });

  it("fails with the first failed item's own error name and sentence", () => {
    const results = [
      { index: 0, partialKey: 'a' },
      {
        failed: true as const,
        index: 1,
        error: {
          Error: 'TapeUnreadableError',
          Cause: lambdaCause('TapeUnreadableError', 'part b.csv.gz is not valid gzip'),
        },
      },
      { failed: true as const, index: 2, error: { Error: 'Error', Cause: lambdaCause('Error', 'later') } },
    ];
    let caught: unknown;
    try {
      succeededItems(results, shard);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MapItemFailedError);
    expect((caught as Error).name).toBe('TapeUnreadableError');
    expect((caught as Error).message).toBe('part b.csv.gz is not valid gzip');
  });

  it('names the item when Step Functions itself failed it (a function may not raise a States. name)', () => {
    const timedOut = [
      {
        failed: true as const,
        bucket: 3,
        error: { Error: 'States.Timeout', Cause: 'state MergeBucket took longer than 930 s' },
      },
    ];
    expect(() => succeededItems(timedOut, { what: 'loan-id bucket', key: 'bucket' })).toThrow(
      'loan-id bucket 3 took longer than its time limit and was stopped',
    );
    const other = [{ failed: true as const, index: 7, error: { Error: 'States.TaskFailed' } }];
    expect(() => succeededItems(other, shard)).toThrow('shard 7 failed with States.TaskFailed');
  });
});

describe('Function: isExpectedError of a failed map item', () => {
  it('keeps an expected outcome of an item expected, and a fault a fault', () => {
    expect(
      isExpectedError(new MapItemFailedError('TapeUnreadableError', 'part b.csv.gz is not valid gzip')),
    ).toBe(true);
    expect(isExpectedError(new MapItemFailedError('TypeError', 'x is undefined'))).toBe(false);
    expect(
      isExpectedError(
        new MapItemFailedError('MapItemFailedError', 'shard 0 took longer than its time limit'),
      ),
    ).toBe(false);
  });
});

describe('Function: failureSentence', () => {
  it("reads a Lambda error's type and first line from its JSON cause", () => {
    const cause = JSON.stringify({
      errorType: 'TapeMissingError',
      errorMessage: 'no tape\n  at x',
      trace: [],
    });
    expect(failureSentence({ Error: 'Error', Cause: cause })).toEqual({
      type: 'TapeMissingError',
      sentence: 'no tape',
    });
  });

  it('takes a cause that is not a Lambda error as the sentence itself', () => {
    expect(
      failureSentence({ Error: 'States.Runtime', Cause: 'the JSONPath $.x could not be found' }),
    ).toEqual({
      type: 'States.Runtime',
      sentence: 'the JSONPath $.x could not be found',
    });
    expect(failureSentence({ Error: 'States.Runtime', Cause: 'null' })).toEqual({
      type: 'States.Runtime',
      sentence: 'null',
    });
  });

  it('ignores fields of another type and falls back to the error name', () => {
    const cause = JSON.stringify({ errorType: 42, errorMessage: { nested: true } });
    expect(failureSentence({ Error: 'Lambda.Unknown', Cause: cause })).toEqual({
      type: 'Lambda.Unknown',
      sentence: 'the run failed with Lambda.Unknown',
    });
  });
});
