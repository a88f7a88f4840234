import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfFile } from '../../../shared/adapters/tape/local-tape-source.ts';

describe('sha256OfFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sha-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('equals the digest of the whole content across several 1 MiB reads', async () => {
    // 2.5 MiB: two full reads into the reused buffer and a partial third.
    const body = randomBytes(2.5 * 1024 * 1024);
    const path = join(dir, 'big.bin');
    await writeFile(path, body);
    expect(await sha256OfFile(path)).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('gives the digest of nothing for an empty file', async () => {
    const path = join(dir, 'empty.csv');
    await writeFile(path, '');
    expect(await sha256OfFile(path)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('fails for a file that is not there', async () => {
    await expect(sha256OfFile(join(dir, 'missing.csv'))).rejects.toThrow(/ENOENT/);
  });
});
