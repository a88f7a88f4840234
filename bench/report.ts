/**
 * Benchmark of the reports, from the audit of a 1,000,000-loan book (an audit is the same size
 * whatever the book; only the watchlist and the segment maps grow): the email (model, the trend
 * chart as PNG, MJML, text part, watchlist CSV, MIME) and the full report (every section, ten
 * charts as SVG at two widths, the whole watchlist, breaches and quarantined rows as tables). Run
 * alone with `npx tsx bench/report.ts`; `benchReport` is also called by bench/run.ts.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildFailureNotice, buildFullReport, buildReport } from '../shared/adapters/report/build-report.ts';
import {
  type AuditResult,
  CLASSIFICATIONS,
  DPD_BUCKETS,
  type SegmentShare,
} from '../shared/domain/audit-result.ts';
import { reportSources } from '../shared/domain/report/compliance-section.ts';
import type { RunTrendPoint } from '../shared/domain/report/trend.ts';
import type { BreachRow, ReportInput, WatchlistRow } from '../shared/domain/report/types.ts';

const FIXTURES = new URL('../test/fixtures/report/', import.meta.url);

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

/** Deterministic watchlist rows shaped like the engine's (masked refs, reasons, flags). */
function syntheticWatchlist(n: number): WatchlistRow[] {
  const flags = ['MULTI_LENDING', 'HIGH_DTI', 'THIN_FILE', 'YOUNG_BORROWER'];
  const regions = ['Zhejiang', 'Guangdong', 'Jiangsu', 'Shandong', 'Henan', 'Sichuan'];
  const industries = ['E-commerce retail', 'Catering', 'Logistics', 'Manufacturing', 'Agriculture'];
  return Array.from({ length: n }, (_, i) => ({
    loanRef: `L-****-${(i * 2654435761).toString(16).slice(-4).toUpperCase()}`,
    grade: ['C', 'D', 'E'][i % 3] ?? 'E',
    score: 480 + ((i * 37) % 200),
    pd: 0.05 + ((i * 13) % 300) / 1000,
    dpdBucket: DPD_BUCKETS[1 + (i % 4)] ?? '1-30',
    classification: CLASSIFICATIONS[1 + (i % 2)] ?? 'special_mention',
    outstanding: 10_000 + ((i * 7919) % 490_000),
    product: ['order_financing', 'credit_loan', 'consumer_credit'][i % 3] ?? 'credit_loan',
    region: regions[i % regions.length] ?? null,
    industry: industries[i % industries.length] ?? null,
    flags: flags.filter((_, k) => (i >> k) & 1),
    reasons: ['rolled 1-30 to 31-60', 'score below 550'].slice(0, 1 + (i % 2)),
  }));
}

/** The fixture audit with `industries` industry names and 34 regions (every province). */
function widenSegments(audit: AuditResult, industries: number): AuditResult {
  const wide = structuredClone(audit);
  const total = wide.portfolio.totalOutstanding;
  const spread = (names: string[]): Record<string, SegmentShare> => {
    const weights = names.map((_, i) => 1 / (i + 1));
    const sum = weights.reduce((a, b) => a + b, 0);
    return Object.fromEntries(
      names.map((name, i) => {
        const share = (weights[i] ?? 0) / sum;
        return [name, { count: Math.round(share * 1_000_000), outstanding: share * total, share }];
      }),
    );
  };
  wide.concentration.byIndustry = spread(
    Array.from({ length: industries }, (_, i) => `Industry group ${i + 1}`),
  );
  wide.concentration.byRegion = spread(Array.from({ length: 34 }, (_, i) => `Province ${i + 1}`));
  return wide;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
}

// Wall time, and the process's CPU time (user + system, all threads), which a busy shared machine
// disturbs less than the wall clock.
async function timeBuild(
  input: ReportInput,
  runs: number,
): Promise<{ medianMs: number; maxMs: number; cpuMs: number; emlBytes: number }> {
  const times: number[] = [];
  const cpu: number[] = [];
  let emlBytes = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const built = await buildReport(input);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    emlBytes = built.eml.byteLength;
  }
  return { medianMs: median(times), maxMs: Math.round(Math.max(...times)), cpuMs: median(cpu), emlBytes };
}

async function timeFull(
  input: ReportInput,
  runs: number,
): Promise<{ medianMs: number; cpuMs: number; htmlBytes: number }> {
  const times: number[] = [];
  const cpu: number[] = [];
  let htmlBytes = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const built = await buildFullReport(input);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    htmlBytes = Buffer.byteLength(built.html, 'utf8');
  }
  return { medianMs: median(times), cpuMs: median(cpu), htmlBytes };
}

/** Loans behind the breached rules, as the breach index gives them: `n` a rule. */
function syntheticBreaches(audit: AuditResult, n: number): BreachRow[] {
  return Object.entries(audit.compliance.rules)
    .filter(([, r]) => r.severity === 'breach' && r.loans > 0)
    .flatMap(([ruleCode, r]) =>
      Array.from({ length: Math.min(n, r.loans) }, (_, i) => ({
        ruleCode,
        loanRef: `L0…${String(i).padStart(4, '0')}`,
        borrowerRef: `b_${(0x1f2e3d4c + i * 977).toString(16).padStart(16, '0')}`,
        grade: ['B', 'C', 'D'][i % 3] ?? 'C',
        outstanding: 500_000 - i,
      })),
    );
}

/** Times render + compose of a typical and a worst-case report, and reports the .eml sizes. */
export async function benchReport(): Promise<Record<string, unknown>> {
  const audit = readFixture<AuditResult>('audit-2026-11-25.json');
  const base: ReportInput = {
    audit,
    previous: readFixture<AuditResult>('audit-2026-11-24.json'),
    trend: readFixture<RunTrendPoint[]>('trend.json'),
    sources: reportSources(audit),
    reportUrl:
      'https://risk-audit-bucket.s3.amazonaws.com/runs/2026-11-25/report.html?X-Amz-Signature=0f1e2d',
    from: 'risk-audit@example.com',
    to: ['cro@example.com'],
    watchlist: syntheticWatchlist(500),
  };
  const t0 = performance.now();
  const cold = await buildReport(base);
  const coldMs = Math.round(performance.now() - t0);
  const typical = await timeBuild(base, 7);
  const worst = await timeBuild(
    { ...base, audit: widenSegments(audit, 200), watchlist: syntheticWatchlist(5_000) },
    3,
  );
  const full = {
    typical: await timeFull({ ...base, breaches: syntheticBreaches(audit, 200) }, 5),
    worst: await timeFull(
      {
        ...base,
        audit: widenSegments(audit, 200),
        watchlist: syntheticWatchlist(5_000),
        breaches: syntheticBreaches(audit, 1_000),
      },
      3,
    ),
  };
  const f0 = performance.now();
  const notice = await buildFailureNotice({
    snapshotDate: '2026-11-25',
    reason: 'no tape found by the 05:30 cutoff',
    rerunHint: 'npx risk-audit run --date 2026-11-25',
    from: base.from,
    to: base.to,
  });
  const noticeMs = Math.round(performance.now() - f0);
  return {
    'report.coldMs (first build in the process: module warm-up, font load)': coldMs,
    'report.typical.medianMs (500-row watchlist)': typical.medianMs,
    'report.typical.maxMs': typical.maxMs,
    'report.typical.cpuMs (median, all threads)': typical.cpuMs,
    'report.typical.emlBytes': typical.emlBytes,
    'report.typical.charts': cold.images.length,
    'report.typical.chartPngBytes': cold.images.reduce((n, img) => n + img.png.byteLength, 0),
    'report.typical.htmlBytes': Buffer.byteLength(cold.html, 'utf8'),
    'report.worst.medianMs (5,000-row watchlist, 200 industries, 34 regions)': worst.medianMs,
    'report.worst.cpuMs': worst.cpuMs,
    'report.worst.emlBytes': worst.emlBytes,
    ...(full === null
      ? {}
      : {
          'fullReport.typical.medianMs (500-row watchlist, 200 loans a breached rule)': full.typical.medianMs,
          'fullReport.typical.cpuMs': full.typical.cpuMs,
          'fullReport.typical.htmlBytes': full.typical.htmlBytes,
          'fullReport.worst.medianMs (5,000-row watchlist, 1,000 loans a rule, 200 industries)':
            full.worst.medianMs,
          'fullReport.worst.htmlBytes': full.worst.htmlBytes,
        }),
    'failureNotice.ms': noticeMs,
    'failureNotice.emlBytes': notice.eml.byteLength,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchReport();
  for (const [k, v] of Object.entries(result)) console.log(`${k}: ${String(v)}`);
}
