import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { countExpectedErrors } from '../../shared/adapters/observability.ts';
import { RunInProgressError, StoreError, TapeMissingError } from '../../shared/errors.ts';

const context = { functionName: 'RiskAudit-PrepareRunFunction-AbC123' } as Context;

/** The EMF documents written to stdout while `act` runs. */
async function emfDuring(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act().catch(() => undefined);
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('Middleware: countExpectedErrors', () => {
  const started = new Date('2026-11-26T06:00:00.000Z');

  beforeEach(() => {
    vi.useFakeTimers({ now: started, toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const handlerThrowing = (error: Error) => {
    const metrics = new Metrics({ namespace: 'RiskAudit', serviceName: 'risk-audit' });
    return middy<unknown, unknown>({ timeoutEarlyInMillis: 0 })
      .use(countExpectedErrors(metrics))
      .handler(async () => {
        // The invocation takes ten seconds before it fails.
        vi.setSystemTime(new Date(started.getTime() + 10_000));
        throw error;
      });
  };

  it('counts an expected outcome for its function, at the invocation start, and rethrows it', async () => {
    // Prepare
    const handler = handlerThrowing(new TapeMissingError('no tape for 2026-11-25'));

    // Act
    let thrown: unknown;
    const emf = await emfDuring(() =>
      handler({}, context).catch((e: unknown) => {
        thrown = e;
        throw e;
      }),
    );

    // Assess
    expect(thrown).toBeInstanceOf(TapeMissingError);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        Timestamp: started.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: 'RiskAudit',
            Dimensions: [['service', 'FunctionName']],
            Metrics: [{ Name: 'ExpectedErrors', Unit: 'Count' }],
          },
        ],
      },
      service: 'risk-audit',
      FunctionName: 'RiskAudit-PrepareRunFunction-AbC123',
      ExpectedErrors: 1,
    });
  });

  it('counts a duplicate start the same way', async () => {
    const emf = await emfDuring(() =>
      handlerThrowing(new RunInProgressError('2026-11-25 is running'))({}, context),
    );
    expect(emf.map((d) => d.ExpectedErrors)).toEqual([1]);
  });

  it('counts nothing for a fault, which the function-error alarm must see', async () => {
    let thrown: unknown;
    const emf = await emfDuring(() =>
      handlerThrowing(new StoreError('DynamoDB is throttling'))({}, context).catch((e: unknown) => {
        thrown = e;
        throw e;
      }),
    );
    expect(thrown).toBeInstanceOf(StoreError);
    expect(emf).toEqual([]);
    const plain = await emfDuring(() => handlerThrowing(new TypeError('x is undefined'))({}, context));
    expect(plain).toEqual([]);
  });
});
