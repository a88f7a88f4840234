import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isTransient, storeCall } from '../../shared/adapters/aws-errors.ts';
import { StoreError } from '../../shared/errors.ts';

describe('Function: isTransient', () => {
  it('counts throttling, 5xx and network resets as passing', () => {
    expect(
      isTransient(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })),
    ).toBe(true);
    expect(isTransient({ name: 'TooManyRequestsException' })).toBe(true);
    expect(isTransient({ name: 'Whatever', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransient({ code: 'ECONNRESET' })).toBe(true);
  });

  it('does not count refusals, validation errors or non-errors', () => {
    expect(isTransient({ name: 'MessageRejected', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isTransient({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isTransient('boom')).toBe(false);
    expect(isTransient(null)).toBe(false);
  });
});

describe('Function: storeCall', () => {
  it('calls once and names the operation and the attempts the client made', async () => {
    let calls = 0;
    const run = storeCall('listing runs', async () => {
      calls++;
      throw new ProvisionedThroughputExceededException({
        message: 'Rate exceeded',
        $metadata: { attempts: 3 },
      });
    });
    await expect(run).rejects.toThrow(new StoreError('listing runs failed after 3 attempts: Rate exceeded'));
    expect(calls).toBe(1);
  });

  it('names no attempts for an error of the first one, and keeps the cause', async () => {
    const refusal = Object.assign(new Error('Requested resource not found\n<body>'), {
      name: 'ResourceNotFoundException',
    });
    const run = storeCall('listing runs', async () => {
      throw refusal;
    });
    await expect(run).rejects.toThrow(new StoreError('listing runs failed: Requested resource not found'));
    await expect(run).rejects.toMatchObject({ cause: refusal });
  });

  it('returns the value of a call that succeeds', async () => {
    await expect(storeCall('reading', async () => 42)).resolves.toBe(42);
  });
});
