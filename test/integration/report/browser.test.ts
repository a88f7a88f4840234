import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, inlineImagesAsDataUris } from '../../../shared/adapters/report/index.ts';
import type { ReportInput } from '../../../shared/domain/report/types.ts';
import { fixtureReportInput, hostileReportInput } from '../../fixtures/report/load.ts';

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

// The page functions run in Chromium; the project's tsconfig has no DOM lib (and adding it would
// change every file's globals), so this module declares the little of the DOM they touch.
interface DomElement {
  tagName: string;
  getBoundingClientRect(): { right: number; width: number };
}
interface DomImage extends DomElement {
  alt: string;
  complete: boolean;
  naturalWidth: number;
}
declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  body: { querySelectorAll(selector: string): ArrayLike<DomElement>; textContent: string };
  images: ArrayLike<DomImage>;
  querySelectorAll(selector: string): { length: number };
};

interface PageFacts {
  scrollWidth: number;
  clientWidth: number;
  widestElement: { tag: string; right: number } | null;
  images: { alt: string; complete: boolean; naturalWidth: number; width: number }[];
  scripts: number;
}

/** Opens the report HTML (cid: images swapped for data: URIs) at a width, with the network shut. */
async function openReport(
  browser: Browser,
  input: ReportInput,
  width: number,
): Promise<{ page: Page; requests: string[]; dialogs: string[] }> {
  const built = await buildReport(input);
  const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await page.setContent(inlineImagesAsDataUris(built.html, built.images), { waitUntil: 'load' });
  return { page, requests, dialogs };
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
      clientWidth: root.clientWidth,
      widestElement: widest,
      images: Array.from(document.images).map((img) => ({
        alt: img.alt,
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        width: img.getBoundingClientRect().width,
      })),
      scripts: document.querySelectorAll('script').length,
    };
  });
}

describe('Function: buildReport in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const width of [375, 800]) {
    it(`fits ${width} px without horizontal overflow and loads every chart`, async () => {
      // Prepare
      const { page, requests } = await openReport(browser, fixtureReportInput(), width);

      // Act
      const facts = await collectFacts(page);
      await page.screenshot({ path: new URL(`report-${width}.png`, ARTIFACTS).pathname, fullPage: true });
      await page.screenshot({ path: new URL(`report-${width}-first-screen.png`, ARTIFACTS).pathname });
      await page.close();

      // Assess
      expect(facts.widestElement).toBeNull();
      expect(facts.scrollWidth).toBe(width);
      expect(facts.images).toHaveLength(5);
      for (const img of facts.images) {
        expect(img.complete).toBe(true);
        expect(img.naturalWidth).toBeGreaterThan(0);
        expect(img.width).toBeLessThanOrEqual(width);
        expect(img.alt.length).toBeGreaterThan(20);
      }
      expect(requests).toEqual([]);
    });
  }

  it('keeps a hostile tape inert: no script, no dialog, no request, no overflow', async () => {
    const { page, requests, dialogs } = await openReport(browser, hostileReportInput(), 375);
    const facts = await collectFacts(page);
    const text = await page.evaluate(() => document.body.textContent);
    await page.screenshot({ path: new URL('report-hostile-375.png', ARTIFACTS).pathname, fullPage: true });
    await page.close();

    expect(facts.scripts).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([]);
    expect(facts.widestElement).toBeNull();
    expect(text).toContain('<script>alert("x")</script>Retail');
    expect(text).toContain('"><img src=x onerror=alert(1)>');
  });
});
