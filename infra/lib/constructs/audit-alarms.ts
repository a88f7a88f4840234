import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './audit-function.ts';

/** Most metrics one metric-math alarm may use (CloudWatch's limit). */
const MATH_ALARM_METRICS = 10;
/** Name of the metric prepare-run emits (value 1, unit Count) when the tape is missing at run time. */
export const TAPE_MISSING_METRIC = 'TapeMissing';

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
   * Address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
}

/**
 * CloudWatch alarms on the audit (failed or timed-out runs, tape missing by the cutoff, a run
 * much slower than its recent norm, no successful run for a day, Lambda errors, undelivered
 * triggers), all sent to one encrypted SNS topic.
 */
export class AuditAlarms extends Construct {
  /** Topic every alarm notifies. */
  public readonly topic: sns.Topic;
  /** Alarms by construct id. */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};

  public constructor(scope: Construct, id: string, props: AuditAlarmsProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic under the AWS managed SNS key: a customer key it may use.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'encrypts the risk-audit alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'risk-audit alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
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
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: TAPE_MISSING_METRIC,
        dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
        period: fiveMinutes,
        statistic: cloudwatch.Stats.SUM,
      }),
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

    // A metric-math alarm may use at most 10 metrics: the functions' errors are summed in groups
    // of 10, one alarm per group (FunctionErrors, FunctionErrors2, ...).
    const errorMetrics = Object.entries(props.functions).map(
      ([name, fn]) =>
        [`e_${name.replace(/[^A-Za-z0-9]/g, '_')}`, fn.metricErrors({ period: fiveMinutes })] as const,
    );
    for (let group = 0; group * MATH_ALARM_METRICS < errorMetrics.length; group++) {
      const metrics = Object.fromEntries(
        errorMetrics.slice(group * MATH_ALARM_METRICS, (group + 1) * MATH_ALARM_METRICS),
      );
      this.add(group === 0 ? 'FunctionErrors' : `FunctionErrors${group + 1}`, {
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(metrics)
            .map((m) => `FILL(${m}, 0)`)
            .join(' + '),
          usingMetrics: metrics,
          period: fiveMinutes,
          label: 'errors of the audit functions',
        }),
        threshold: 1,
        alarmDescription: 'an audit Lambda function raised an error',
      });
    }

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
