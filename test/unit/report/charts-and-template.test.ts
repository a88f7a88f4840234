import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CHART_SCALE,
  chartSpec,
  renderCharts,
  resolveChartFont,
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
