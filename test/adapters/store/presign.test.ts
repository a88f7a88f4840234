import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../shared/adapters/s3-artifact-store.ts';

function clientWith(expiration: Date | undefined): S3Client {
  return new S3Client({
    region: 'ap-southeast-1',
    credentials: async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      ...(expiration ? { sessionToken: 'token', expiration } : {}),
    }),
  });
}

describe('Class: S3ArtifactStore, presignGet', () => {
  it('signs for the time asked when the credentials outlive it', async () => {
    const store = new S3ArtifactStore(clientWith(undefined), 'bucket');
    const before = Date.now();
    const link = await store.presignGet('runs/2026-11-25/report.html', 604_800);
    expect(link.url).toContain('X-Amz-Expires=604800');
    expect(link.expiresAt.getTime() - before).toBeGreaterThanOrEqual(604_800_000);
  });

  it('says the link dies with temporary credentials that expire sooner (a Lambda role)', async () => {
    const inOneHour = new Date(Date.now() + 3_600_000);
    const store = new S3ArtifactStore(clientWith(inOneHour), 'bucket');
    const link = await store.presignGet('runs/2026-11-25/report.html', 604_800);
    const seconds = Number(new URL(link.url).searchParams.get('X-Amz-Expires'));
    expect(seconds).toBeGreaterThan(3_590);
    expect(seconds).toBeLessThanOrEqual(3_600);
    expect(Math.abs(link.expiresAt.getTime() - inOneHour.getTime())).toBeLessThan(10_000);
  });
});
