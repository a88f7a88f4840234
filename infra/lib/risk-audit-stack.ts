import { extname } from 'node:path';
import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE, KEYS, PREFIXES, RISK_TABLE } from '../../shared/schema/tables.ts';
import { UNCAUGHT_END_STATUSES } from '../../shared/use-cases/workflow-types.ts';
import { AuditAlarms } from './constructs/audit-alarms.ts';
import { AuditFunction, type BundleCopy } from './constructs/audit-function.ts';
import { DefinedTable } from './constructs/audit-tables.ts';
import { AuditWorkflow } from './constructs/audit-workflow.ts';
import { DataBucket } from './constructs/data-bucket.ts';
import { MailDelivery } from './constructs/mail-delivery.ts';
import { acknowledgeWildcardGrants } from './nag.ts';
import { type AuditSettings, type ResolvedSettings, resolveSettings } from './settings.ts';

const CHART_FONT = 'fonts/DejaVuSans.ttf';

/** Longest a whole audit run may take. */
const RUN_TIMEOUT = Duration.hours(4);

/**
 * Charts are rasterised by resvg, a native add-on esbuild cannot bundle: it ships beside the
 * bundle with the linux-x64 binary npm installed here (no arm64 build is installed), so the two
 * functions that load it (send-report, notify-failure) run on x86_64. Lambda has no fonts: the DejaVu font ships in the asset.
 */
/** The default policy files ship in every workflow function's asset (read through POLICY_DIR). */
const POLICIES: BundleCopy = { from: 'policies', to: 'policies' };

const CHART_RENDERING = {
  architecture: lambda.Architecture.X86_64,
  externalModules: ['@resvg/resvg-js'],
  copyIntoBundle: [
    POLICIES,
    { from: 'node_modules/@resvg/resvg-js', to: 'node_modules/@resvg/resvg-js' },
    { from: 'node_modules/@resvg/resvg-js-linux-x64-gnu', to: 'node_modules/@resvg/resvg-js-linux-x64-gnu' },
    { from: 'node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf', to: CHART_FONT },
  ],
} as const;

/** Properties of the risk-audit stack: the stack's own props plus the deployment settings. */
export interface RiskAuditStackProps extends StackProps, AuditSettings {}

/**
 * The risk-audit deployment: data bucket, tables, the audit functions and workflow, the nightly
 * schedule (and optional tape-arrival trigger), the SES sender, alarms. Wiring only: every
 * resource is built by a construct under ./constructs. Construct ids are a contract.
 */
export class RiskAuditStack extends Stack {
  /** Settings in effect, defaults applied. */
  public readonly settings: ResolvedSettings;
  /** The data bucket construct. */
  public readonly data: DataBucket;
  /** The audit workflow construct. */
  public readonly workflow: AuditWorkflow;
  /** The audit functions by folder name. */
  public readonly functions: Readonly<Record<string, AuditFunction>>;

  public constructor(scope: Construct, id: string, props: RiskAuditStackProps = {}) {
    super(scope, id, props);
    const s = resolveSettings(props);
    this.settings = s;

    this.data = new DataBucket(this, 'Data', {
      runRetentionDays: s.retentionDays,
      tapeRetentionDays: s.tapeRetentionDays,
      eventBridgeEnabled: s.s3Trigger,
    });
    const bucket = this.data.bucket;
    const riskTable = new DefinedTable(this, RISK_TABLE.constructId, { definition: RISK_TABLE }).table;
    const idempotencyTable = new DefinedTable(this, IDEMPOTENCY_TABLE.constructId, {
      definition: IDEMPOTENCY_TABLE,
      // Idempotency records expire within the hour: nothing worth protecting.
      deletionProtection: false,
    }).table;

    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'this queue is the dead-letter queue of the schedule, the arrival rule and start-audit',
    });

    // A keyed hash turns borrower ids into stable references; rotating it would break history.
    const borrowerRefKey = this.retainedKey(
      'BorrowerRefKey',
      'key of the keyed hash that turns borrower ids into report references',
      'rotating the borrower-reference key would change every borrowerRef and break history',
    );
    // The email links to the report through the report-link function's URL: a link signed with
    // this key works for REPORT_LINK_EXPIRY_SECONDS, where a presigned S3 URL would die with the
    // sending function's credentials (within hours).
    const linkKey = this.retainedKey(
      'ReportLinkKey',
      'key of the HMAC that signs the report links in audit emails',
      'rotated by hand (aws secretsmanager put-secret-value, README): links name their key and the report-link function accepts the current and the previous one, so a rotation breaks no link sent; no rotation Lambda is needed for a random key',
    );
    const mail = new MailDelivery(this, 'Mail');

    const common: Record<string, string> = {
      BUCKET_NAME: bucket.bucketName,
      TABLE_NAME: riskTable.tableName,
      REPORT_SENDER: s.sender,
      REPORT_RECIPIENTS: s.recipients.join(','),
      DETAIL_RETENTION_DAYS: String(s.retentionDays),
      REPORT_LINK_EXPIRY_SECONDS: String(7 * 24 * 3600),
      TAPE_CUTOFF: s.tapeCutoff,
      TIMEZONE: s.timezone,
      WATCHLIST_LIMIT: String(s.watchlistLimit),
      POLICY_DIR: `/var/task/${POLICIES.to}`,
      // The lease must outlive the longest run the state machine allows.
      LEASE_MINUTES: String(RUN_TIMEOUT.toMinutes()),
      ...(s.shardBytes === undefined ? {} : { SHARD_BYTES: String(s.shardBytes) }),
    };
    // The lender's own mapping and policy (checked by resolveSettings) ship with the functions
    // that read tapes, score and rate.
    const lenderFiles: BundleCopy[] = [];
    const lenderEnv: Record<string, string> = {};
    for (const [file, name, variable] of [
      [s.mappingFile, 'mapping', 'MAPPING_FILE'],
      [s.policyFile, 'policy', 'POLICY_FILE'],
    ] as const) {
      if (file === undefined) continue;
      const to = `config/${name}${extname(file)}`;
      lenderFiles.push({ from: file, to });
      lenderEnv[variable] = `/var/task/${to}`;
    }

    // Each planned step's memory, given to its function and to prepare, which refuses a plan that
    // would need more (shared/domain/plan/memory.ts).
    const memory = {
      shard: s.shardMemoryMb,
      mergeAudit: s.mergeMemoryMb,
      mergeScores: s.bucketMemoryMb,
      finalize: s.finalizeMemoryMb,
    };
    const memoryEnv: Record<string, string> = {
      SHARD_MEMORY_MB: String(memory.shard),
      MERGE_AUDIT_MEMORY_MB: String(memory.mergeAudit),
      MERGE_SCORES_MEMORY_MB: String(memory.mergeScores),
      FINALIZE_MEMORY_MB: String(memory.finalize),
    };
    const prepare = new AuditFunction(this, 'PrepareRun', {
      copyIntoBundle: [POLICIES, ...lenderFiles],
      name: 'prepare-run',
      description: "resolves the date's tape parts, takes the date's lease, plans the shards",
      // Prepare reads the whole previous tape into a drift index when the previous date's run left
      // none that applies (a first night, a tape delivered again).
      memorySize: 3008,
      timeout: Duration.minutes(15),
      environment: { ...common, ...lenderEnv, ...memoryEnv },
    });
    const scoreShard = new AuditFunction(this, 'ScoreShard', {
      copyIntoBundle: [POLICIES, ...lenderFiles],
      name: 'score-shard',
      description: 'streams, validates and scores one shard of a tape, writes its partial result',
      memorySize: memory.shard,
      timeout: Duration.minutes(15),
      environment: { ...common, ...lenderEnv },
    });
    const mergeAudit = new AuditFunction(this, 'MergeAudit', {
      copyIntoBundle: [POLICIES, ...lenderFiles],
      name: 'merge-audit',
      description:
        "merges the shards' partials into the audit's figures, writes the drift index and plans the loan-id buckets",
      // It holds the merged borrower table and the date's new drift index (README, Scale plan).
      memorySize: memory.mergeAudit,
      timeout: Duration.minutes(15),
      environment: { ...common, ...lenderEnv },
    });
    const mergeScores = new AuditFunction(this, 'MergeScores', {
      copyIntoBundle: [POLICIES, ...lenderFiles],
      name: 'merge-scores',
      description:
        "merges one loan-id bucket of the shards' score files with the previous date's, writes what changed",
      // 1769 MB by default: one full vCPU (Lambda's CPU grows with memory).
      memorySize: memory.mergeScores,
      timeout: Duration.minutes(15),
      environment: { ...common, ...lenderEnv },
    });
    const finalize = new AuditFunction(this, 'FinalizeAudit', {
      copyIntoBundle: [POLICIES, ...lenderFiles],
      name: 'finalize-audit',
      description:
        "combines the buckets' results with the audit, writes audit.json, the watchlist and the run record",
      // The buckets' results it combines are small: the per-loan work is done by merge-scores.
      memorySize: memory.finalize,
      timeout: Duration.minutes(15),
      environment: { ...common, ...lenderEnv },
    });
    const reportLink = new AuditFunction(this, 'ReportLink', {
      name: 'report-link',
      description: 'checks a report link from an audit email and redirects to the archived report',
      timeout: Duration.seconds(10),
      environment: { BUCKET_NAME: bucket.bucketName, TIMEZONE: s.timezone },
      // Public: a flood gets 429s from Lambda instead of the concurrency the night's shards need.
      ...(s.reportLinkConcurrency === 'none'
        ? {}
        : { reservedConcurrentExecutions: s.reportLinkConcurrency }),
    });
    reportLink.useSecret('reportLinkKey', linkKey);
    // It can read report pages and nothing else: a forged or replayed link reaches no other object.
    iam.Grant.addToPrincipal({
      grantee: reportLink.role,
      actions: ['s3:GetObject'],
      resourceArns: [bucket.arnForObjects(KEYS.reportHtml('*'))],
    });
    // Public on purpose: the HMAC in each link is the authorisation (a reader's mail client has no AWS identity).
    const reportLinkUrl = reportLink.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'ReportLinkUrl', {
      value: reportLinkUrl.url,
      description: 'base of the report links in audit emails',
    });

    const sendReport = new AuditFunction(this, 'SendReport', {
      name: 'send-report',
      description: 'renders, archives and emails the audit report',
      memorySize: 1024,
      timeout: Duration.minutes(3),
      ...CHART_RENDERING,
      environment: {
        ...common,
        REPORT_FONT_FILE: `/var/task/${CHART_FONT}`,
        REPORT_LINK_BASE_URL: reportLinkUrl.url,
        SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
      },
    });
    sendReport.useSecret('reportLinkKey', linkKey);
    const notifyFailure = new AuditFunction(this, 'NotifyFailure', {
      name: 'notify-failure',
      description:
        "records a failed run or a finished audit's failed delivery, emails the failure notice, releases the lease",
      timeout: Duration.minutes(1),
      // The status-change rule invokes it asynchronously: events it could not take end in the dead-letter queue.
      deadLetterQueue: deadLetters,
      // The failure notice is built by the report module, which loads the chart renderer.
      ...CHART_RENDERING,
      environment: {
        ...common,
        REPORT_FONT_FILE: `/var/task/${CHART_FONT}`,
        SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
      },
    });
    // The borrower-reference key, to the steps that turn borrower ids into references only.
    for (const step of [mergeAudit, mergeScores, finalize]) step.useSecret('borrowerRefKey', borrowerRefKey);

    this.data.grantReadTapes(prepare.role);
    this.data.grantReadRuns(prepare.role);
    this.data.grantWriteRuns(prepare.role);
    riskTable.grantReadWriteData(prepare.role);

    this.data.grantReadTapes(scoreShard.role);
    this.data.grantReadRuns(scoreShard.role);
    this.data.grantWriteRuns(scoreShard.role);
    riskTable.grantReadData(scoreShard.role);

    // merge-audit streams the split tape parts for their digests; it touches no table.
    this.data.grantReadTapes(mergeAudit.role);
    this.data.grantReadRuns(mergeAudit.role);
    this.data.grantWriteRuns(mergeAudit.role);

    this.data.grantReadRuns(mergeScores.role);
    this.data.grantWriteRuns(mergeScores.role);
    riskTable.grantReadWriteData(mergeScores.role);

    this.data.grantReadRuns(finalize.role);
    this.data.grantWriteRuns(finalize.role);
    this.data.grantDeletePartials(finalize.role);
    riskTable.grantReadWriteData(finalize.role);

    this.data.grantReadRuns(sendReport.role);
    this.data.grantWriteRuns(sendReport.role);
    riskTable.grantReadData(sendReport.role);

    // It reads the failure-notice marker beside a run (one notice per run) and writes it.
    this.data.grantReadRuns(notifyFailure.role);
    this.data.grantWriteRuns(notifyFailure.role);
    riskTable.grantReadWriteData(notifyFailure.role);

    this.grantSendEmail(s, mail, [sendReport.role, notifyFailure.role]);

    this.workflow = new AuditWorkflow(this, 'Workflow', {
      prepare: { fn: prepare.function, timeout: prepare.timeout },
      scoreShard: { fn: scoreShard.function, timeout: scoreShard.timeout },
      mergeAudit: { fn: mergeAudit.function, timeout: mergeAudit.timeout },
      mergeScores: { fn: mergeScores.function, timeout: mergeScores.timeout },
      finalize: { fn: finalize.function, timeout: finalize.timeout },
      sendReport: { fn: sendReport.function, timeout: sendReport.timeout },
      notifyFailure: { fn: notifyFailure.function, timeout: notifyFailure.timeout },
      mapMaxConcurrency: s.mapMaxConcurrency,
      runTimeout: RUN_TIMEOUT,
      dataBucketName: bucket.bucketName,
    });
    const stateMachine = this.workflow.stateMachine;

    // Every ending is recorded: an execution that timed out, was aborted or failed outside the
    // workflow's own catch sends no notice from inside; its status-change event does (notify-failure
    // skips the runs its in-workflow call already recorded and notified).
    new events.Rule(this, 'RunEnded', {
      description: 'records and notifies audit executions that ended failed, timed out or aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...UNCAUGHT_END_STATUSES],
          stateMachineArn: [stateMachine.stateMachineArn],
        },
      },
      targets: [
        new eventTargets.LambdaFunction(notifyFailure.function, {
          deadLetterQueue: deadLetters,
          retryAttempts: 10,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });

    const startAudit = new AuditFunction(this, 'StartAudit', {
      name: 'start-audit',
      description: 'starts the audit of one date on demand ({"snapshotDate": "YYYY-MM-DD"}), once per date',
      timeout: Duration.seconds(30),
      environment: {
        BUCKET_NAME: bucket.bucketName,
        TABLE_NAME: riskTable.tableName,
        TIMEZONE: s.timezone,
        STATE_MACHINE_ARN: stateMachine.stateMachineArn,
        IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
      },
      deadLetterQueue: deadLetters,
    });
    stateMachine.grantStartExecution(startAudit.role);
    idempotencyTable.grantReadWriteData(startAudit.role);
    new CfnOutput(this, 'StartAuditFunctionName', {
      value: startAudit.function.functionName,
      description: 'invoke with {"snapshotDate": "YYYY-MM-DD"} to audit one date',
    });

    // SES's bounce, complaint and reject events become metrics the mail alarms watch.
    const recordMailEvent = new AuditFunction(this, 'RecordMailEvent', {
      name: 'record-mail-event',
      description: 'counts the bounces, complaints and rejects SES reports for the audit emails',
      timeout: Duration.seconds(30),
      memorySize: 256,
      // SNS invokes it asynchronously: events it could not take end in the dead-letter queue.
      deadLetterQueue: deadLetters,
    });
    mail.events.addSubscription(new subscriptions.LambdaSubscription(recordMailEvent.function));

    this.functions = {
      'prepare-run': prepare,
      'score-shard': scoreShard,
      'merge-audit': mergeAudit,
      'merge-scores': mergeScores,
      'finalize-audit': finalize,
      'send-report': sendReport,
      'notify-failure': notifyFailure,
      'start-audit': startAudit,
      'report-link': reportLink,
      'record-mail-event': recordMailEvent,
    };

    new scheduler.Schedule(this, 'NightlySchedule', {
      description: `nightly audit of the previous day's tape (${s.timezone})`,
      schedule: scheduler.ScheduleExpression.expression(s.scheduleCron, TimeZone.of(s.timezone)),
      enabled: s.scheduleEnabled,
      target: new schedulerTargets.StepFunctionsStartExecution(stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({
          trigger: 'schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        deadLetterQueue: deadLetters,
        retryAttempts: 10,
        maxEventAge: Duration.hours(2),
      }),
    });

    if (s.s3Trigger) {
      new events.Rule(this, 'TapeArrival', {
        description: `starts an audit when a tape lands under ${PREFIXES.tapes}`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [bucket.bucketName] },
            object: {
              key:
                s.s3TriggerSuffix === undefined
                  ? [{ prefix: PREFIXES.tapes }]
                  : [{ wildcard: `${PREFIXES.tapes}*${s.s3TriggerSuffix}` }],
            },
          },
        },
        targets: [
          new eventTargets.SfnStateMachine(stateMachine, {
            input: events.RuleTargetInput.fromObject({
              trigger: 's3-arrival',
              objectKey: events.EventField.fromPath('$.detail.object.key'),
            }),
            deadLetterQueue: deadLetters,
            retryAttempts: 10,
            maxEventAge: Duration.hours(2),
          }),
        ],
      });
    }

    new AuditAlarms(this, 'Alarms', {
      stateMachine,
      functions: Object.fromEntries(Object.entries(this.functions).map(([k, f]) => [k, f.function])),
      deadLetterQueue: deadLetters,
      // A day plus two hours of slack: the nightly run may start late or take a while.
      ...(s.scheduleEnabled ? { expectSuccessWithin: Duration.hours(26) } : {}),
      alarmEmails: s.alarmEmails,
    });

    new CfnOutput(this, 'TableName', { value: riskTable.tableName, description: 'risk table' });
    acknowledgeWildcardGrants(this);
  }

  /**
   * A generated secret key, retained when the stack is deleted or the secret replaced (the data
   * it protects outlives the stack: the tables and bucket are retained too), without automatic
   * rotation (cdk-nag's SMG4 acknowledged with `reason`).
   */
  private retainedKey(id: string, description: string, reason: string): secretsmanager.Secret {
    const key = new secretsmanager.Secret(this, id, {
      description,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(key).acknowledge({ id: 'AwsSolutions-SMG4', reason });
    return key;
  }

  // SES authorises SendEmail on the sender's identity, the configuration set and, in the sandbox,
  // each recipient's identity.
  private grantSendEmail(s: ResolvedSettings, mail: MailDelivery, grantees: iam.IGrantable[]): void {
    const domain = s.sender.slice(s.sender.indexOf('@') + 1);
    if (s.senderIdentity !== 'none') {
      const identity = new ses.EmailIdentity(this, 'SenderIdentity', {
        identity: s.senderIdentity === 'domain' ? ses.Identity.domain(domain) : ses.Identity.email(s.sender),
        configurationSet: mail.configurationSet,
        ...(s.senderIdentity === 'domain'
          ? { dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT) }
          : {}),
      });
      if (s.senderIdentity === 'domain') {
        // The three CNAME records that verify the domain and let SES sign with DKIM.
        identity.dkimRecords.forEach((record, i) => {
          new CfnOutput(this, `DkimRecord${i + 1}`, {
            value: `${record.name} CNAME ${record.value}`,
            description: `DKIM record ${i + 1} of 3 to publish in the DNS of ${domain}`,
          });
        });
      }
    }
    const identityArn = (name: string): string =>
      `arn:${Aws.PARTITION}:ses:${this.region}:${this.account}:identity/${name}`;
    const configurationSetArn = `arn:${Aws.PARTITION}:ses:${this.region}:${this.account}:configuration-set/${mail.configurationSet.configurationSetName}`;
    const names = [...new Set([s.sender, domain, ...s.recipients])];
    for (const grantee of grantees) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resourceArns: [...names.map(identityArn), configurationSetArn],
      });
    }
  }
}
