import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RiskAuditStack } from '../lib/risk-audit-stack.ts';
import { settingsFromContext } from '../lib/settings.ts';

// Offline default: synth works with no AWS account; deploys use the CLI's account and region.
const account = process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000';
const region = process.env.CDK_DEFAULT_REGION ?? 'ap-southeast-1';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'RiskAudit';
new RiskAuditStack(app, 'RiskAudit', {
  stackName,
  env: { account, region },
  description: 'risk-audit: nightly audit of a loan book (tapes in S3, Step Functions, DynamoDB, SES)',
  ...settingsFromContext((key) => app.node.tryGetContext(key)),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
