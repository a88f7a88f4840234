import { Aws, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../../../shared/schema/metrics.ts';
import { serviceTopic } from './service-topic.ts';

/** Most metrics one metric-math alarm may use (CloudWatch's limit). */
const MATH_ALARM_METRICS = 10;
/** Name of the metric prepare-run emits (value 1, unit Count) when the tape is missing at run time. */
export const TAPE_MISSING_METRIC = METRIC.tapeMissing;

/** Properties of the audit alarms. */
export interface AuditAlarmsProps {
  /** The audit workflow. */
  readonly stateMachine: sfn.IStateMachine;
  /** Functions whose errors are watched, by a short name used in the metric ids. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Dead-letter queue of the schedule, the arrival rule and asynchronous invocations. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Alarm when no run has succeeded for this long (the nightly run was missed or keeps failing).
   * @default - no such alarm (on-demand only deployments)
   */
  readonly expectSuccessWithin?: Duration;
  /**
   * Addresses subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmails?: readonly string[];
}

/** A custom metric of the functions (namespace RiskAudit, dimension service). */
function auditMetric(
  metricName: string,
  period: Duration,
  dimensions: Record<string, string> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME, ...dimensions },
    period,
    statistic: cloudwatch.Stats.SUM,
  });
}

/**
 * CloudWatch alarms on the audit (failed or timed-out runs, tape missing by the cutoff, a run
 * much slower than its recent norm, no successful run for a day, Lambda faults, undelivered
 * triggers, reports bounced, marked as spam or not delivered), all sent to one encrypted SNS topic whose policy
 * lets this account's alarms publish.
 */
export class AuditAlarms extends Construct {
  /** Topic every alarm notifies. */
  public readonly topic: sns.Topic;
  /** Alarms by construct id. */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};

  public constructor(scope: Construct, id: string, props: AuditAlarmsProps) {
    super(scope, id);

    this.topic = serviceTopic(
      this,
      { key: 'TopicKey', topic: 'Topic' },
      {
        displayName: 'risk-audit alarms',
        keyDescription: 'encrypts the risk-audit alarm topic',
        publisher: 'cloudwatch.amazonaws.com',
      },
    );
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default one: without
    // this statement CloudWatch may not publish, and no alarm would ever arrive. Only alarms of
    // this account and region may (aws:SourceAccount and aws:SourceArn against the confused deputy).
    const { account, region } = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    for (const address of props.alarmEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(address));
    }
    new CfnOutput(scope, 'AlarmTopicArn', { value: this.topic.topicArn, description: 'alarm notifications' });

    const sm = props.stateMachine;
    const fiveMinutes = Duration.minutes(5);
    this.add('RunFailed', {
      metric: sm.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      alarmDescription: 'an audit run failed (the failure notice was sent to the report recipients)',
    });
    this.add('RunTimedOut', {
      metric: sm.metricTimedOut({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      alarmDescription: 'an audit run hit the state machine timeout',
    });
    this.add('TapeMissing', {
      metric: auditMetric(TAPE_MISSING_METRIC, fiveMinutes),
      threshold: 1,
      alarmDescription: "the day's tape had not landed by the cutoff when the audit ran",
    });
    this.add('UndeliveredTriggers', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      alarmDescription:
        'a scheduled, arrival or on-demand start could not be delivered (see the dead-letter queue)',
    });

    if (props.expectSuccessWithin !== undefined) {
      const hours = Math.ceil(props.expectSuccessWithin.toHours({ integral: false }));
      const missed = new cloudwatch.Alarm(this, 'RunMissed', {
        metric: sm.metricSucceeded({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: hours,
        datapointsToAlarm: hours,
        // No datapoint at all is exactly the case: no run succeeded in the window.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `no audit run has succeeded for ${hours} hours`,
      });
      missed.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.RunMissed = missed;
    }

    // Faults only: Lambda's Errors of each function minus the expected outcomes its handler
    // counted (ExpectedErrors: a duplicate start, a missing tape, which the run alarms and the
    // failure notice already report). Timeouts, out-of-memory and init failures never reach the
    // handler, so they stay counted. A metric-math alarm may use at most 10 metrics: two per
    // function, so groups of 5, one alarm per group (FunctionErrors, FunctionErrors2, ...).
    const perAlarm = MATH_ALARM_METRICS / 2;
    const watched = Object.entries(props.functions).map(([name, fn]) => {
      const id = name.replace(/[^A-Za-z0-9]/g, '_');
      return {
        errors: [
          `e_${id}`,
          fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        ] as const,
        expected: [
          `x_${id}`,
          auditMetric(METRIC.expectedErrors, fiveMinutes, { FunctionName: fn.functionName }),
        ] as const,
      };
    });
    for (let group = 0; group * perAlarm < watched.length; group++) {
      const members = watched.slice(group * perAlarm, (group + 1) * perAlarm);
      const sum = (ids: string[]): string => ids.map((m) => `FILL(${m}, 0)`).join(' + ');
      this.add(group === 0 ? 'FunctionErrors' : `FunctionErrors${group + 1}`, {
        metric: new cloudwatch.MathExpression({
          expression: `(${sum(members.map((m) => m.errors[0]))}) - (${sum(members.map((m) => m.expected[0]))})`,
          usingMetrics: Object.fromEntries(members.flatMap((m) => [m.errors, m.expected])),
          period: fiveMinutes,
          label: 'faults of the audit functions (errors less expected outcomes)',
        }),
        threshold: 1,
        alarmDescription:
          'an audit Lambda function failed for a reason other than an expected outcome of the run',
      });
    }

    // Mail: SES's bounce, complaint and reject events, counted by record-mail-event.
    this.add('ReportBounced', {
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(bounced, 0) + FILL(rejected, 0)',
        usingMetrics: {
          bounced: auditMetric(METRIC.mailBounced, fiveMinutes),
          rejected: auditMetric(METRIC.mailRejected, fiveMinutes),
        },
        period: fiveMinutes,
        label: 'recipients whose server refused a report for good, and messages SES rejected',
      }),
      threshold: 1,
      alarmDescription:
        'a report or failure notice bounced for good or was rejected: fix the recipient (SES now suppresses the address)',
    });
    this.add('ReportNotDelivered', {
      metric: auditMetric(METRIC.reportNotDelivered, fiveMinutes),
      threshold: 1,
      alarmDescription:
        "a finished audit's report could not be sent (the audit and its run record stand; the report is archived beside the run and the next report names the failed delivery)",
    });
    this.add('ReportComplaint', {
      metric: auditMetric(METRIC.mailComplained, fiveMinutes),
      threshold: 1,
      alarmDescription:
        'a recipient marked a report or failure notice as spam (SES now suppresses the address; complaints put the account under review)',
    });

    const duration = new cloudwatch.AnomalyDetectionAlarm(this, 'RunDurationAnomaly', {
      metric: sm.metricTime({ period: Duration.hours(1), statistic: cloudwatch.Stats.MAXIMUM }),
      stdDevs: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'an audit run took far longer than its recent norm',
    });
    duration.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.RunDurationAnomaly = duration;
  }

  private add(
    id: string,
    props: { metric: cloudwatch.IMetric; threshold: number; alarmDescription: string },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms[id] = alarm;
  }
}
