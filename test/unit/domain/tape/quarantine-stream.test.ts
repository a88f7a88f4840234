import { describe, expect, it } from 'vitest';
import { QuarantineStreamWriter } from '../../../../shared/domain/tape/quarantine-stream.ts';

const row = (line: number, raw: string) => ({
  part: 'p.csv',
  line,
  raw,
  codes: ['NEGATIVE'],
  detail: 'principal: negative',
});

describe('Class: QuarantineStreamWriter', () => {
  it('writes the header and one neutralised line per row, and counts the rows', async () => {
    // Prepare: a formula-looking raw cell is prefixed with a quote, a comma-bearing one quoted.
    const w = new QuarantineStreamWriter();
    w.add(row(3, '=2+5,x'));
    w.add(row(9, 'a,-1'));

    // Act
    const rows = await w.close();
    let out = '';
    for await (const c of w) out += String(c);

    // Assess
    expect(rows).toBe(2);
    expect(out).toBe(
      `line,part,codes,detail,raw\n3,p.csv,NEGATIVE,principal: negative,"'=2+5,x"\n9,p.csv,NEGATIVE,principal: negative,"a,-1"\n`,
    );
  });

  it('streams the same CSV for an S3 upload', async () => {
    const w = new QuarantineStreamWriter();
    w.add(row(3, '@x'));
    await w.close();
    let out = '';
    for await (const c of w) out += String(c);
    expect(out).toBe("line,part,codes,detail,raw\n3,p.csv,NEGATIVE,principal: negative,'@x\n");
  });

  it('asks the reader to wait while more than its high-water mark waits for the upload', async () => {
    const w = new QuarantineStreamWriter(false, 100_000);
    for (let i = 0; i < 2_000; i++) w.add(row(i, 'x'.repeat(100)));
    const wait = w.ready();
    expect(wait).not.toBeNull();
    let released = false;
    void wait!.then(() => {
      released = true;
    });
    const it = w[Symbol.asyncIterator]();
    let bytes = 0;
    while (!released) {
      const r = await it.next();
      bytes += r.value!.byteLength;
      await Promise.resolve();
    }
    // Released once the queue fell back under the mark, not before.
    expect(bytes).toBeGreaterThan(2_000 * 100 - 100_000 - 70_000);
    await w.close();
    for (let r = await it.next(); !r.done; r = await it.next()) bytes += r.value.byteLength;
    expect(bytes).toBeGreaterThan(2_000 * 140);
    expect(w.ready()).toBeNull();
  });

  it('fails the reader when the upload failed, instead of waiting for ever', async () => {
    const w = new QuarantineStreamWriter(false, 10);
    w.add(row(1, 'x'.repeat(70_000)));
    const wait = w.ready();
    w.abort(new Error('upload refused'));
    await expect(wait).resolves.toBeUndefined();
    expect(() => w.add(row(2, 'y'))).toThrow('upload refused');
  });
});
