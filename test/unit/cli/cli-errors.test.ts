import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'risk-audit.js');
const dir = mkdtempSync(join(tmpdir(), 'risk-audit-cli-'));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One readable sentence: a single line, no stack frames. */
function expectOneSentence(stderr: string): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('--help'));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |\.ts:\d+/);
}

// Each case starts the CLI as a process: seconds each on a busy machine.
describe('CLI: bad input gets one readable sentence and a non-zero exit', { timeout: 120_000 }, () => {
  it('names a missing tape file', () => {
    const r = cli('score', '--snapshot', join(dir, 'nope.csv'), '--out', join(dir, 'o1'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`tape ${join(dir, 'nope.csv')} does not exist`);
    expectOneSentence(r.stderr);
  });

  it('refuses an unknown option', () => {
    const r = cli('score', '--snapshot', 'x.csv', '--frobnicate');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a tape that is not CSV, naming the file', () => {
    const path = join(dir, 'picture.csv');
    writeFileSync(
      path,
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
    );
    const r = cli('score', '--snapshot', path, '--out', join(dir, 'o2'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('picture.csv');
    expectOneSentence(r.stderr);
  });

  it('refuses an unknown command', () => {
    const r = cli('frobnicate');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('refuses a bucket count that is not a power of two, in one sentence, before any work', () => {
    for (const command of ['run', 'demo']) {
      const args = command === 'run' ? ['--snapshot', join(dir, 'nope.csv')] : [];
      const r = cli(command, ...args, '--buckets', '3');
      expect(r.status, command).toBe(1);
      expect(r.stderr, command).toContain('--buckets must be a power of two (1, 2, 4, ... 256), got 3');
      expectOneSentence(r.stderr);
    }
    expect(cli('run', '--snapshot', 'x.csv', '--buckets', '512').stderr).toContain(
      '--buckets must be a whole number from 1 to 256, got 512',
    );
  });

  it('prints help for every command', () => {
    for (const command of ['demo', 'run', 'score', 'generate', 'invoke']) {
      const r = cli(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout, command).toContain(`Usage: risk-audit ${command}`);
    }
  });
});
