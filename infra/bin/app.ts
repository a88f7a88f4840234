import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RiskAuditStack } from '../lib/risk-audit-stack.ts';
import { SettingsError, settingsFromContext } from '../lib/settings.ts';

// Offline default: synth works with no AWS account; deploys use the CLI's account and region
// (ap-southeast-1 has SES, EventBridge Scheduler and Step Functions Distributed Map).
const account = process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000';
const region = process.env.CDK_DEFAULT_REGION ?? 'ap-southeast-1';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'RiskAudit';
try {
  new RiskAuditStack(app, 'RiskAudit', {
    stackName,
    env: { account, region },
    description: 'risk-audit: nightly audit of a loan book (tapes in S3, Step Functions, DynamoDB, SES)',
    ...settingsFromContext((key) => app.node.tryGetContext(key)),
  });
} catch (error) {
  // A bad -c value is the user's to fix: one sentence, no stack trace.
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`risk-audit: ${error.message}\n`);
  process.exit(1);
}
// cdk-nag AwsSolutions on every synth; any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
