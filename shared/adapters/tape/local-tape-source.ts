import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodePreviousIndex,
  isPreviousIndex,
  PreviousIndexError,
} from '../../domain/engine/previous-tape.ts';
import { TapeMissingError, TapeUnreadableError } from '../../errors.ts';
import type { ByteRange, TapePart, TapePartInput, TapeSource } from '../../ports/tape-source.ts';

/** 64 KB reads: see coalesce() in byte-streams.ts for why not bigger. */
const READ_CHUNK = 1 << 16;

/** Streams a local file (or a byte range of it) in 64 KB chunks. */
export function openLocalFile(path: string, range?: ByteRange): AsyncIterable<Uint8Array> {
  if (range !== undefined && range.end <= range.start) return (async function* () {})();
  return createReadStream(
    path,
    range === undefined
      ? { highWaterMark: READ_CHUNK }
      : { start: range.start, end: range.end - 1, highWaterMark: READ_CHUNK },
  );
}

/**
 * The sha256 of a whole local file, read through one reused 1 MiB buffer: a stream's fresh buffer
 * per chunk made the same digest about 3x slower on this machine (page faults on new memory).
 */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafeSlow(1 << 20);
  const file = await open(path);
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Whether a local file is a stored drift index (`score --index-out`) rather than a tape. */
export async function isLocalPreviousIndex(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) return false;
  const file = await open(path);
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return isPreviousIndex(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/**
 * Reads a stored drift index, into shared memory when `shared` (worker threads then read its
 * table without a copy).
 */
export async function readLocalPreviousIndex(
  path: string,
  shared: boolean,
): Promise<ReturnType<typeof decodePreviousIndex>> {
  const file = await open(path);
  try {
    const { size } = await file.stat();
    const bytes = new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const { bytesRead } = await file.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    try {
      return decodePreviousIndex(bytes.subarray(0, at));
    } catch (error) {
      if (error instanceof PreviousIndexError)
        throw new TapeUnreadableError(`drift index ${path} cannot be read: ${error.message}`, {
          cause: error,
        });
      throw error;
    }
  } finally {
    await file.close();
  }
}

/** Files of a directory that are tape parts: hidden and marker files (`.x`, `_SUCCESS`) are skipped. */
function isPartName(name: string): boolean {
  return !name.startsWith('.') && !name.startsWith('_');
}

/**
 * Tapes on local disk for the CLI: `root` is either one tape file, or a directory holding one
 * folder per date (`root/2026-11-25/part-*.csv`) or files named with the date.
 */
export class LocalTapeSource implements TapeSource {
  public constructor(private readonly root: string) {}

  /** The part files of a date's tape, sorted by path; empty when none landed. */
  public async listParts(snapshotDate: string): Promise<TapePart[]> {
    const info = await stat(this.root).catch(() => null);
    if (info === null) return [];
    if (info.isFile()) return [{ key: this.root, bytes: info.size, lastModified: info.mtime }];
    const dated = join(this.root, snapshotDate);
    const dir = await stat(dated).catch(() => null);
    const folder = dir?.isDirectory() === true ? dated : this.root;
    const names = (await readdir(folder)).filter(isPartName).sort();
    const picked = folder === dated ? names : names.filter((n) => n.includes(snapshotDate));
    const parts: TapePart[] = [];
    for (const name of picked) {
      const path = join(folder, name);
      const s = await stat(path);
      if (s.isFile()) parts.push({ key: path, bytes: s.size, lastModified: s.mtime });
    }
    return parts;
  }

  /** Streams a part's bytes (or a range) without holding it in memory. */
  public async open(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>> {
    return openLocalFile(key, range);
  }
}

/**
 * The parts of a local tape given as a path: a file is a one-part tape, a directory's files
 * (sorted) are the parts of one tape. Throws TapeMissingError when nothing is there.
 */
export async function localTapeParts(path: string): Promise<TapePartInput[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new TapeMissingError(`tape ${path} does not exist`);
  if (info.isFile())
    return [{ key: path, bytes: info.size, open: async (range) => openLocalFile(path, range) }];
  const names = (await readdir(path)).filter(isPartName).sort();
  const parts: TapePartInput[] = [];
  for (const name of names) {
    const file = join(path, name);
    const s = await stat(file);
    if (s.isFile())
      parts.push({ key: file, bytes: s.size, open: async (range) => openLocalFile(file, range) });
  }
  if (parts.length === 0) throw new TapeMissingError(`tape folder ${path} holds no part files`);
  return parts;
}

/**
 * Local tapes given per date (`risk-audit score`): a date's parts are one file, or the part files
 * of a folder (sorted), as `localTapeParts` reads them; a date not given has no tape.
 */
export class DatedTapeSource implements TapeSource {
  public constructor(private readonly byDate: Readonly<Record<string, string>>) {}

  public async listParts(snapshotDate: string): Promise<TapePart[]> {
    const path = this.byDate[snapshotDate];
    if (path === undefined) return [];
    const parts: TapePart[] = [];
    for (const part of await localTapeParts(path)) {
      const s = await stat(part.key);
      parts.push({ key: part.key, bytes: s.size, lastModified: s.mtime });
    }
    return parts;
  }

  public async open(key: string, range?: ByteRange): Promise<AsyncIterable<Uint8Array>> {
    return openLocalFile(key, range);
  }
}
