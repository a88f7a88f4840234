import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TRANSIENT_LAMBDA_ERRORS } from '../../infra/lib/constructs/audit-workflow.ts';
import type { RiskAuditStack } from '../../infra/lib/risk-audit-stack.ts';
import { IDEMPOTENCY_TABLE, RISK_TABLE } from '../../shared/schema/tables.ts';
import { buildStack, nagFindings, nagFindingsOf, templateOf } from './stack-fixture.ts';
import {
  actionsOf,
  allStates,
  logicalIdsOf,
  policyStatements,
  referencesLogicalId,
  resources,
  stateMachineDefinition,
  statementsOfRole,
} from './template-helpers.ts';

let template: Template;
beforeAll(() => {
  template = templateOf();
});

describe('Class: RiskAuditStack', () => {
  describe('schedule', () => {
    it('runs the audit at 06:00 Asia/Shanghai by default, passing the scheduled time', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 6 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { Ref: Match.stringLikeRegexp('^WorkflowStateMachine') },
          Input: JSON.stringify({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
        },
      });
    });

    it('takes the cron, time zone and on/off switch from the settings', () => {
      const t = templateOf({
        scheduleCron: 'cron(30 7 ? * MON-FRI *)',
        timezone: 'Europe/London',
        scheduleEnabled: false,
      });
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(30 7 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'Europe/London',
        State: 'DISABLED',
      });
    });

    it('has no tape-arrival rule unless asked, and one filtered on the snapshots/ prefix when asked', () => {
      // The one rule by default is the execution status-change rule (see 'every ending is recorded').
      template.resourceCountIs('AWS::Events::Rule', 1);
      template.resourcePropertiesCountIs(
        'AWS::Events::Rule',
        { EventPattern: Match.objectLike({ source: ['aws.s3'] }) },
        0,
      );
      const t = templateOf({ s3Trigger: true });
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { object: { key: [{ prefix: 'snapshots/' }] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { Ref: Match.stringLikeRegexp('^WorkflowStateMachine') },
            InputTransformer: {
              InputPathsMap: { 'detail-object-key': '$.detail.object.key' },
              InputTemplate: '{"trigger":"s3-arrival","objectKey":<detail-object-key>}',
            },
          }),
        ],
      });
      t.hasResourceProperties('AWS::S3::Bucket', {
        NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      });
    });

    it('starts on a marker object when a suffix is set', () => {
      const t = templateOf({ s3Trigger: true, s3TriggerSuffix: '_SUCCESS' });
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { detail: { object: { key: [{ wildcard: 'snapshots/*_SUCCESS' }] } } },
      });
    });
  });

  describe('storage', () => {
    it('builds both tables from the shared definitions: keys, indexes, TTL, on demand, PITR, encryption', () => {
      for (const def of [RISK_TABLE, IDEMPOTENCY_TABLE]) {
        template.hasResourceProperties('AWS::DynamoDB::Table', {
          KeySchema: [
            { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
            ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
        });
      }
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: RISK_TABLE.globalSecondaryIndexes.map((i) =>
          Match.objectLike({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: i.sortKey?.name, KeyType: 'RANGE' },
            ],
          }),
        ),
      });
      template.resourceCountIs('AWS::DynamoDB::Table', 2);
    });

    it('encrypts the data bucket, blocks public access, keeps versions and logs access', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'data-bucket/' }),
      });
    });

    it('denies every request to either bucket that does not use TLS', () => {
      const policies = Object.values(resources(template)).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
      expect(policies).toHaveLength(2);
      for (const p of policies) {
        const statements = (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
          .Statement;
        expect(statements).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });

    it('expires run outputs after the retention days and tapes after the tape retention', () => {
      const t = templateOf({ retentionDays: 90, tapeRetentionDays: 365 });
      t.hasResourceProperties('AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Id: 'tapes',
              Prefix: 'snapshots/',
              ExpirationInDays: 365,
              Transitions: [
                { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
                { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
              ],
            }),
            Match.objectLike({ Id: 'runs', Prefix: 'runs/', ExpirationInDays: 90, Status: 'Enabled' }),
            Match.objectLike({ Id: 'old-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
          ]),
        },
      });
    });

    it('skips storage-class transitions when the retention is too short for them', () => {
      const t = templateOf({ retentionDays: 30, tapeRetentionDays: 45 });
      t.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Id: 'tapes', ExpirationInDays: 45, Transitions: Match.absent() }),
            Match.objectLike({ Id: 'runs', ExpirationInDays: 30, Transitions: Match.absent() }),
          ]),
        },
      });
    });
  });

  describe('functions', () => {
    it('runs every function on the newest Node.js runtime, arm64, traced, JSON logs', () => {
      const functions = Object.values(resources(template)).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(functions).toHaveLength(10);
      for (const f of functions) {
        // The two functions that load the native chart renderer run on x86_64 (installed for linux-x64 only).
        const arch = /emails the audit report|failure notice/.test(String(f.Properties.Description))
          ? 'x86_64'
          : 'arm64';
        expect(f.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: [arch],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON' },
        });
        expect(f.Properties.Environment).toMatchObject({
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'risk-audit',
            POWERTOOLS_METRICS_NAMESPACE: 'RiskAudit',
            NODE_OPTIONS: '--enable-source-maps',
            SECRET_SOURCE: 'secrets-manager',
          },
        });
      }
    });

    it('gives the workflow functions the run settings, the shipped policies and a lease longer than a run', () => {
      const workflowFunctions = Object.values(resources(template)).filter(
        (r) =>
          r.Type === 'AWS::Lambda::Function' &&
          !/on demand|report link|bounces, complaints/.test(String(r.Properties.Description)),
      );
      expect(workflowFunctions).toHaveLength(7);
      for (const f of workflowFunctions) {
        expect(f.Properties.Environment).toMatchObject({
          Variables: {
            TIMEZONE: 'Asia/Shanghai',
            TAPE_CUTOFF: '05:30',
            REPORT_RECIPIENTS: 'risk-team@example.com',
            REPORT_SENDER: 'risk-audit@example.com',
            DETAIL_RETENTION_DAYS: '400',
            WATCHLIST_LIMIT: '5000',
            POLICY_DIR: '/var/task/policies',
            LEASE_MINUTES: '240',
          },
        });
        expect((f.Properties.Environment as { Variables: object }).Variables).not.toHaveProperty(
          'SHARD_BYTES',
        );
      }
      const states = allStates(stateMachineDefinition(template));
      expect(stateMachineTimeout(template)).toBe(240 * 60);
      expect(states.Prepare).toBeDefined();
    });

    it("ships the lender's mapping and policy with the functions that read tapes, score and rate", () => {
      const t = templateOf({
        mappingFile: 'examples/prosper-mapping.yaml',
        policyFile: 'policies/risk-appetite.yaml',
      });
      const variables = (description: RegExp) => {
        const found = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) =>
          description.test(String(f.Properties.Description)),
        );
        expect(found).toHaveLength(1);
        return (found[0]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      };
      for (const d of [
        /plans the shards/,
        /one shard/,
        /merges the shards' partials/,
        /one loan-id bucket/,
        /combines the buckets' results/,
      ]) {
        expect(variables(d)).toMatchObject({
          MAPPING_FILE: '/var/task/config/mapping.yaml',
          POLICY_FILE: '/var/task/config/policy.yaml',
        });
      }
      for (const d of [/renders/, /failure notice/]) {
        expect(variables(d)).not.toHaveProperty('MAPPING_FILE');
        expect(variables(d)).not.toHaveProperty('POLICY_FILE');
      }
      // Without the settings, no function is told of such files.
      for (const f of Object.values(template.findResources('AWS::Lambda::Function'))) {
        const v = (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(v).not.toHaveProperty('MAPPING_FILE');
        expect(v).not.toHaveProperty('POLICY_FILE');
      }
    });

    it('links reports through a public function URL that can read report pages and nothing else', () => {
      const fns = Object.entries(template.findResources('AWS::Lambda::Function'));
      const [linkId, link] = fns.find(([, f]) => /report link/.test(String(f.Properties.Description)))!;
      const linkVars = (link.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(linkVars.REPORT_LINK_KEY_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^ReportLinkKey/) });
      expect(linkVars.TIMEZONE).toBe('Asia/Shanghai');
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'NONE',
        TargetFunctionArn: { 'Fn::GetAtt': [linkId, 'Arn'] },
      });
      // Its role's only data permission: GetObject on runs/*/report.html.
      const roleId = (link.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      const s3Statements = statementsOfRole(template, roleId).filter((st) =>
        actionsOf(st).some((a) => a.startsWith('s3:')),
      );
      expect(s3Statements).toHaveLength(1);
      expect(actionsOf(s3Statements[0]!)).toEqual(['s3:GetObject']);
      expect(JSON.stringify(s3Statements[0]!.Resource)).toContain('/runs/*/report.html');
      // The sender signs links for that URL with the same secret.
      const [, send] = fns.find(([, f]) => /emails the audit report/.test(String(f.Properties.Description)))!;
      const sendVars = (send.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const urlId = Object.keys(template.findResources('AWS::Lambda::Url'))[0]!;
      expect(sendVars.REPORT_LINK_BASE_URL).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
      expect(sendVars.REPORT_LINK_KEY_SECRET_ARN).toEqual(linkVars.REPORT_LINK_KEY_SECRET_ARN);
    });

    it('passes the shard size when one is set', () => {
      templateOf({ shardBytes: 64 * 1024 * 1024 }).hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('one shard'),
        Environment: { Variables: Match.objectLike({ SHARD_BYTES: String(64 * 1024 * 1024) }) },
      });
    });

    it('passes settings into the environment and the shard memory into score-shard', () => {
      const t = templateOf({
        recipients: ['a@bank.example', 'b@bank.example'],
        sender: 'audit@bank.example',
        tapeCutoff: '04:45',
        retentionDays: 200,
        shardMemoryMb: 3008,
      });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('one shard'),
        MemorySize: 3008,
        Environment: {
          Variables: Match.objectLike({
            REPORT_RECIPIENTS: 'a@bank.example,b@bank.example',
            REPORT_SENDER: 'audit@bank.example',
            TAPE_CUTOFF: '04:45',
            DETAIL_RETENTION_DAYS: '200',
            // score-shard turns no borrower id into a reference: it is given no secret.
            BORROWER_REF_KEY_SECRET_ARN: Match.absent(),
          }),
        },
      });
    });

    it('sizes the merge and finalize steps from the settings: merge-scores one vCPU by default', () => {
      const memoryOf = (t: Template, description: RegExp): unknown => {
        const found = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) =>
          description.test(String(f.Properties.Description)),
        );
        expect(found).toHaveLength(1);
        return found[0]!.Properties.MemorySize;
      };
      expect(memoryOf(template, /merges the shards' partials/)).toBe(3008);
      expect(memoryOf(template, /one loan-id bucket/)).toBe(1769);
      expect(memoryOf(template, /combines the buckets' results/)).toBe(1024);
      // The merge memory setting moves merge-audit alone.
      const big = templateOf({ mergeMemoryMb: 10_240 });
      expect(memoryOf(big, /merges the shards' partials/)).toBe(10_240);
      expect(memoryOf(big, /one shard/)).toBe(1769);
      expect(memoryOf(big, /one loan-id bucket/)).toBe(1769);
      expect(memoryOf(big, /combines the buckets' results/)).toBe(1024);
      // The bucket and finalize settings move their own function alone.
      const sized = templateOf({ bucketMemoryMb: 2048, finalizeMemoryMb: 512 });
      expect(memoryOf(sized, /one loan-id bucket/)).toBe(2048);
      expect(memoryOf(sized, /combines the buckets' results/)).toBe(512);
      expect(memoryOf(sized, /merges the shards' partials/)).toBe(3008);
      expect(memoryOf(sized, /one shard/)).toBe(1769);
      for (const d of [
        /merges the shards' partials/,
        /one loan-id bucket/,
        /combines the buckets' results/,
      ]) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Description: Match.stringLikeRegexp(d.source),
          Timeout: 900,
        });
      }
    });

    it("gives prepare every planned step's memory, the same figures the functions are sized with", () => {
      const varsOf = (t: Template, description: RegExp): Record<string, unknown> => {
        const found = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) =>
          description.test(String(f.Properties.Description)),
        );
        expect(found).toHaveLength(1);
        return found[0]!.Properties.Environment.Variables as Record<string, unknown>;
      };
      expect(varsOf(template, /plans the shards/)).toMatchObject({
        SHARD_MEMORY_MB: '1769',
        MERGE_AUDIT_MEMORY_MB: '3008',
        MERGE_SCORES_MEMORY_MB: '1769',
        FINALIZE_MEMORY_MB: '1024',
      });
      const t = templateOf({
        shardMemoryMb: 3008,
        mergeMemoryMb: 10_240,
        bucketMemoryMb: 2048,
        finalizeMemoryMb: 512,
      });
      expect(varsOf(t, /plans the shards/)).toMatchObject({
        SHARD_MEMORY_MB: '3008',
        MERGE_AUDIT_MEMORY_MB: '10240',
        MERGE_SCORES_MEMORY_MB: '2048',
        FINALIZE_MEMORY_MB: '512',
      });
      // Only prepare checks the plan: the steps themselves are not given the others' sizes.
      for (const d of [/one shard/, /merges the shards' partials/, /one loan-id bucket/]) {
        expect(varsOf(t, d).SHARD_MEMORY_MB).toBeUndefined();
      }
    });

    it('gives start-audit the state machine and idempotency table, and nothing else the secret', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('on demand'),
        Environment: {
          Variables: Match.objectLike({
            STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^WorkflowStateMachine') },
            IDEMPOTENCY_TABLE_NAME: { Ref: Match.stringLikeRegexp('^IdempotencyTable') },
            BORROWER_REF_KEY_SECRET_ARN: Match.absent(),
            REPORT_LINK_KEY_SECRET_ARN: Match.absent(),
          }),
        },
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
      });
    });

    it('points the report-rendering functions at the chart font shipped in their assets', () => {
      for (const description of ['emails the audit report', 'emails the failure notice']) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Description: Match.stringLikeRegexp(description),
          Architectures: ['x86_64'],
          Environment: {
            Variables: Match.objectLike({ REPORT_FONT_FILE: '/var/task/fonts/DejaVuSans.ttf' }),
          },
        });
      }
    });

    it('keeps each function in its own log group with a retention', () => {
      const groups = Object.values(resources(template)).filter((r) => r.Type === 'AWS::Logs::LogGroup');
      expect(groups).toHaveLength(11); // ten functions and the state machine
      for (const g of groups) expect(g.Properties.RetentionInDays).toBe(90);
    });
  });

  describe('permissions', () => {
    it('grants no wildcard action on the bucket or the tables, nor any `*` action anywhere', () => {
      const guarded = [
        ...logicalIdsOf(template, 'AWS::S3::Bucket'),
        ...logicalIdsOf(template, 'AWS::DynamoDB::Table'),
      ];
      expect(guarded).toHaveLength(4);
      const statements = policyStatements(template);
      expect(statements.length).toBeGreaterThan(10);
      let onGuarded = 0;
      for (const { statement } of statements) {
        expect(actionsOf(statement)).not.toContain('*');
        if (guarded.some((id) => referencesLogicalId(statement, id))) {
          onGuarded += 1;
          for (const action of actionsOf(statement)) expect(action).not.toContain('*');
        }
      }
      expect(onGuarded).toBeGreaterThan(5);
    });

    it('detects a wildcard action when one is there (the walk above is not vacuous)', () => {
      const { stack } = buildStack();
      stack.data.bucket.grantRead(stack.functions['prepare-run']!.role);
      const t = templateOfStack(stack);
      const bucketId = logicalIdsOf(t, 'AWS::S3::Bucket').find((id) => id.startsWith('DataBucket'))!;
      const wild = policyStatements(t).filter(
        ({ statement }) =>
          referencesLogicalId(statement, bucketId) && actionsOf(statement).some((a) => a.includes('*')),
      );
      expect(wild.length).toBeGreaterThan(0);
    });

    it('lets prepare-run read tapes and write only its run files', () => {
      const statements = statementsOfRole(template, 'PrepareRunRole');
      const s3Actions = statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'));
      expect(new Set(s3Actions)).toEqual(
        new Set(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:AbortMultipartUpload']),
      );
      expect(JSON.stringify(statements)).toContain('/snapshots/*');
    });

    it('never lets a function write or delete a tape', () => {
      const writes = policyStatements(template).filter(({ statement }) =>
        actionsOf(statement).some((a) => ['s3:PutObject', 's3:DeleteObject'].includes(a)),
      );
      expect(writes.length).toBeGreaterThan(3);
      for (const { statement } of writes)
        expect(JSON.stringify(statement.Resource)).not.toContain('snapshots');
    });

    it('lets score-shard write only under runs/', () => {
      const statements = statementsOfRole(template, 'ScoreShardRole');
      const writes = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
      expect(writes).toHaveLength(1);
      expect(JSON.stringify(writes[0]?.Resource)).toContain('/runs/*');
      expect(JSON.stringify(writes[0]?.Resource)).not.toContain('snapshots');
    });

    it('lets merge-audit read tapes and runs and write run files, with no table access', () => {
      const statements = statementsOfRole(template, 'MergeAuditRole');
      const actions = statements.flatMap(actionsOf);
      expect(new Set(actions.filter((a) => a.startsWith('s3:')))).toEqual(
        new Set(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:AbortMultipartUpload']),
      );
      expect(JSON.stringify(statements)).toContain('/snapshots/*');
      expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
      const tables = logicalIdsOf(template, 'AWS::DynamoDB::Table');
      for (const st of statements) for (const id of tables) expect(referencesLogicalId(st, id)).toBe(false);
    });

    it('lets merge-scores read and write runs and the risk table, never tapes', () => {
      const statements = statementsOfRole(template, 'MergeScoresRole');
      expect(JSON.stringify(statements)).not.toContain('snapshots');
      const s3Actions = statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'));
      expect(new Set(s3Actions)).toEqual(
        new Set(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:AbortMultipartUpload']),
      );
      expect(s3Actions).not.toContain('s3:DeleteObject');
      const riskTable = logicalIdsOf(template, 'AWS::DynamoDB::Table').find((id) =>
        id.startsWith(RISK_TABLE.constructId),
      )!;
      const onTable = statements.filter((st) => referencesLogicalId(st, riskTable)).flatMap(actionsOf);
      expect(onTable).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem']),
      );
      expect(onTable).toContain('dynamodb:BatchWriteItem');
    });

    it("no longer lets finalize-audit read tapes; it deletes only the partials and a replaced run's score files", () => {
      const statements = statementsOfRole(template, 'FinalizeAuditRole');
      expect(JSON.stringify(statements)).not.toContain('snapshots');
      const deletes = statements.filter((st) => actionsOf(st).includes('s3:DeleteObject'));
      expect(deletes).toHaveLength(1);
      const resources = JSON.stringify(deletes[0]?.Resource);
      expect(resources).toContain('/runs/*/partials/*');
      expect(resources).toContain('/runs/*/scores/*');
      expect(resources).not.toContain('/runs/*"');
    });

    it('lets the state machine invoke the merge functions', () => {
      const fns = Object.entries(template.findResources('AWS::Lambda::Function'));
      const idOf = (description: RegExp): string =>
        fns.find(([, f]) => description.test(String(f.Properties.Description)))![0];
      const invokes = statementsOfRole(template, 'WorkflowStateMachineRole').filter((st) =>
        actionsOf(st).includes('lambda:InvokeFunction'),
      );
      for (const id of [idOf(/merges the shards' partials/), idOf(/one loan-id bucket/)]) {
        expect(invokes.some((st) => referencesLogicalId(st, id))).toBe(true);
      }
    });

    it('lists the bucket only under the granted prefixes', () => {
      const lists = statementsOfRole(template, 'PrepareRunRole').filter((s) =>
        actionsOf(s).includes('s3:ListBucket'),
      );
      expect(lists.length).toBeGreaterThan(0);
      for (const l of lists)
        expect(l.Condition).toMatchObject({ StringLike: { 's3:prefix': expect.any(Array) } });
    });

    it('lets only send-report and notify-failure send email, from the sender and to the recipients', () => {
      const senders = policyStatements(template).filter(({ statement }) =>
        actionsOf(statement).includes('ses:SendEmail'),
      );
      expect(senders.map((s) => s.policy.replace(/RoleDefaultPolicy.*/, '')).sort()).toEqual([
        'NotifyFailure',
        'SendReport',
      ]);
      const text = JSON.stringify(senders[0]?.statement.Resource);
      expect(text).toContain(':identity/risk-audit@example.com');
      expect(text).toContain(':identity/example.com');
      expect(text).toContain(':identity/risk-team@example.com');
    });

    it('lets start-audit start executions of the audit state machine only', () => {
      const statements = statementsOfRole(template, 'StartAuditRole');
      const start = statements.filter((s) => actionsOf(s).includes('states:StartExecution'));
      expect(start).toHaveLength(1);
      expect(start[0]?.Resource).toEqual({ Ref: expect.stringMatching(/^WorkflowStateMachine/) });
    });
  });

  describe('workflow', () => {
    it('fans out with a Distributed Map over the planned shards, tolerating no failure', () => {
      const def = stateMachineDefinition(template);
      const map = allStates(def).ScoreShards;
      expect(map).toMatchObject({
        Type: 'Map',
        // The shards' list and every shard's result live in S3, never in the state.
        ItemReader: {
          Resource: 'arn:TOKEN:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'TOKEN', 'Key.$': '$.plan.shardsKey' },
        },
        ResultWriter: {
          Resource: 'arn:TOKEN:states:::s3:putObject',
          Parameters: { Bucket: 'TOKEN', 'Prefix.$': '$.plan.resultsPrefix' },
        },
        MaxConcurrency: 8,
        ToleratedFailureCount: 0,
        ResultPath: '$.shardResults',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      });
      expect(map?.Next).toBe('MergeAudit');
    });

    it('merges the scores with a second Distributed Map over the planned buckets, tolerating no failure', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.MergeScores).toMatchObject({
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:TOKEN:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'TOKEN', 'Key.$': '$.merged.bucketsKey' },
        },
        ResultWriter: { Parameters: { Bucket: 'TOKEN', 'Prefix.$': '$.plan.resultsPrefix' } },
        MaxConcurrency: 8,
        ToleratedFailureCount: 0,
        Label: 'MergeScores',
        ResultPath: '$.bucketResults',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'MergeBucket',
        },
      });
      expect(states.MergeScores?.Next).toBe('Finalize');
    });

    it('takes the map concurrency of both maps from the settings', () => {
      const states = allStates(stateMachineDefinition(templateOf({ mapMaxConcurrency: 150 })));
      expect(states.ScoreShards?.MaxConcurrency).toBe(150);
      expect(states.MergeScores?.MaxConcurrency).toBe(150);
    });

    it('runs Prepare, the shard map, MergeAudit (the shards holding repeats once more), the bucket map, Finalize and SendReport in order', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.Prepare?.Next).toBe('ScoreShards');
      expect(states.ScoreShards?.Next).toBe('MergeAudit');
      expect(states.MergeAudit?.Next).toBe('RepeatsAcrossShards');
      expect(states.RepeatsAcrossShards?.Choices).toEqual([
        { Variable: '$.merged.settle', IsPresent: true, Next: 'ScoreRepeatsAgain' },
      ]);
      expect(states.RepeatsAcrossShards?.Default).toBe('MergeScores');
      // The shards holding repeats go round once more: the plan now names them.
      expect(states.ScoreRepeatsAgain?.Parameters).toEqual({
        'plan.$': 'States.JsonMerge($.plan, $.merged.settle, false)',
      });
      expect(states.ScoreRepeatsAgain?.Next).toBe('ScoreShards');
      expect(states.MergeScores?.Next).toBe('Finalize');
      expect(states.Finalize?.Next).toBe('SendReport');
      expect(states.SendReport?.Next).toBe('AuditDone');
      expect(states.Prepare?.ResultPath).toBe('$.plan');
      expect(states.MergeAudit?.Parameters).toEqual({
        'plan.$': '$.plan',
        'shardResults.$': '$.shardResults',
      });
      expect(states.MergeAudit?.ResultPath).toBe('$.merged');
      expect(states.Finalize?.Parameters).toEqual({
        'plan.$': '$.plan',
        'merged.$': '$.merged',
        'bucketResults.$': '$.bucketResults',
      });
      expect(states.Finalize?.ResultPath).toBe('$.outcome');
      expect(states.SendReport?.InputPath).toBe('$.outcome');
    });

    it('gives every task a timeout and retries only transient Lambda errors, with backoff', () => {
      const states = allStates(stateMachineDefinition(template));
      const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
      expect(tasks.map(([n]) => n).sort()).toEqual([
        'DeliveryFailed',
        'Finalize',
        'MergeAudit',
        'MergeBucket',
        'NotifyFailure',
        'Prepare',
        'ScoreShard',
        'SendReport',
      ]);
      for (const [, task] of tasks) {
        expect(task.TimeoutSeconds).toBeGreaterThan(0);
        const retries = task.Retry as { ErrorEquals: string[]; BackoffRate: number; MaxAttempts: number }[];
        // The report step also retries SES's transient errors (see 'a report that can fail safely').
        expect(retries).toHaveLength(task === states.SendReport ? 2 : 1);
        expect(retries[0]?.ErrorEquals).toEqual([...TRANSIENT_LAMBDA_ERRORS]);
        expect(retries[0]?.BackoffRate).toBe(2);
        expect(retries[0]?.ErrorEquals).not.toContain('States.ALL');
        expect(retries[0]?.ErrorEquals).not.toContain('States.TaskFailed');
      }
      // The 15-minute tasks' timeouts sit above the Lambda limit, never below it.
      for (const name of ['ScoreShard', 'MergeAudit', 'MergeBucket', 'Finalize']) {
        expect(states[name]?.TimeoutSeconds).toBe(930);
      }
    });

    it('catches any failure of the run, sends the notice, then fails with the original error', () => {
      const states = allStates(stateMachineDefinition(template));
      for (const name of ['ScoreShards', 'MergeAudit', 'MergeScores', 'Finalize']) {
        expect(states[name]?.Catch).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailedExecution' },
        ]);
      }
      // Prepare first lets a duplicate start (the date's lease is held) end quietly.
      expect(states.Prepare?.Catch).toEqual([
        { ErrorEquals: ['RunInProgressError'], ResultPath: '$.error', Next: 'AlreadyRunning' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'FailedExecution' },
      ]);
      expect(states.AlreadyRunning?.Type).toBe('Succeed');
      // The notice gets the execution (its run id derives from it), then the run fails.
      expect(states.FailedExecution).toEqual({
        Type: 'Pass',
        ResultPath: '$.execution',
        Parameters: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
        Next: 'NotifyFailure',
      });
      expect(states.NotifyFailure?.Next).toBe('AuditFailed');
      expect(states.AuditFailed).toEqual({
        Type: 'Fail',
        ErrorPath: '$.error.Error',
        CausePath: '$.error.Cause',
      });
    });

    it('hands Prepare the start event and the execution its run id derives from', () => {
      expect(allStates(stateMachineDefinition(template)).Prepare?.Parameters).toEqual({
        'start.$': '$',
        execution: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
      });
    });

    it('keeps a finished audit when its report cannot be sent: SES retries, then a failed delivery, never the notice', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.SendReport?.Retry).toContainEqual({
        ErrorEquals: ['MailDeliveryDelayedError'],
        IntervalSeconds: 30,
        MaxAttempts: 3,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      });
      expect(states.SendReport?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'DeliveryFailed' },
      ]);
      expect(states.DeliveryFailed).toMatchObject({
        Resource: 'TOKEN',
        Parameters: { deliveryFailed: { 'outcome.$': '$.outcome', 'error.$': '$.error' } },
        ResultPath: null,
        Next: 'AuditDone',
      });
      expect(states.AuditDone?.Type).toBe('Succeed');
    });

    it('lets the state machine read the items and write the results of its maps in the data bucket', () => {
      const policies = template.findResources('AWS::IAM::Policy');
      const machineRole = Object.values(policies).find((p) =>
        JSON.stringify(p).includes('WorkflowStateMachineRole'),
      );
      const statements = JSON.stringify(machineRole);
      for (const action of [
        's3:GetObject',
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ])
        expect(statements).toContain(action);
      expect(statements).toMatch(/DataBucket/);
    });

    it('gives Lambda tasks object Parameters or none: a string would be invalid ASL (aws-cdk#34260)', () => {
      const tasks = Object.values(allStates(stateMachineDefinition(template))).filter(
        (s) => s.Type === 'Task',
      );
      for (const task of tasks) expect(['undefined', 'object']).toContain(typeof task.Parameters);
    });

    it('catches a shard failure inside the map as a value, which MergeAudit turns into the run failure', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.ScoreShard?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ShardFailed' },
      ]);
      expect(states.ShardFailed).toMatchObject({
        Type: 'Pass',
        Parameters: { failed: true, 'index.$': '$.index', 'error.$': '$.error' },
        End: true,
      });
      // MergeAudit, which reads every shard's result, fails the run with the first failed one.
      expect(states.ScoreShards?.Next).toBe('MergeAudit');
    });

    it('catches a bucket failure inside the merge map as a value, which Finalize turns into the run failure', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.MergeBucket?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BucketFailed' },
      ]);
      expect(states.BucketFailed).toMatchObject({
        Type: 'Pass',
        Parameters: { failed: true, 'bucket.$': '$.bucket', 'error.$': '$.error' },
        End: true,
      });
      expect(states.MergeScores?.Next).toBe('Finalize');
    });

    it('derives the date from the object key for tape-arrival starts', () => {
      const states = allStates(stateMachineDefinition(template));
      expect(states.StartedBy).toMatchObject({
        Type: 'Choice',
        Choices: [{ Variable: '$.objectKey', IsPresent: true, Next: 'DateFromObjectKey' }],
        Default: 'Prepare',
      });
      expect(states.DateFromObjectKey?.Parameters).toEqual({
        'snapshotDate.$': "States.ArrayGetItem(States.StringSplit($.objectKey, '/'), 1)",
        trigger: 's3-arrival',
      });
    });

    it('logs all events to CloudWatch without execution data and traces with X-Ray', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
    });
  });

  describe('every ending is recorded', () => {
    it('sends the executions that fail, time out or are aborted to notify-failure, with retries and the dead-letter queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
            stateMachineArn: [{ Ref: Match.stringLikeRegexp('^WorkflowStateMachine') }],
          },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyFailure'), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
          }),
        ],
      });
      // EventBridge may invoke it, and what it cannot take asynchronously ends in the dead-letter queue.
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyFailure'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: Match.anyValue() }) },
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'Arn'] } },
        Description: Match.stringLikeRegexp('failed delivery'),
      });
    });

    it("alarms when a finished audit's report was not delivered", () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ReportNotDelivered',
        Namespace: 'RiskAudit',
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
      });
    });
  });

  describe('alarms', () => {
    it('alarms on failed and timed-out runs', () => {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/States',
          MetricName: metric,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
        });
      }
    });

    it('alarms when no run has succeeded for 26 hours while the schedule is on', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsSucceeded',
        Period: 3600,
        EvaluationPeriods: 26,
        DatapointsToAlarm: 26,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      const onDemandOnly = templateOf({ scheduleEnabled: false });
      const succeeded = Object.values(resources(onDemandOnly)).filter(
        (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'ExecutionsSucceeded',
      );
      expect(succeeded).toEqual([]);
    });

    it('alarms when prepare-run reports the tape missing by the cutoff', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'RiskAudit',
        MetricName: 'TapeMissing',
        Dimensions: [{ Name: 'service', Value: 'risk-audit' }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    });

    it('alarms when a run takes far longer than its recent norm (anomaly detection)', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ComparisonOperator: 'GreaterThanUpperThreshold',
        ThresholdMetricId: 'expr_1',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'ANOMALY_DETECTION_BAND(m0, 3)' }),
          Match.objectLike({
            Id: 'm0',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionTime' }) }),
          }),
        ]),
      });
    });

    it('alarms on Lambda faults of all ten functions and on undelivered triggers', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: Match.stringLikeRegexp('FILL\\(e_score_shard, 0\\)') }),
        ]),
      });
      const ids = Object.values(resources(template))
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((r) => (r.Properties.Metrics ?? []) as { Id: string }[])
        .map((m) => m.Id)
        .filter((i) => i.startsWith('e_'));
      expect(ids).toHaveLength(10);
      expect(ids).toEqual(
        expect.arrayContaining([
          'e_merge_audit',
          'e_merge_scores',
          'e_finalize_audit',
          'e_record_mail_event',
        ]),
      );
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
      });
    });

    it('sends alarms to an encrypted topic, subscribing no address unless given', () => {
      template.hasResourceProperties('AWS::SNS::Topic', {
        DisplayName: 'risk-audit alarms',
        KmsMasterKeyId: Match.anyValue(),
      });
      expect(
        Object.values(template.findResources('AWS::SNS::Subscription')).map((r) => r.Properties.Protocol),
      ).toEqual([
        'lambda', // record-mail-event on the mail-events topic
      ]);
    });
  });

  describe('email', () => {
    it("verifies the sender's domain with 2048-bit DKIM by default, the address when asked, nothing when it exists", () => {
      template.hasResourceProperties('AWS::SES::EmailIdentity', {
        EmailIdentity: 'example.com',
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
        ConfigurationSetAttributes: {
          ConfigurationSetName: { Ref: Match.stringLikeRegexp('^MailConfigurationSet') },
        },
      });
      templateOf({ sender: 'audit@bank.example', senderIdentity: 'email' }).hasResourceProperties(
        'AWS::SES::EmailIdentity',
        { EmailIdentity: 'audit@bank.example', DkimSigningAttributes: Match.absent() },
      );
      templateOf({ senderIdentity: 'none' }).resourceCountIs('AWS::SES::EmailIdentity', 0);
    });
  });

  describe('secrets', () => {
    /** Every function's environment, by its description. */
    const environments = (t: Template): [string, Record<string, unknown>][] =>
      Object.values(t.findResources('AWS::Lambda::Function')).map((f) => [
        String(f.Properties.Description),
        (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      ]);

    it('puts no secret value in any environment, nor anywhere in the template', () => {
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toContain('resolve:secretsmanager');
      for (const [, variables] of environments(template)) {
        expect(variables).not.toHaveProperty('BORROWER_REF_KEY');
        expect(variables).not.toHaveProperty('REPORT_LINK_KEY');
        expect(variables).not.toHaveProperty('REPORT_LINK_PREVIOUS_KEY');
      }
      // The secrets' only references in environments are their ARNs (Ref of a secret is its ARN).
      const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
      expect(secretIds).toHaveLength(2);
      for (const [, variables] of environments(template)) {
        for (const [name, value] of Object.entries(variables)) {
          const text = JSON.stringify(value);
          if (secretIds.some((id) => text.includes(id))) {
            expect(name).toMatch(/_SECRET_ARN$/);
            expect(value).toEqual({ Ref: expect.stringMatching(/^(BorrowerRefKey|ReportLinkKey)/) });
          }
        }
      }
    });

    it('gives each function only the secrets it uses, as ARN and read grant together', () => {
      const [refKey] = Object.keys(template.findResources('AWS::SecretsManager::Secret')).filter((id) =>
        id.startsWith('BorrowerRefKey'),
      );
      const [linkKey] = Object.keys(template.findResources('AWS::SecretsManager::Secret')).filter((id) =>
        id.startsWith('ReportLinkKey'),
      );
      const expected: [RegExp, string[]][] = [
        [/merges the shards' partials/, ['BORROWER_REF_KEY_SECRET_ARN']],
        [/one loan-id bucket/, ['BORROWER_REF_KEY_SECRET_ARN']],
        [/combines the buckets' results/, ['BORROWER_REF_KEY_SECRET_ARN']],
        [/emails the audit report/, ['REPORT_LINK_KEY_SECRET_ARN']],
        [/report link from an audit email/, ['REPORT_LINK_KEY_SECRET_ARN']],
        [/one shard/, []],
        [/takes the date's lease/, []],
        [/failure notice/, []],
        [/on demand/, []],
        [/bounces, complaints/, []],
      ];
      const fns = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(fns).toHaveLength(expected.length);
      for (const [description, variables] of expected) {
        const matching = fns.filter((f) => description.test(String(f.Properties.Description)));
        expect(matching, description.source).toHaveLength(1);
        const fn = matching[0]!;
        const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(
          Object.keys(env).filter((k) => k.endsWith('_SECRET_ARN')),
          description.source,
        ).toEqual(variables);
        // The role may read exactly the secrets the environment names.
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
        const readable = statementsOfRole(template, roleId)
          .filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue'))
          .flatMap((st) => [refKey!, linkKey!].filter((id) => referencesLogicalId(st, id)));
        const wanted = variables.map((v) => (v.startsWith('BORROWER') ? refKey! : linkKey!));
        expect(readable, description.source).toEqual(wanted);
      }
    });

    it('retains both secrets with the data when the stack is deleted or a secret replaced', () => {
      const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
      expect(secrets).toHaveLength(2);
      for (const secret of secrets) {
        expect(secret.DeletionPolicy).toBe('Retain');
        expect(secret.UpdateReplacePolicy).toBe('Retain');
        expect(secret.Properties.GenerateSecretString).toMatchObject({
          PasswordLength: 48,
          ExcludePunctuation: true,
        });
      }
    });

    it('has no CloudFormation output that carries a secret', () => {
      const outputs = (template.toJSON() as { Outputs: Record<string, unknown> }).Outputs;
      const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
      for (const output of Object.values(outputs)) {
        for (const id of secretIds) expect(JSON.stringify(output)).not.toContain(id);
      }
    });
  });

  describe('alarm delivery', () => {
    const alarmTopicId = (t: Template): string =>
      Object.entries(t.findResources('AWS::SNS::Topic')).find(
        ([, r]) => r.Properties.DisplayName === 'risk-audit alarms',
      )![0];

    it("lets this account's CloudWatch alarms publish to the alarm topic, beside the TLS-only deny", () => {
      const topicId = alarmTopicId(template);
      const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')).filter((p) =>
        JSON.stringify(p.Properties.Topics).includes(topicId),
      );
      expect(policies).toHaveLength(1);
      const statements = (policies[0]!.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'AllowThisAccountsAlarms',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '000000000000' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:ap-southeast-1:000000000000:alarm:*'],
                  ],
                },
              },
            },
          },
        ]),
      );
      expect(statements).toHaveLength(2);
    });

    it('lets CloudWatch use the key that encrypts the alarm topic', () => {
      const topicId = alarmTopicId(template);
      const keyRef = template.toJSON().Resources[topicId].Properties.KmsMasterKeyId as {
        'Fn::GetAtt': string[];
      };
      const key = template.toJSON().Resources[keyRef['Fn::GetAtt'][0]!];
      expect(key.Properties.KeyPolicy.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      );
    });

    it('sends every alarm to the alarm topic', () => {
      const topicId = alarmTopicId(template);
      const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBeGreaterThan(8);
      for (const [id, alarm] of alarms) {
        expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      }
    });

    it('subscribes every alarm address, the older alarmEmail included once', () => {
      const t = templateOf({
        alarmEmails: ['ops@bank.example', 'cro@bank.example'],
        alarmEmail: 'ops@bank.example',
      });
      const topicId = alarmTopicId(t);
      const emails = Object.values(t.findResources('AWS::SNS::Subscription'))
        .filter((r) => r.Properties.Protocol === 'email')
        .map((r) => {
          expect(r.Properties.TopicArn).toEqual({ Ref: topicId });
          return r.Properties.Endpoint;
        });
      expect(emails.sort()).toEqual(['cro@bank.example', 'ops@bank.example']);
    });

    it("alarms on faults only: each function's Errors less the expected outcomes its handler counted", () => {
      const faultAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
        JSON.stringify(a.Properties.Metrics ?? '').includes('"e_'),
      );
      // Ten functions, two metrics each, at most ten metrics an alarm: two alarms.
      expect(faultAlarms).toHaveLength(2);
      const prepare = faultAlarms.find((a) =>
        JSON.stringify(a.Properties.Metrics).includes('e_prepare_run'),
      )!;
      const metrics = prepare.Properties.Metrics as {
        Id: string;
        Expression?: string;
        MetricStat?: {
          Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] };
          Stat: string;
        };
      }[];
      expect(metrics.length).toBeLessThanOrEqual(11);
      const expression = metrics.find((m) => m.Expression !== undefined)!.Expression!;
      expect(expression).toMatch(/^\(FILL\(e_prepare_run, 0\) \+ .*\) - \(FILL\(x_prepare_run, 0\) \+ .*\)$/);
      const expected = metrics.find((m) => m.Id === 'x_prepare_run')!.MetricStat!;
      expect(expected.Stat).toBe('Sum');
      expect(expected.Metric).toMatchObject({
        Namespace: 'RiskAudit',
        MetricName: 'ExpectedErrors',
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: 'risk-audit' },
          { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^PrepareRunFunction/) } },
        ]),
      });
      expect(metrics.find((m) => m.Id === 'e_prepare_run')!.MetricStat!.Metric).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
      });
    });
  });

  describe('report-link capacity', () => {
    it('reserves a small concurrency for the public report-link function, none for the others', () => {
      const fns = Object.values(template.findResources('AWS::Lambda::Function'));
      const reserved = fns.filter((f) => f.Properties.ReservedConcurrentExecutions !== undefined);
      expect(reserved).toHaveLength(1);
      expect(reserved[0]!.Properties).toMatchObject({
        ReservedConcurrentExecutions: 5,
        Description: expect.stringMatching(/report link/),
      });
    });

    it('takes the reservation from the settings, and reserves nothing on a small account', () => {
      templateOf({ reportLinkConcurrency: 2 }).hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('report link'),
        ReservedConcurrentExecutions: 2,
      });
      const none = templateOf({ reportLinkConcurrency: 'none' });
      for (const f of Object.values(none.findResources('AWS::Lambda::Function'))) {
        expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    });
  });

  describe('mail delivery', () => {
    it('sends with a configuration set that requires TLS and suppresses bounced and complaining addresses', () => {
      template.hasResourceProperties('AWS::SES::ConfigurationSet', {
        DeliveryOptions: { TlsPolicy: 'REQUIRE' },
        ReputationOptions: { ReputationMetricsEnabled: true },
        SendingOptions: { SendingEnabled: true },
        SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      });
      const [setId] = Object.keys(template.findResources('AWS::SES::ConfigurationSet'));
      for (const d of [/emails the audit report/, /failure notice/]) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Description: Match.stringLikeRegexp(d.source),
          Environment: { Variables: Match.objectLike({ SES_CONFIGURATION_SET: { Ref: setId } }) },
        });
      }
    });

    it('publishes bounces, complaints and rejects to an encrypted topic that SES of this account may publish to', () => {
      const [setId] = Object.keys(template.findResources('AWS::SES::ConfigurationSet'));
      const [topicId, topic] = Object.entries(template.findResources('AWS::SNS::Topic')).find(
        ([, r]) => r.Properties.DisplayName === 'risk-audit mail events',
      )!;
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        ConfigurationSetName: { Ref: setId },
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['bounce', 'complaint', 'reject'],
          SnsDestination: { TopicARN: { Ref: topicId } },
        },
      });
      const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy')).find((p) =>
        JSON.stringify(p.Properties.Topics).includes(topicId),
      )!;
      expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: {
                'AWS:SourceAccount': '000000000000',
                'AWS:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':ses:ap-southeast-1:000000000000:configuration-set/',
                      { Ref: setId },
                    ],
                  ],
                },
              },
            },
          }),
        ]),
      );
      // The topic's key lets SES encrypt what it publishes.
      const keyId = (topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      expect(template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Principal: { Service: 'ses.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      );
    });

    it('records the events with a small function subscribed to the topic, failures to the dead-letter queue', () => {
      const [topicId] = Object.entries(template.findResources('AWS::SNS::Topic')).find(
        ([, r]) => r.Properties.DisplayName === 'risk-audit mail events',
      )!;
      const [fnId, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) =>
        /bounces, complaints/.test(String(f.Properties.Description)),
      )!;
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        TopicArn: { Ref: topicId },
        Endpoint: { 'Fn::GetAtt': [fnId, 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'sns.amazonaws.com',
        SourceArn: { Ref: topicId },
      });
      expect(fn.Properties.DeadLetterConfig).toEqual({
        TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^DeadLetters/), 'Arn'] },
      });
    });

    it('alarms on a permanent bounce or reject and on a complaint', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      const bounced = alarms.find((a) => /bounced for good/.test(String(a.Properties.AlarmDescription)))!;
      const names = (bounced.Properties.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[])
        .flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))
        .sort();
      expect(names).toEqual(['MailBounced', 'MailRejected']);
      expect(bounced.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'RiskAudit',
        MetricName: 'MailComplained',
        Dimensions: [{ Name: 'service', Value: 'risk-audit' }],
        Threshold: 1,
      });
    });

    it('outputs the three DKIM records of the sender domain, and lets the senders use the configuration set', () => {
      const outputs = (template.toJSON() as { Outputs: Record<string, { Description: string }> }).Outputs;
      expect(
        Object.keys(outputs)
          .filter((k) => k.startsWith('DkimRecord'))
          .sort(),
      ).toEqual(['DkimRecord1', 'DkimRecord2', 'DkimRecord3']);
      expect(outputs.DkimRecord1!.Description).toBe(
        'DKIM record 1 of 3 to publish in the DNS of example.com',
      );
      const [setId] = Object.keys(template.findResources('AWS::SES::ConfigurationSet'));
      const send = policyStatements(template).filter((p) =>
        actionsOf(p.statement).includes('ses:SendRawEmail'),
      );
      expect(send).toHaveLength(2);
      for (const { statement } of send) {
        expect(JSON.stringify(statement.Resource)).toContain(`configuration-set/",{"Ref":"${setId}"}`);
      }
      expect(
        Object.keys(templateOf({ senderIdentity: 'email' }).toJSON().Outputs).some((k) =>
          k.startsWith('Dkim'),
        ),
      ).toBe(false);
    });
  });

  describe('outputs', () => {
    it('exports the bucket, table, state machine and start-audit function names', () => {
      const outputs = Object.keys((template.toJSON() as { Outputs: Record<string, unknown> }).Outputs);
      expect(outputs).toEqual(
        expect.arrayContaining([
          'BucketName',
          'TableName',
          'StateMachineArn',
          'StartAuditFunctionName',
          'AlarmTopicArn',
        ]),
      );
    });
  });

  describe('settings', () => {
    it('rejects an invalid setting with the name and the value received', () => {
      expect(() => buildStack({ timezone: 'Mars/Olympus' })).toThrow(
        'invalid timezone: expected an IANA time zone such as \'Asia/Shanghai\', got "Mars/Olympus"',
      );
      expect(() => buildStack({ recipients: ['not-an-address'] })).toThrow(
        'invalid recipients: expected email addresses, got "not-an-address"',
      );
    });
  });

  describe('cdk-nag', () => {
    it('reports nothing unsuppressed for AwsSolutions with the default settings', () => {
      const { findings, error } = nagFindings();
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
    });

    it('reports nothing unsuppressed with every optional part switched on', () => {
      const { findings, error } = nagFindings({
        s3Trigger: true,
        s3TriggerSuffix: '_SUCCESS',
        alarmEmails: ['ops@bank.example', 'cro@bank.example'],
        senderIdentity: 'email',
        reportLinkConcurrency: 'none',
      });
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
    });

    it('still reports a wildcard grant nobody justified', () => {
      const { findings, error } = nagFindingsWith((stack) => {
        stack.data.bucket.grantRead(stack.functions['send-report']!.role);
      });
      expect(findings.some((f) => f.rule.startsWith('AwsSolutions-IAM5[Action::s3:GetObject*]'))).toBe(true);
      expect(String(error)).toContain('ValidationFailed');
    });
  });
});

function stateMachineTimeout(t: Template): unknown {
  return stateMachineDefinition(t).TimeoutSeconds;
}

function templateOfStack(stack: RiskAuditStack): Template {
  return Template.fromStack(stack);
}

function nagFindingsWith(change: (stack: RiskAuditStack) => void): ReturnType<typeof nagFindingsOf> {
  const { app, stack } = buildStack({}, true);
  change(stack);
  return nagFindingsOf(app);
}
