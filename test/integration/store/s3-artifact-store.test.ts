import { afterAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../../shared/adapters/aws-clients.ts';
import { S3ArtifactStore } from '../../../shared/adapters/s3-artifact-store.ts';
import { signReportLink } from '../../../shared/domain/report/report-link.ts';
import { openReportLink } from '../../../shared/use-cases/open-report-link.ts';

const env = inject('awsEnv');
const client = createS3Client(env);
const artifacts = new S3ArtifactStore(client, env.BUCKET_NAME!);

afterAll(() => client.destroy());

async function text(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

describe('Class: S3ArtifactStore (s3rver)', () => {
  it('puts, gets and streams an object', async () => {
    await artifacts.put('it/artifacts/audit.json', '{"schemaVersion":1}\n', 'application/json');
    expect(Buffer.from((await artifacts.get('it/artifacts/audit.json'))!).toString('utf8')).toBe(
      '{"schemaVersion":1}\n',
    );
    expect(await text((await artifacts.stream('it/artifacts/audit.json'))!)).toBe('{"schemaVersion":1}\n');
  });

  it('answers null for a missing object', async () => {
    expect(await artifacts.get('it/artifacts/none.json')).toBeNull();
    expect(await artifacts.stream('it/artifacts/none.json')).toBeNull();
  });

  it('uploads a body above the multipart threshold intact', async () => {
    // 20 MiB of a repeating pattern: above the 16 MiB threshold, so it goes through lib-storage.
    const body = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    await artifacts.put('it/artifacts/big.bin', body, 'application/octet-stream');
    const back = await artifacts.get('it/artifacts/big.bin');
    expect(back?.byteLength).toBe(body.byteLength);
    expect(Buffer.from(back!).equals(Buffer.from(body))).toBe(true);
  });

  it('deletes every object under a prefix and nothing else', async () => {
    for (let i = 0; i < 5; i++) await artifacts.put(`it/prefix/run-1/${i}.json`, '{}', 'application/json');
    await artifacts.put('it/prefix/run-2/keep.json', '{}', 'application/json');
    expect(await artifacts.deletePrefix('it/prefix/run-1/')).toBe(5);
    expect(await artifacts.get('it/prefix/run-1/0.json')).toBeNull();
    expect(await artifacts.get('it/prefix/run-2/keep.json')).not.toBeNull();
    expect(await artifacts.deletePrefix('it/prefix/run-1/')).toBe(0);
  });

  it('presigns a link that downloads the object', async () => {
    await artifacts.put('it/artifacts/report.html', '<p>report</p>', 'text/html');
    const { url, expiresAt } = await artifacts.presignGet('it/artifacts/report.html', 300);
    expect(Math.abs(expiresAt.getTime() - (Date.now() + 300_000))).toBeLessThan(5_000);
    expect(url.startsWith(`${env.AWS_ENDPOINT_URL_S3}/${env.BUCKET_NAME}/it/artifacts/report.html?`)).toBe(
      true,
    );
    expect(url).toContain('X-Amz-Expires=300');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<p>report</p>');
  });
});

describe('A report link, clicked (report-link function against s3rver)', () => {
  const secret = 'report-link-secret-of-enough-length';
  const keys = async () => [secret];
  const base = 'https://links.example/';
  const key = 'runs/2026-11-25/report.html';

  it('redirects a signed link to a presigned URL that downloads the report; a forged one reaches nothing', async () => {
    await artifacts.put(key, '<p>the report</p>', 'text/html');
    const now = new Date();
    const link = signReportLink(base, key, new Date(now.getTime() + 7 * 86_400_000), secret);
    const query = Object.fromEntries(new URL(link).searchParams);
    const response = await openReportLink(query, { artifacts, keys, now });
    expect(response.statusCode).toBe(302);
    const report = await fetch(response.headers.location!);
    expect(report.status).toBe(200);
    expect(await report.text()).toBe('<p>the report</p>');
    const forged = await openReportLink(
      { ...query, k: 'runs/2026-11-24/report.html' },
      { artifacts, keys, now },
    );
    expect(forged.statusCode).toBe(403);
    expect(forged.headers.location).toBeUndefined();
  });
});
