import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerJob } from '../../../shared/cli/shard-jobs.ts';
import { ShardFailedError, WorkerPool } from '../../../shared/cli/worker-pool.ts';

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
    const pool = new WorkerPool<WorkerJob>(1);
    try {
      const first = pool.map<string>([{ kind: 'digest', key: join(dir, 'a.csv') }]);
      const second = pool.map<string>([
        { kind: 'digest', key: join(dir, 'b.csv') },
        { kind: 'digest', key: join(dir, 'a.csv') },
      ]);
      expect(await first).toEqual([sha('a\n')]);
      expect(await second).toEqual([sha('bb\n'), sha('a\n')]);
    } finally {
      await pool.close();
    }
  });

  it("fails a list with the job's sentence and keeps the thread for the next list", async () => {
    const pool = new WorkerPool<WorkerJob>(2);
    try {
      const failing = pool.map<string>([
        { kind: 'digest', key: join(dir, 'a.csv') },
        { kind: 'digest', key: join(dir, 'missing.csv') },
      ]);
      await expect(failing).rejects.toThrow(ShardFailedError);
      await expect(failing).rejects.toThrow(/missing\.csv/);
      expect(await pool.map<string>([{ kind: 'digest', key: join(dir, 'b.csv') }])).toEqual([sha('bb\n')]);
    } finally {
      await pool.close();
    }
  });

  it('fails the jobs still queued when it is closed', async () => {
    const pool = new WorkerPool<WorkerJob>(1);
    const queued = pool.map<string>([
      { kind: 'digest', key: join(dir, 'a.csv') },
      { kind: 'digest', key: join(dir, 'b.csv') },
    ]);
    await pool.close();
    await expect(queued).rejects.toThrow(/closed/);
  });
});
