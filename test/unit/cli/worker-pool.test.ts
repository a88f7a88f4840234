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

describe('Class: WorkerPool with the calling thread as a lane (inline)', () => {
  const job = (key: string): WorkerJob => ({ kind: 'digest', key });

  it('runs the first job on the calling thread at once and the next on its one thread', async () => {
    const ranInline: string[] = [];
    // The calling thread's job holds its lane until the thread's result is in, so the second job
    // can only have run on the thread, however long the thread takes to start.
    let threadDone: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      threadDone = r;
    });
    const pool = new WorkerPool<WorkerJob>(2, 'shard-worker-impl.ts', {
      inline: async (j) => {
        const key = j.kind === 'digest' ? j.key : '';
        ranInline.push(key);
        await held;
        return { result: `inline:${key}` };
      },
    });
    try {
      const results = await pool.map<string>([job('first'), job('package.json')], (_r, i) => {
        if (i === 1) threadDone();
      });
      expect(ranInline).toEqual(['first']);
      expect(results[0]).toBe('inline:first');
      // The second ran on the worker thread: the real digest of the file.
      expect(results[1]).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await pool.close();
    }
  });

  it('runs every job on the calling thread when it is the only lane, and fails the list with its error', async () => {
    const order: string[] = [];
    const pool = new WorkerPool<WorkerJob>(1, 'shard-worker-impl.ts', {
      inline: async (j) => {
        const key = j.kind === 'digest' ? j.key : '';
        order.push(key);
        if (key === 'bad') throw new Error('bad cannot be read');
        return { result: key.toUpperCase() };
      },
    });
    try {
      expect(await pool.map<string>([job('a'), job('b'), job('c')])).toEqual(['A', 'B', 'C']);
      expect(order).toEqual(['a', 'b', 'c']);
      await expect(pool.map<string>([job('bad')])).rejects.toThrow('bad cannot be read');
      // The lane is free again after a failed job.
      expect(await pool.map<string>([job('d')])).toEqual(['D']);
    } finally {
      await pool.close();
    }
  });
});
