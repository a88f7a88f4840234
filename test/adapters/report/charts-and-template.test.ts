import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CHART_SCALE,
  chartSpec,
  renderCharts,
  renderSvg,
  resolveChartFont,
  scopeSvgIds,
} from '../../../shared/adapters/report/charts.ts';
import { compileMjml, ReportTemplateError } from '../../../shared/adapters/report/mjml-report.ts';
import type { ChartData } from '../../../shared/domain/report/types.ts';

const PACKAGE_FONT = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

const BARS: ChartData = {
  kind: 'bars',
  id: 'dpd',
  title: 'Past-due outstanding',
  alt: 'Bar chart',
  unit: 'amount',
  bars: [
    { label: '1-30', value: 680_000_000, highlight: false },
    { label: '91-180', value: 190_000_000, highlight: true },
  ],
};

describe('Function: resolveChartFont', () => {
  it('takes an explicit font file when it exists', () => {
    expect(resolveChartFont(PACKAGE_FONT)).toBe(PACKAGE_FONT);
  });

  it('falls back to the packaged DejaVu Sans when the explicit file is missing', () => {
    expect(resolveChartFont('/nonexistent/font.ttf')).toBe(PACKAGE_FONT);
  });
});

describe('Function: chartSpec', () => {
  it('scales amounts to the axis unit and colours the highlighted bars', () => {
    const spec = chartSpec(BARS) as unknown as {
      data: { values: { label: string; value: number; highlight: string }[] };
      encoding: { y: { title: string } };
    };
    expect(spec.data.values).toEqual([
      { label: '1-30', value: 680, highlight: 'no' },
      { label: '91-180', value: 190, highlight: 'yes' },
    ]);
    expect(spec.encoding.y.title).toBe('outstanding, millions');
  });
});

/** A trend of `days` days ending 2026-11-25, the third day without a value (a failed night). */
function trend(days: number): ChartData {
  return {
    kind: 'trend',
    id: 'trend',
    title: 'NPL ratio',
    alt: 'Line chart',
    unit: 'share',
    points: Array.from({ length: days }, (_, i) => ({
      date: new Date(Date.UTC(2026, 10, 26 - days + i)).toISOString().slice(0, 10),
      value: i === 2 ? null : 0.015 + i * 0.0002,
      rating: i === 2 ? null : 'amber',
    })),
  };
}

/** The x-axis labels of a rendered chart, in order. */
function xLabels(svg: string): string[] {
  const axis = svg.slice(svg.indexOf('X-axis'));
  const labels = axis.slice(axis.indexOf('role-axis-label'), axis.indexOf('role-axis-domain'));
  return [...labels.matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1] ?? '');
}

describe('Function: chartSpec of a trend', () => {
  it('never repeats a date label, however few runs there are', async () => {
    // Before: two runs drew "24 Nov 24 Nov 24 Nov 24 Nov 25 Nov" (ticks every few hours).
    expect(xLabels(await renderSvg(chartSpec(trend(2))))).toEqual(['24 Nov', '25 Nov']);
    expect(xLabels(await renderSvg(chartSpec(trend(3))))).toEqual(['23 Nov', '24 Nov', '25 Nov']);
    for (const days of [7, 30]) {
      const labels = xLabels(await renderSvg(chartSpec(trend(days))));
      expect(new Set(labels).size).toBe(labels.length);
      expect(labels.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('breaks the line at a day without a value instead of joining its neighbours', async () => {
    const svg = await renderSvg(chartSpec(trend(7)));
    const line = svg.match(/aria-roledescription="line mark" d="([^"]+)"/)?.[1] ?? '';
    // One path with two runs: it moves (M) twice, once at the start and once after the gap.
    expect(line.match(/M/g)).toHaveLength(2);
  });
});

describe('Function: scopeSvgIds', () => {
  it('prefixes the ids an SVG defines and its references to them', () => {
    expect(scopeSvgIds('<clipPath id="clip1"></clipPath><g clip-path="url(#clip1)">', 'dpd-n')).toBe(
      '<clipPath id="dpd-n-clip1"></clipPath><g clip-path="url(#dpd-n-clip1)">',
    );
  });
});

describe('Function: renderCharts', () => {
  it('renders a PNG at twice the drawing size, with its cid and alt text', async () => {
    const [img] = await renderCharts([BARS], PACKAGE_FONT);
    expect(img?.cid).toBe('dpd.chart@risk-audit');
    expect(img?.alt).toBe('Bar chart');
    const png = Buffer.from(img?.png ?? new Uint8Array());
    // IHDR: width and height as big-endian integers at bytes 16 and 20
    expect(png.readUInt32BE(16)).toBe(Math.round((img?.width ?? 0) * CHART_SCALE));
    expect(png.readUInt32BE(20)).toBe(Math.round((img?.height ?? 0) * CHART_SCALE));
  });
});

describe('Function: compileMjml', () => {
  it('compiles valid MJML to HTML without indentation', async () => {
    const html = await compileMjml(
      '<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>',
    );
    expect(html).toContain('Hi');
    expect(html).not.toMatch(/\n[ \t]+/);
  });

  it('surfaces a template mistake as a ReportTemplateError', async () => {
    const bad =
      '<mjml><mj-body><mj-section><mj-text>text outside a column</mj-text></mj-section></mj-body></mjml>';
    await expect(compileMjml(bad)).rejects.toThrow(ReportTemplateError);
    await expect(compileMjml(bad)).rejects.toThrow(/mj-text/);
  });
});
