import { createHash } from 'node:crypto';
import { type Attachment, simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildFailureNotice,
  buildFullReport,
  buildReport,
} from '../../../shared/adapters/report/build-report.ts';
import { inlineImagesAsDataUris } from '../../../shared/domain/report/inline-images.ts';
import { buildWatchlistCsv } from '../../../shared/domain/report/watchlist-csv.ts';
import { fixtureReportInput, HOSTILE_NAMES, hostileReportInput } from '../../fixtures/report/load.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A small RFC 4180 reader, enough to check each cell of the attachment on its own. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

function inlineImages(attachments: readonly Attachment[]): Attachment[] {
  return attachments.filter((a) => a.contentType === 'image/png');
}

describe('Function: buildReport', () => {
  let built: Awaited<ReturnType<typeof buildReport>>;
  let parsed: Awaited<ReturnType<typeof simpleParser>>;

  beforeAll(async () => {
    built = await buildReport(fixtureReportInput());
    parsed = await simpleParser(Buffer.from(built.eml), { keepCidLinks: true });
  });

  it('writes the verdict subject into the message headers', () => {
    expect(parsed.subject).toBe('[RED] Risk audit 2026-11-25 · NPL 1.82% (+0.05 pp) · 3 rules breached');
    expect(built.subject).toBe(parsed.subject);
    expect(parsed.headers.get('x-risk-audit-rating')).toBe('RED');
    expect(parsed.from?.text).toBe('risk-audit@example.com');
  });

  it('carries an HTML part and a plain-text part with the same headline facts', () => {
    expect(typeof parsed.html).toBe('string');
    const html = (parsed.html as string).replaceAll('<wbr>', '');
    const text = parsed.text ?? '';
    for (const fact of ['1.82%', '+0.05 pp', '¥402.31m', '+1.6%', 'COST_ABOVE_36', 'What to do first']) {
      expect(html).toContain(fact);
    }
    for (const fact of ['1.82%', '+0.05 pp', '¥402.31m', '+1.6%', 'COST_ABOVE_36', 'WHAT TO DO FIRST']) {
      expect(text).toContain(fact);
    }
  });

  it('attaches the trend chart as an inline PNG that the HTML references by cid, with alt text', () => {
    const html = parsed.html as string;
    const images = inlineImages(parsed.attachments);
    expect(images.map((a) => a.filename)).toEqual(['trend.png']);
    for (const img of images) {
      expect(img.contentDisposition).toBe('inline');
      expect(img.cid).toMatch(/\.chart@risk-audit$/);
      expect([...img.content.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      const tag = html.match(new RegExp(`<img[^>]*src="cid:${img.cid?.replace(/[.]/g, '\\.')}"[^>]*>`))?.[0];
      expect(tag).toBeDefined();
      expect(tag).toMatch(/alt="[^"]{20,}"/);
    }
  });

  it('gives the same numbers in its text part as in its HTML', () => {
    // Prepare: the figures a reader sees, from the HTML's visible text and from the text part
    const visible = (parsed.html as string)
      .replace(/<head>[\s\S]*?<\/head>/, '')
      .replaceAll('<wbr>', '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
    // The link is a button in the HTML; list numbers are not figures.
    const text = (parsed.text ?? '')
      .split('\n')
      .filter((l) => !l.startsWith('Full report: '))
      .map((l) => l.replace(/^\d+\. /, ''))
      .join('\n');
    const figures = (s: string) => new Set(s.match(/[−+±]?¥?\d[\d,]*(?:\.\d+)?(?: pp|%|bn|m|k)?/g) ?? []);

    // Act / Assess
    expect([...figures(text)].sort()).toEqual([...figures(visible)].sort());
    expect(figures(text).size).toBeGreaterThan(30);
  });

  it('keeps SVG and script out of the mail', () => {
    const html = parsed.html as string;
    expect(html).not.toMatch(/<svg|<script|javascript:/i);
    expect(parsed.attachments.some((a) => a.contentType.includes('svg'))).toBe(false);
  });

  it('attaches the watchlist as a CSV file', () => {
    const csv = parsed.attachments.find((a) => a.filename === 'watchlist.csv');
    expect(csv?.contentType).toBe('text/csv');
    expect(csv?.contentDisposition).toBe('attachment');
    expect(csv?.content.toString('utf8')).toBe(buildWatchlistCsv(fixtureReportInput().watchlist ?? []));
  });

  it('links the full report and stays under 1 MB', () => {
    const html = parsed.html as string;
    expect(html).toContain(
      'href="https://risk-audit-bucket.s3.amazonaws.com/runs/2026-11-25/report.html?X-Amz-Expires',
    );
    expect(built.eml.byteLength).toBeLessThan(1024 * 1024);
  });

  it("keeps the HTML under Gmail's 102 KB clipping size", () => {
    expect(Buffer.byteLength(built.html, 'utf8')).toBeLessThan(102 * 1024);
  });

  it('leaks no borrower id, income or age, even when a watchlist row carries them', async () => {
    // Prepare: a row object with fields a WatchlistRow must not have (as a careless caller might pass)
    const input = fixtureReportInput();
    const rows = (input.watchlist ?? []).map((r) => ({
      ...r,
      borrowerId: 'RAW-BORROWER-770012',
      annualIncome: 987654.32,
      borrowerAge: 19,
    }));

    // Act
    const leaky = await buildReport({ ...input, watchlist: rows });
    const p = await simpleParser(Buffer.from(leaky.eml), { keepCidLinks: true });

    // Assess
    const everything = [
      p.html as string,
      p.text ?? '',
      ...p.attachments.map((a) => a.content.toString('utf8')),
    ].join('\n');
    expect(everything).not.toContain('RAW-BORROWER-770012');
    expect(everything).not.toContain('987654');
    expect(everything).toContain('L-****-83A1');
  });

  it('makes a self-contained HTML file by swapping cid: for data: URIs', () => {
    const standalone = inlineImagesAsDataUris(built.html, built.images);
    expect(standalone).not.toContain('cid:');
    expect(standalone.match(/src="data:image\/png;base64,/g)).toHaveLength(1);
  });

  it('omits the attachment and the link when there is neither', async () => {
    const bare = await buildReport(fixtureReportInput({ watchlist: [], reportUrl: null }));
    const p = await simpleParser(Buffer.from(bare.eml), { keepCidLinks: true });
    expect(p.attachments.some((a) => a.filename === 'watchlist.csv')).toBe(false);
    expect(p.html as string).not.toContain('Open the full report');
    expect(p.text).not.toContain('Full report:');
  });

  it('refuses a link that is not http(s)', async () => {
    const evil = await buildReport(fixtureReportInput({ reportUrl: 'javascript:alert(1)', watchlist: [] }));
    expect(evil.html).not.toContain('javascript:');
    expect(evil.html).not.toContain('Open the full report');
  });
});

describe('Function: buildReport with a hostile tape', () => {
  let parsed: Awaited<ReturnType<typeof simpleParser>>;

  beforeAll(async () => {
    const built = await buildReport(hostileReportInput());
    parsed = await simpleParser(Buffer.from(built.eml), { keepCidLinks: true });
  });

  it('carries no markup from the tape into the HTML', () => {
    const html = parsed.html as string;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img[^>]*onerror/i);
  });

  it('neutralises formulas in every cell of the CSV attachment', () => {
    const csv = parsed.attachments.find((a) => a.filename === 'watchlist.csv');
    const rows = parseCsv(csv?.content.toString('utf8').replace(/^\uFEFF/, '') ?? '');
    const cells = rows.slice(1).flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(rows[1]?.[9]).toBe(`'${HOSTILE_NAMES.formula}`);
    expect(rows[1]?.[8]).toBe(`'${HOSTILE_NAMES.plus}`);
    expect(rows[2]?.[11]).toBe("'@SUM(A1:A2); -2+3");
  });
});

describe('Function: buildFailureNotice', () => {
  it('tells the reason and how to re-run the date, escaped', async () => {
    // Prepare
    const input = {
      snapshotDate: '2026-11-25',
      reason: 'no tape found under snapshots/2026-11-25/ by the 05:30 cutoff <b>late</b>',
      runId: 'run-2026-11-25-a1',
      stage: 'ingest',
      rerunHint: 'npx risk-audit run --date 2026-11-25',
      from: 'risk-audit@example.com',
      to: ['cro@example.com'],
      occurredAt: new Date('2026-11-25T21:31:00Z'),
    };

    // Act
    const notice = await buildFailureNotice(input);
    const parsed = await simpleParser(Buffer.from(notice.eml));

    // Assess
    expect(parsed.subject).toBe('[FAILED] Risk audit 2026-11-25 · no report today');
    expect(parsed.text).toContain(
      'Reason: no tape found under snapshots/2026-11-25/ by the 05:30 cutoff <b>late</b>',
    );
    expect(parsed.text).toContain('  npx risk-audit run --date 2026-11-25');
    expect(parsed.text).toContain('Run: run-2026-11-25-a1');
    expect(parsed.html as string).toContain('cutoff &lt;b&gt;late&lt;/b&gt;');
    expect(parsed.html as string).not.toContain('<b>late</b>');
    expect(parsed.attachments).toHaveLength(0);
  });
});

describe('Function: buildFullReport', () => {
  let page: string;

  beforeAll(async () => {
    page = (await buildFullReport(fixtureReportInput())).html;
  });

  it('is one page that fetches nothing: no external script, style, font, image or link', () => {
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/<link\b|<img\b|<iframe\b|@import|url\((?!#)|@font-face/i);
    expect(page).not.toMatch(/\b(?:src|href)="(?!#)/);
    expect(page.match(/<script>/g)).toHaveLength(1);
  });

  it("lets only its own inline script run: the policy's hash is the script's", () => {
    const script = page.match(/<script>([\s\S]*?)<\/script>/)?.[1] ?? '';
    const hash = `sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}`;
    expect(script.length).toBeGreaterThan(500);
    expect(page).toContain(`script-src '${hash}'`);
    expect(page).toContain("default-src 'none'");
  });

  it('marks the tables, their sortable headers and their filter boxes for the page script and tests', () => {
    for (const name of ['watchlist', 'findings', 'rules', 'industries', 'trend']) {
      expect(page).toContain(`<table class="data" data-table="${name}" aria-labelledby="t-${name}">`);
    }
    // The trend table has 30 rows: it gets a filter box; a figure sorts by its value.
    expect(page).toContain('data-filter="trend"');
    expect(page).toMatch(/<th scope="col" class="n" data-sort="number">NPL<\/th>/);
    expect(page).toContain('<td class="n" data-v="286000">¥286.0k</td>');
  });

  it('draws every chart as inline SVG, for a phone and a wide screen, each with ids of its own', () => {
    // 6 trend charts, DPD, roll rates, industries, maturity: each twice
    expect(page.match(/<svg /g)).toHaveLength(20);
    const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, ref] of page.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref);
    expect(page.match(/<figure role="img" aria-label="[^"]{20,}">/g)).toHaveLength(10);
  });
});

describe('Function: buildFullReport with a hostile tape', () => {
  it('escapes markup from tape names in its tables and charts', async () => {
    const page = (await buildFullReport(hostileReportInput())).html;
    const body = page.slice(0, page.lastIndexOf('<script>'));
    expect(body).not.toMatch(/<script/i);
    expect(body).not.toMatch(/<img/i);
    expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Retail');
    expect(body).toContain('&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;');
    expect(body).toContain('&#61;HYPERLINK(');
  });
});
