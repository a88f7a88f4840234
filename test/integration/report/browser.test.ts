import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFullReport, buildReport } from '../../../shared/adapters/report/build-report.ts';
import { TABLE_PAGE_ROWS } from '../../../shared/adapters/report/full-report-html.ts';
import { inlineImagesAsDataUris } from '../../../shared/domain/report/inline-images.ts';
import type { ReportInput } from '../../../shared/domain/report/types.ts';
import {
  fixtureQuarantine,
  fixtureReportInput,
  fullReportInput,
  HOSTILE_NAMES,
  hostileReportInput,
} from '../../fixtures/report/load.ts';

/**
 * The email and the full report in real Chromium (Debian's), opened from disk as a reader would:
 * heights and widths at a phone's 375 px and a desktop's 1280 px, sorting and filtering, printing,
 * and that nothing asks the network for anything. Screenshots are kept in test/artifacts/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../artifacts/', import.meta.url);
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The email at a phone's width: at most about four screens. */
const EMAIL_MAX_HEIGHT = 4_000;

// The page functions run in Chromium; the project's tsconfig has no DOM lib (and adding it would
// change every file's globals), so this module declares the little of the DOM they touch.
interface DomElement {
  tagName: string;
  textContent: string;
  hidden: boolean;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { right: number; width: number };
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  cells: ArrayLike<DomElement>;
}
interface DomImage extends DomElement {
  alt: string;
  complete: boolean;
  naturalWidth: number;
}
declare const document: {
  documentElement: { scrollWidth: number; scrollHeight: number; clientWidth: number };
  body: DomElement;
  images: ArrayLike<DomImage>;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
};
declare const window: { dispatchEvent(e: unknown): boolean };
declare const Event: new (type: string) => unknown;

interface Opened {
  page: Page;
  /** Every URL the page asked for (the page itself included). */
  requests: string[];
  /** Console errors and uncaught exceptions (a Content-Security-Policy refusal is one). */
  errors: string[];
  dialogs: string[];
}

interface PageFacts {
  scrollWidth: number;
  scrollHeight: number;
  clientWidth: number;
  widestElement: { tag: string; right: number } | null;
  images: { alt: string; complete: boolean; naturalWidth: number; width: number }[];
  scripts: number;
}

let context: BrowserContext;
let dir: string;

/** Writes an HTML file to disk and opens it from there, recording requests, errors and dialogs. */
async function open(name: string, html: string, width: number): Promise<Opened> {
  const path = join(dir, name);
  await writeFile(path, html);
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  return { page, requests, errors, dialogs };
}

function collectFacts(page: Page): Promise<PageFacts> {
  return page.evaluate(() => {
    const root = document.documentElement;
    let widest: { tag: string; right: number } | null = null;
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const right = el.getBoundingClientRect().right;
      if (right > root.clientWidth + 0.5 && (widest === null || right > widest.right)) {
        widest = { tag: el.tagName.toLowerCase(), right };
      }
    }
    return {
      scrollWidth: root.scrollWidth,
      scrollHeight: root.scrollHeight,
      clientWidth: root.clientWidth,
      widestElement: widest,
      images: Array.from(document.images).map((img) => ({
        alt: img.alt,
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        width: img.getBoundingClientRect().width,
      })),
      scripts: document.body.querySelectorAll('script').length,
    };
  });
}

/** Only the file itself and data: URIs: nothing from the network. */
function offline(requests: readonly string[]): string[] {
  return requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
}

async function emailHtml(input: ReportInput): Promise<string> {
  const built = await buildReport(input);
  return inlineImagesAsDataUris(built.html, built.images);
}

/** The texts of one column of a table's visible rows, and their sort values. */
function visibleColumn(
  page: Page,
  table: string,
  column: number,
): Promise<{ text: string; value: string | null }[]> {
  return page.evaluate(
    ([name, i]) =>
      Array.from(document.querySelectorAll(`table[data-table="${name}"] tbody tr`))
        .filter((r) => !r.hidden)
        .map((r) => {
          const cell = r.cells[i as number]!;
          return { text: cell.textContent, value: cell.getAttribute('data-v') };
        }),
    [table, column] as const,
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'risk-audit-browser-'));
  // A fresh profile folder of its own (Playwright passes it to Chromium as --user-data-dir).
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    args: FLAGS,
    deviceScaleFactor: 1,
  });
  // Anything leaving the machine is refused (and recorded by the request listener first).
  await context.route(/^(https?|wss?|ftp):/, (route) => route.abort());
});

afterAll(async () => {
  await context?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('The email in a browser', () => {
  it(`reads in about four screens at 375 px (at most ${EMAIL_MAX_HEIGHT} px), nothing sideways`, async () => {
    // Prepare
    const { page, requests, errors } = await open('email.html', await emailHtml(fixtureReportInput()), 375);

    // Act
    const facts = await collectFacts(page);
    await page.screenshot({ path: new URL('email-375.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();

    // Assess
    expect(facts.scrollHeight).toBeLessThanOrEqual(EMAIL_MAX_HEIGHT);
    expect(facts.widestElement).toBeNull();
    expect(facts.scrollWidth).toBe(375);
    expect(facts.images).toHaveLength(1);
    expect(facts.images[0]?.complete).toBe(true);
    expect(facts.images[0]?.naturalWidth).toBeGreaterThan(0);
    expect(facts.images[0]?.alt.length).toBeGreaterThan(20);
    expect(offline(requests)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('fits 800 px and links the full report', async () => {
    const { page, requests } = await open('email-800.html', await emailHtml(fixtureReportInput()), 800);
    const facts = await collectFacts(page);
    const link = await page.getAttribute('a:has-text("Open the full report")', 'href');
    await page.screenshot({ path: new URL('email-800.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();
    expect(facts.widestElement).toBeNull();
    expect(link).toContain('/runs/2026-11-25/report.html');
    expect(offline(requests)).toEqual([]);
  });

  it('keeps a hostile tape inert: no script, no dialog, no request', async () => {
    const { page, requests, dialogs } = await open(
      'email-hostile.html',
      await emailHtml(hostileReportInput()),
      375,
    );
    const facts = await collectFacts(page);
    await page.close();
    expect(facts.scripts).toBe(0);
    expect(dialogs).toEqual([]);
    expect(offline(requests)).toEqual([]);
    expect(facts.widestElement).toBeNull();
  });
});

describe('The full report in a browser', () => {
  let html: string;

  beforeAll(async () => {
    html = (await buildFullReport(fullReportInput())).html;
  });

  it('opens from disk with no request beyond file: and data: and no console error', async () => {
    const { page, requests, errors } = await open('report.html', html, 1280);
    await page.close();
    expect(requests.length).toBeGreaterThan(0);
    expect(offline(requests)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('uses the width at 1280 px: tables and charts wider than the email column', async () => {
    const { page } = await open('report-1280.html', html, 1280);
    const widths = await page.evaluate(() => ({
      watchlist: document.querySelector('table[data-table="watchlist"]')!.getBoundingClientRect().width,
      charts: Array.from(document.querySelectorAll('#trend figure')).map(
        (f) => f.getBoundingClientRect().width,
      ),
    }));
    const facts = await collectFacts(page);
    await page.screenshot({ path: new URL('report-1280.png', ARTIFACTS).pathname });
    await page.close();
    expect(widths.watchlist).toBeGreaterThan(1_100);
    // Two charts a row, each wider than the email's 480 px chart
    expect(widths.charts).toHaveLength(6);
    for (const w of widths.charts) expect(w).toBeGreaterThan(500);
    expect(facts.widestElement).toBeNull();
  });

  it('scrolls nothing sideways at 375 px: tables read as cards', async () => {
    const { page, errors } = await open('report-375.html', html, 375);
    const facts = await collectFacts(page);
    const label = await page.evaluate(() => {
      const cell = document.querySelector('table[data-table="watchlist"] tbody td:nth-child(8)');
      return cell === null
        ? ''
        : (
            globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }
          ).getComputedStyle(cell, '::before').content;
    });
    await page.screenshot({ path: new URL('report-375.png', ARTIFACTS).pathname });
    await page.close();
    expect(facts.widestElement).toBeNull();
    expect(facts.scrollWidth).toBe(375);
    expect(label).toBe('"Outstanding"');
    expect(errors).toEqual([]);
  });

  it('sorts a table by a figure when its header is clicked, ascending then descending', async () => {
    // Prepare
    const { page, errors } = await open('report-sort.html', html, 1280);
    const header = page.locator('table[data-table="watchlist"] th[data-sort]', { hasText: 'Outstanding' });

    // Act
    await header.click();
    const ascending = await visibleColumn(page, 'watchlist', 7);
    await header.click();
    const descending = await visibleColumn(page, 'watchlist', 7);
    const sortState = await header.getAttribute('aria-sort');
    await page.close();

    // Assess: the first page of rows, by the amounts behind the cells' text (¥10.0k < ¥9.9m)
    const amounts = (rows: { value: string | null }[]) => rows.map((r) => Number(r.value));
    expect(ascending).toHaveLength(TABLE_PAGE_ROWS);
    expect(amounts(ascending)).toEqual([...amounts(ascending)].sort((a, b) => a - b));
    expect(amounts(descending)).toEqual([...amounts(descending)].sort((a, b) => b - a));
    // 10,000 + (i x 7,919 mod 490,000) over 600 rows: the smallest is i = 0, the largest below 500,000
    expect(amounts(ascending)[0]).toBe(10_000);
    expect(amounts(descending)[0]).toBeLessThan(500_000);
    expect(amounts(descending)[0]).toBeGreaterThan(amounts(ascending)[TABLE_PAGE_ROWS - 1]!);
    expect(sortState).toBe('descending');
    expect(errors).toEqual([]);
  });

  it('sorts text columns by their text and keeps a figure without a value last', async () => {
    const { page } = await open('report-sort-text.html', html, 1280);
    await page.locator('table[data-table="industries"] th[data-sort]', { hasText: 'Name' }).click();
    const names = (await visibleColumn(page, 'industries', 0)).map((r) => r.text);
    await page.close();
    expect(names).toEqual([...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    expect(names).toHaveLength(11);
  });

  it('filters a table by the text typed in its box, and shows every row again when cleared', async () => {
    // Prepare
    const { page, errors } = await open('report-filter.html', html, 1280);
    const box = page.locator('input[data-filter="watchlist"]');

    // Act: 600 rows, one in five in E-commerce retail
    await box.fill('e-commerce');
    const industries = (await visibleColumn(page, 'watchlist', 10)).map((r) => r.text);
    const count = await page.textContent('[data-count="watchlist"]');
    await box.fill('');
    const all = await visibleColumn(page, 'watchlist', 9);
    await page.locator('button[data-more="watchlist"]').click();
    const every = await visibleColumn(page, 'watchlist', 9);
    await page.close();

    // Assess
    expect(industries).toHaveLength(TABLE_PAGE_ROWS);
    expect(new Set(industries)).toEqual(new Set(['E-commerce retail']));
    expect(count).toBe(`120 of 600 rows match; the first ${TABLE_PAGE_ROWS} shown`);
    expect(all).toHaveLength(TABLE_PAGE_ROWS);
    expect(every).toHaveLength(600);
    expect(errors).toEqual([]);
  });

  it('filters the loans behind the breached rules by rule', async () => {
    const { page } = await open('report-breaches.html', html, 1280);
    await page.locator('input[data-filter="breaches"]').fill('student_consumer_loan');
    const rules = (await visibleColumn(page, 'breaches', 0)).map((r) => r.text);
    await page.close();
    expect(rules).toHaveLength(54);
    expect(new Set(rules)).toEqual(new Set(['STUDENT_CONSUMER_LOAN']));
  });

  it('prints to PDF with every row of every table', async () => {
    const { page } = await open('report-print.html', html, 1280);
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    const rows = await visibleColumn(page, 'watchlist', 0);
    await page.emulateMedia({ media: 'print' });
    const navHidden = await page.evaluate(
      () =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(
          document.querySelector('nav'),
        ).display,
    );
    const pdf = await page.pdf({ format: 'A4', path: new URL('report.pdf', ARTIFACTS).pathname });
    await page.close();
    expect(rows).toHaveLength(600);
    expect(navHidden).toBe('none');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length).toBeGreaterThan(10);
  });

  it('keeps a hostile tape inert: its names are text, the only script is the page own', async () => {
    const input = hostileReportInput();
    const hostile = (
      await buildFullReport({
        ...input,
        quarantine: fixtureQuarantine(
          () => `2026-11-25,L0…0001,b_00,${HOSTILE_NAMES.script},${HOSTILE_NAMES.img}`,
        ),
      })
    ).html;
    const { page, requests, dialogs, errors } = await open('report-hostile.html', hostile, 375);
    const facts = await collectFacts(page);
    const text = await page.evaluate(() => document.body.textContent);
    await page.screenshot({ path: new URL('report-hostile-375.png', ARTIFACTS).pathname });
    await page.close();
    expect(facts.scripts).toBe(1);
    expect(dialogs).toEqual([]);
    expect(offline(requests)).toEqual([]);
    expect(errors).toEqual([]);
    expect(facts.widestElement).toBeNull();
    expect(text).toContain(HOSTILE_NAMES.script);
    expect(text).toContain(HOSTILE_NAMES.img);
  });
});
