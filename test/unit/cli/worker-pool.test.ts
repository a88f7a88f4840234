import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardFailedError, WorkerPool } from '../../../shared/cli/worker-pool.ts';

/** The pool's threads run digest-worker.ts: a job is a file to hash. */
type DigestJob = { path: string };
const DIGEST_WORKER = new URL('./digest-worker.ts', import.meta.url);
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('Class: WorkerPool', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pool-'));
    await writeFile(join(dir, 'a.csv'), 'a\n');
    await writeFile(join(dir, 'b.csv'), 'bb\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs lists given one after the other without waiting, in order, on its threads', async () => {
    const pool = new WorkerPool<DigestJob>(1, DIGEST_WORKER);
    try {
      const first = pool.map<string>([{ path: join(dir, 'a.csv') }]);
      const second = pool.map<string>([{ path: join(dir, 'b.csv') }, { path: join(dir, 'a.csv') }]);
      expect(await first).toEqual([sha('a\n')]);
      expect(await second).toEqual([sha('bb\n'), sha('a\n')]);
    } finally {
      await pool.close();
    }
  });

  it("fails a list with the job's sentence and keeps the thread for the next list", async () => {
    const pool = new WorkerPool<DigestJob>(2, DIGEST_WORKER);
    try {
      const failing = pool.map<string>([{ path: join(dir, 'a.csv') }, { path: join(dir, 'missing.csv') }]);
      await expect(failing).rejects.toThrow(ShardFailedError);
      await expect(failing).rejects.toThrow(/missing\.csv/);
      expect(await pool.map<string>([{ path: join(dir, 'b.csv') }])).toEqual([sha('bb\n')]);
    } finally {
      await pool.close();
    }
  });

  it('fails the jobs still queued when it is closed', async () => {
    const pool = new WorkerPool<DigestJob>(1, DIGEST_WORKER);
    const queued = pool.map<string>([{ path: join(dir, 'a.csv') }, { path: join(dir, 'b.csv') }]);
    await pool.close();
    await expect(queued).rejects.toThrow(/closed/);
  });
});
