import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from '../../infra/lib/constructs/audit-function.ts';
import { RiskAuditStack, type RiskAuditStackProps } from '../../infra/lib/risk-audit-stack.ts';

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** An app with cdk.json's feature flags and no asset bundling (the tests need no esbuild run). */
export function testApp(withNag = false): App {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'risk-audit-cdk-')),
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
  });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** Builds the stack with the given settings in a fresh app. */
export function buildStack(
  props: RiskAuditStackProps = {},
  withNag = false,
): { app: App; stack: RiskAuditStack } {
  const app = testApp(withNag);
  const stack = new RiskAuditStack(app, 'RiskAudit', {
    env: { account: '000000000000', region: 'ap-southeast-1' },
    ...props,
  });
  return { app, stack };
}

/** The stack's CloudFormation template. */
export function templateOf(props: RiskAuditStackProps = {}): Template {
  return Template.fromStack(buildStack(props).stack);
}

/** One violation from the validation report, flattened. */
export interface Finding {
  plugin: string;
  rule: string;
  severity: string;
  path: string;
}

/** Synthesizes with cdk-nag AwsSolutions and returns every unsuppressed finding (errors and warnings). */
export function nagFindings(props: RiskAuditStackProps = {}): { findings: Finding[]; error: unknown } {
  return nagFindingsOf(buildStack(props, true).app);
}

/** Synthesizes an app built with `withNag` and returns its unsuppressed findings and any synth error. */
export function nagFindingsOf(app: App): { findings: Finding[]; error: unknown } {
  let error: unknown;
  try {
    app.synth();
  } catch (e) {
    error = e;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports?: {
      pluginName?: string;
      summary?: { pluginName?: string };
      violations?: {
        ruleName: string;
        severity: string;
        violatingConstructs?: { constructPath?: string }[];
      }[];
    }[];
  };
  const findings: Finding[] = [];
  for (const p of report.pluginReports ?? []) {
    for (const v of p.violations ?? []) {
      for (const r of v.violatingConstructs ?? []) {
        findings.push({
          plugin: p.pluginName ?? p.summary?.pluginName ?? 'unknown',
          rule: v.ruleName,
          severity: v.severity,
          path: r.constructPath ?? '?',
        });
      }
    }
  }
  return { findings, error };
}
