import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { ArtifactStore, PresignedLink } from '../ports/artifact-store.ts';

/** Keeps a run's artifacts as files under a root folder: the engine-only CLI's store, no AWS at all. */
export class FsArtifactStore implements ArtifactStore {
  private readonly root: string;

  public constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new Error(`artifact key escapes the store's folder: ${key}`);
    }
    return path;
  }

  public async put(key: string, body: string | Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }

  public async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await pipeline(Readable.from(body), createWriteStream(path));
  }

  public async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  public async copy(fromKey: string, toKey: string): Promise<boolean> {
    const to = this.pathOf(toKey);
    await mkdir(dirname(to), { recursive: true });
    try {
      await copyFile(this.pathOf(fromKey), to);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  public async stream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const path = this.pathOf(key);
    try {
      await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return createReadStream(path);
  }

  public async deletePrefix(prefix: string): Promise<number> {
    const base = this.pathOf(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    const files = await listFiles(base);
    await rm(base, { recursive: true, force: true });
    return files.length;
  }

  public async presignGet(key: string): Promise<PresignedLink> {
    // A local file does not expire.
    return { url: pathToFileURL(this.pathOf(key)).href, expiresAt: new Date(8.64e15) };
  }

  /** Keys of every stored object under a prefix (for tests and the CLI). */
  public async list(prefix = ''): Promise<string[]> {
    const files = await listFiles(this.pathOf(prefix || '.'));
    return files.map((f) => relative(this.root, f).split(sep).join('/')).sort();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}
