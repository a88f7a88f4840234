import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/lib/constructs/audit-function.ts';

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

/** Runs infra/bin/app.ts the way the CDK CLI does (context and outdir through the environment). */
function runApp(context: Record<string, unknown>): { status: number | null; stderr: string; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'risk-audit-app-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'infra/bin/app.ts')], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      // As the CLI does: cdk.json's context, then -c values; bundling skipped to keep the test fast.
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] }),
    },
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

describe('App: infra/bin/app.ts', () => {
  it('is the app cdk.json runs', () => {
    expect(cdkJson.app).toBe('npx tsx infra/bin/app.ts');
  });

  it('synthesizes the stack from context values, cdk-nag clean', () => {
    const { status, stderr, outdir } = runApp({
      recipients: 'a@bank.example,b@bank.example',
      mapMaxConcurrency: '7',
      mergeMemoryMb: '10240',
    });
    expect(stderr).not.toContain('Error');
    expect(status).toBe(0);
    const template = readFileSync(join(outdir, 'RiskAudit.template.json'), 'utf8');
    expect(template).toContain('\\"MaxConcurrency\\":7');
    expect(template).toContain('a@bank.example,b@bank.example');
    const functions = Object.values(
      (
        JSON.parse(template) as {
          Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
        }
      ).Resources,
    ).filter((r) => r.Type === 'AWS::Lambda::Function');
    const mergeAudit = functions.filter((f) =>
      /merges the shards' partials/.test(String(f.Properties.Description)),
    );
    expect(mergeAudit.map((f) => f.Properties.MemorySize)).toEqual([10_240]);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    expect(report.pluginReports).toEqual([]);
  });

  it('refuses a bad -c value with one sentence and exit code 1, no stack trace', () => {
    const { status, stderr } = runApp({ timezone: 'Mars/Base' });
    expect(status).toBe(1);
    expect(stderr).toBe(
      'risk-audit: invalid timezone: expected an IANA time zone such as \'Asia/Shanghai\', got "Mars/Base"\n',
    );
  });
});
