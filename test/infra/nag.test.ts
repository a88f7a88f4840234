import { describe, expect, it } from 'vitest';
import { allowedWildcardFindings } from '../../infra/lib/nag.ts';

const bucketArn = { 'Fn::GetAtt': ['DataBucketE6B0FAA8', 'Arn'] };
const objects = (suffix: string) => ({ 'Fn::Join': ['', [bucketArn, suffix]] });

describe('Function: allowedWildcardFindings', () => {
  it('acknowledges object reads and writes scoped to the tapes or runs prefix', () => {
    const findings = allowedWildcardFindings({
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('/snapshots/*') },
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: objects('/runs/*'),
        },
      ],
    });
    expect(findings.map((f) => f.id)).toEqual([
      'AwsSolutions-IAM5[Resource::<DataBucketE6B0FAA8.Arn>/snapshots/*]',
      'AwsSolutions-IAM5[Resource::<DataBucketE6B0FAA8.Arn>/runs/*]',
    ]);
    expect(findings[0]?.reason).toContain('one key prefix');
  });

  it('never acknowledges a statement with a wildcard action', () => {
    const findings = allowedWildcardFindings({
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject*', 's3:List*'], Resource: objects('/snapshots/*') },
      ],
    });
    expect(findings).toEqual([]);
  });

  it('refuses a whole-bucket wildcard, an unlisted prefix, and an action outside the allowance', () => {
    const findings = allowedWildcardFindings({
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('/*') },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('/secrets/*') },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: objects('/snapshots/*') },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' },
      ],
    });
    expect(findings).toEqual([]);
  });

  it('acknowledges X-Ray on `*` and ignores Deny statements', () => {
    const findings = allowedWildcardFindings({
      Statement: [
        { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        { Effect: 'Deny', Action: 's3:*', Resource: '*' },
      ],
    });
    expect(findings.map((f) => f.id)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
  });

  it('acknowledges Distributed Map child-execution ARNs with literal or token partitions', () => {
    const execution = (partition: unknown) => ({
      'Fn::Join': ['', ['arn:', partition, ':states:ap-southeast-1:000000000000:execution:sm:*']],
    });
    const findings = allowedWildcardFindings({
      Statement: [
        {
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:StopExecution'],
          Resource: execution('aws'),
        },
        {
          Effect: 'Allow',
          Action: 'states:DescribeExecution',
          Resource: execution({ Ref: 'AWS::Partition' }),
        },
      ],
    });
    expect(findings.map((f) => f.id)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:states:ap-southeast-1:000000000000:execution:sm:*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:ap-southeast-1:000000000000:execution:sm:*]',
    ]);
  });
});
