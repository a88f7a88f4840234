import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/**
 * Errors worth retrying: the Lambda service itself failed or throttled. Errors thrown by our
 * handlers (TapeMissingError, TapeUnreadableError, RunInProgressError, ...) are never retried.
 */
export const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * Errors of the report step worth retrying: SES throttled or failed for a while (after the SDK's
 * own retries), which a later attempt may get through. A refused message (unverified sender,
 * sandbox, rejected content) is not retried: it is recorded as a failed delivery at once.
 */
export const TRANSIENT_DELIVERY_ERRORS = ['MailDeliveryDelayedError'] as const;

/** A Distributed Map that states `ToleratedFailureCount: 0` (CDK leaves a zero out of the ASL). */
class StrictDistributedMap extends sfn.DistributedMap {
  public override toStateJson(topLevelQueryLanguage?: sfn.QueryLanguage): object {
    return { ...super.toStateJson(topLevelQueryLanguage), ToleratedFailureCount: 0 };
  }
}

/** One step's function with the Lambda timeout its task timeout is derived from. */
export interface WorkflowStep {
  readonly fn: lambda.IFunction;
  readonly timeout: Duration;
}

/** Properties of the audit workflow. */
export interface AuditWorkflowProps {
  /** Resolves the date's tape parts, checks the cutoff, takes the lease, plans the shards. */
  readonly prepare: WorkflowStep;
  /** Streams, validates and scores one shard, writing its partial result to S3. */
  readonly scoreShard: WorkflowStep;
  /** Merges the shards' partials into the audit's figures and plans the loan-id buckets. */
  readonly mergeAudit: WorkflowStep;
  /** Merges one loan-id bucket of the shards' score files with the previous date's. */
  readonly mergeScores: WorkflowStep;
  /** Combines the buckets' results with the audit, writes the outputs, stores the run, releases the lease. */
  readonly finalize: WorkflowStep;
  /** Renders, archives and sends the report. */
  readonly sendReport: WorkflowStep;
  /**
   * Records the failed run, sends the failure notice and releases the lease; records a finished
   * audit's failed delivery (no notice); records executions that ended outside the workflow's
   * own catch (their status-change events).
   */
  readonly notifyFailure: WorkflowStep;
  /** Name of the data bucket: the maps read their items from it and export their results to it. */
  readonly dataBucketName: string;
  /** Most child executions each Distributed Map (shards, then buckets) runs at once. */
  readonly mapMaxConcurrency: number;
  /**
   * Longest a whole run may take (the lease taken by prepare must outlive it).
   * @default Duration.hours(4)
   */
  readonly runTimeout?: Duration;
  /**
   * Days the execution log group keeps its events.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The audit workflow on Step Functions:
 * Prepare -> ScoreShards (Distributed Map over the plan's shards file) -> MergeAudit -> MergeScores
 * (Distributed Map over the merge's buckets file) -> Finalize -> SendReport, with a Catch on every
 * step up to Finalize that runs NotifyFailure and then fails the execution with the original error.
 * The merge is split in two (the audit's figures once, the loans' scores per loan-id bucket) so
 * that a book of 100M loans fits Lambda's 15 minutes. The state never grows with the tape: both
 * maps read their items from S3 (ItemReader) and export their results to S3 (ResultWriter), and
 * the steps after them read the results there. State passed along (JSONPath, shapes of
 * shared/use-cases/workflow-types.ts):
 * - an S3-arrival input `{ trigger: 's3-arrival', objectKey }` is first turned into
 *   `{ snapshotDate, trigger }` (the date is the key's second segment, `snapshots/<date>/...`);
 * - Prepare gets `{ start, execution }` (PrepareEvent: the start event and the execution's name
 *   and start time, from which the run id derives); its RunPlan goes to `$.plan`;
 * - each shard gets its ShardSpec (an item of `$.plan.shardsKey`); the map's exported results
 *   (`{ MapRunArn, ResultWriterDetails }`) go to `$.shardResults` (a shard that fails after its
 *   retries yields `{ failed: true, index, error }` instead of its ShardResult);
 * - MergeAudit gets `{ plan, shardResults }` (MergeEvent) once every shard has finished; a failed
 *   shard makes it fail the run with that shard's sentence (to NotifyFailure); its MergedRun goes to `$.merged`;
 *   when shards hold loan ids an earlier shard had, it returns `{ settle }` instead: ScoreRepeatsAgain
 *   merges it into `$.plan` (the shards to score again, with those ids) and ScoreShards runs once more;
 * - each bucket (task MergeBucket) gets its BucketSpec (an item of `$.merged.bucketsKey`); the
 *   exported results go to `$.bucketResults` (a failed bucket yields `{ failed: true, bucket, error }`,
 *   and Finalize fails the run with it, as MergeAudit does for a shard);
 * - Finalize gets `{ plan, merged, bucketResults }` (FinalizeEvent); its RunOutcome goes to `$.outcome`;
 * - SendReport gets `$.outcome`; its result is dropped. The audit is finished by then: transient
 *   send errors are retried, and a report that still cannot be sent goes to DeliveryFailed
 *   (`{ deliveryFailed: { outcome, error } }`: the run record notes it, the alarm fires, the next
 *   report says so), never to the failure notice; the execution succeeds;
 * - on failure the error (`{ Error, Cause }`) goes to `$.error`, the execution's name and start
 *   time to `$.execution`, and NotifyFailure gets the whole state (FailureEvent); `$.plan` is
 *   absent when Prepare itself failed. An execution that ends outside these catches (timed out,
 *   aborted, a quota error no Catch takes) is recorded from its status-change event instead.
 */
export class AuditWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Log group of the executions. */
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: AuditWorkflowProps) {
    super(scope, id);

    // Direct integration (payloadResponseOnly): the function gets the state's input after InputPath,
    // or an object payload. A JSONPath payload (TaskInput.fromJsonPathAt) would render an invalid
    // string `Parameters` with this integration (aws/aws-cdk#34260), so paths go in `inputPath`.
    const invoke = (stateId: string, step: WorkflowStep, options: Partial<tasks.LambdaInvokeProps>) => {
      const task = new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: step.fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        // The Lambda timeout ends the invocation; the task timeout is only a backstop above it.
        taskTimeout: sfn.Timeout.duration(step.timeout.plus(Duration.seconds(30))),
        ...options,
      });
      task.addRetry({
        errors: [...TRANSIENT_LAMBDA_ERRORS],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 5,
        maxDelay: Duration.seconds(60),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    // The execution names the run (runIdFor): its name and start time travel with every failure.
    const executionRef = {
      name: sfn.JsonPath.stringAt('$$.Execution.Name'),
      startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    };
    const nameRun = new sfn.Pass(this, 'FailedExecution', {
      parameters: executionRef,
      resultPath: '$.execution',
    });
    const notify = invoke('NotifyFailure', props.notifyFailure, { resultPath: sfn.JsonPath.DISCARD });
    const failed = new sfn.Fail(this, 'AuditFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    // A failing notice still fails the run with the original error, never a success.
    notify.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    const onFailure = nameRun.next(notify).next(failed);
    const catchAll = { errors: [sfn.Errors.ALL], resultPath: '$.error' };
    const data = s3.Bucket.fromBucketName(this, 'DataBucket', props.dataBucketName);

    // Another run of the same date holds its lease (a duplicate schedule delivery, a second part
    // landing): this execution ends quietly, no failure notice, no failed-run alarm.
    const alreadyRunning = new sfn.Succeed(this, 'AlreadyRunning', {
      comment: 'another run of this date holds the lease',
    });
    const prepare = invoke('Prepare', props.prepare, {
      payload: sfn.TaskInput.fromObject({ start: sfn.JsonPath.entirePayload, execution: executionRef }),
      resultPath: '$.plan',
    })
      .addCatch(alreadyRunning, { errors: ['RunInProgressError'], resultPath: '$.error' })
      .addCatch(onFailure, catchAll);

    // A failed item becomes a value carrying its error, so the map waits for every item and the
    // failure notice can quote the item's own sentence (a failed Distributed Map only reports
    // ExceedToleratedFailureThreshold). The step after the map sees every result and fails the
    // run with the first failed item's error (no JSONata "did any item fail?" check in the
    // definition: the local engine runs JSONPath only, and the step reads the results anyway).
    const fanOut = (o: {
      mapId: string;
      taskId: string;
      step: WorkflowStep;
      failedId: string;
      /** Field of the item that names it in the failed value (`index`, `bucket`). */
      itemKey: string;
      /** Path of the items file's key (a JSON array in the data bucket). */
      itemsKeyPath: string;
      /** Top-level field the map's results go to. */
      resultField: string;
    }) => {
      const task = invoke(o.taskId, o.step, {});
      const itemFailed = new sfn.Pass(this, o.failedId, {
        parameters: {
          failed: true,
          [o.itemKey]: sfn.JsonPath.numberAt(`$.${o.itemKey}`),
          error: sfn.JsonPath.objectAt('$.error'),
        },
      });
      task.addCatch(itemFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      const map = new StrictDistributedMap(this, o.mapId, {
        // Items from S3 and results to S3: neither the list nor the results pass through the state.
        itemReader: new sfn.S3JsonItemReader({
          bucket: data,
          key: sfn.JsonPath.stringAt(o.itemsKeyPath),
        }),
        resultWriterV2: new sfn.ResultWriterV2({
          bucket: data,
          prefix: sfn.JsonPath.stringAt('$.plan.resultsPrefix'),
        }),
        maxConcurrency: props.mapMaxConcurrency,
        // Anything failing outside the item's own catch fails the map run: no item is ever lost.
        mapExecutionType: sfn.StateMachineType.STANDARD,
        label: o.mapId,
        resultPath: `$.${o.resultField}`,
      });
      map.itemProcessor(task);
      map.addCatch(onFailure, catchAll);
      return map;
    };

    const shards = fanOut({
      mapId: 'ScoreShards',
      taskId: 'ScoreShard',
      step: props.scoreShard,
      failedId: 'ShardFailed',
      itemKey: 'index',
      itemsKeyPath: '$.plan.shardsKey',
      resultField: 'shardResults',
    });

    const mergeAudit = invoke('MergeAudit', props.mergeAudit, {
      payload: sfn.TaskInput.fromObject({
        plan: sfn.JsonPath.objectAt('$.plan'),
        shardResults: sfn.JsonPath.objectAt('$.shardResults'),
      }),
      resultPath: '$.merged',
    }).addCatch(onFailure, catchAll);

    // Loan ids an earlier shard already held (a part delivered twice, a re-export appended): no
    // shard could see them. MergeAudit names the shards holding them; those alone are scored
    // again, given those ids, and MergeAudit runs once more, with every row as one pass has it.
    // Its second run never asks again (it fails the run instead), so the loop runs at most once.
    const settle = new sfn.Pass(this, 'ScoreRepeatsAgain', {
      comment: 'the plan names the shards to score again, with the loan ids earlier shards held',
      parameters: {
        plan: sfn.JsonPath.jsonMerge(
          sfn.JsonPath.objectAt('$.plan'),
          sfn.JsonPath.objectAt('$.merged.settle'),
        ),
      },
    });

    const buckets = fanOut({
      mapId: 'MergeScores',
      taskId: 'MergeBucket',
      step: props.mergeScores,
      failedId: 'BucketFailed',
      itemKey: 'bucket',
      itemsKeyPath: '$.merged.bucketsKey',
      resultField: 'bucketResults',
    });

    const finalize = invoke('Finalize', props.finalize, {
      payload: sfn.TaskInput.fromObject({
        plan: sfn.JsonPath.objectAt('$.plan'),
        merged: sfn.JsonPath.objectAt('$.merged'),
        bucketResults: sfn.JsonPath.objectAt('$.bucketResults'),
      }),
      resultPath: '$.outcome',
    }).addCatch(onFailure, catchAll);

    const done = new sfn.Succeed(this, 'AuditDone');
    // The audit is stored by now: a report that cannot be sent is a failed delivery of a good
    // audit (recorded, alarmed, named in the next report), never a failed audit.
    const deliveryFailed = invoke('DeliveryFailed', props.notifyFailure, {
      payload: sfn.TaskInput.fromObject({
        deliveryFailed: {
          outcome: sfn.JsonPath.objectAt('$.outcome'),
          error: sfn.JsonPath.objectAt('$.error'),
        },
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    const sendReport = invoke('SendReport', props.sendReport, {
      inputPath: '$.outcome',
      resultPath: sfn.JsonPath.DISCARD,
    });
    sendReport.addRetry({
      errors: [...TRANSIENT_DELIVERY_ERRORS],
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: sfn.JitterType.FULL,
    });
    sendReport.addCatch(deliveryFailed.next(done), catchAll);

    // S3-arrival events carry an object key, not a date: derive the date before Prepare.
    const fromArrival = new sfn.Pass(this, 'DateFromObjectKey', {
      parameters: {
        snapshotDate: sfn.JsonPath.arrayGetItem(
          sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.objectKey'), '/'),
          1,
        ),
        trigger: 's3-arrival',
      },
    });
    const start = new sfn.Choice(this, 'StartedBy')
      .when(sfn.Condition.isPresent('$.objectKey'), fromArrival.next(prepare))
      .otherwise(prepare);

    const repeats = new sfn.Choice(this, 'RepeatsAcrossShards')
      .when(sfn.Condition.isPresent('$.merged.settle'), settle.next(shards))
      .otherwise(buckets);
    prepare.next(shards).next(mergeAudit).next(repeats);
    buckets.next(finalize);
    finalize.next(sendReport).next(done);
    const definition = start;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The vendedlogs prefix keeps the account's log resource policy from growing per state machine.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-audit-workflow`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'nightly and on-demand loan book audit',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.runTimeout ?? Duration.hours(4),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        // Execution data stays out of the logs: errors may quote tape content.
        includeExecutionData: false,
      },
    });
    new CfnOutput(scope, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'audit workflow state machine',
    });
  }
}
