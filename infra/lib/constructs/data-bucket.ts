import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { KEYS, PREFIXES } from '../../../shared/schema/tables.ts';

/** Properties of the data bucket. */
export interface DataBucketProps {
  /** Days run outputs (audit, quarantine, scores, reports, partials) are kept under `runs/`. */
  readonly runRetentionDays: number;
  /** Days the tapes under `snapshots/` are kept. */
  readonly tapeRetentionDays: number;
  /**
   * Days the server access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * Send S3 events to EventBridge (needed by the tape-arrival trigger).
   * @default false
   */
  readonly eventBridgeEnabled?: boolean;
}

const TAPES = PREFIXES.tapes;
const RUNS = PREFIXES.runs;

/**
 * The bucket holding tapes (`snapshots/`), run outputs (`runs/`) and report archives, with its
 * access-log bucket, lifecycle rules and prefix-scoped grants (exact actions, no wildcards).
 */
export class DataBucket extends Construct {
  /** The data bucket. */
  public readonly bucket: s3.Bucket;
  /** Bucket receiving the data bucket's server access logs. */
  public readonly logBucket: s3.Bucket;

  public constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    // Access logs are granted by bucket policy (not the LogDeliveryWrite ACL, which needs ACLs on):
    // pinned here so the construct does not depend on the app's feature flags.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 90) }],
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'this bucket is the access-log destination itself; logging it would recurse',
    });

    const runs = props.runRetentionDays;
    const tapes = props.tapeRetentionDays;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3: no per-request KMS charges on tapes read in parallel by hundreds of shards.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Bucket declares `isWebsite` as `boolean | undefined`, which exactOptionalPropertyTypes rejects as IBucket.
      serverAccessLogsBucket: this.logBucket as s3.IBucket as never,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'tapes',
          prefix: TAPES,
          expiration: Duration.days(tapes),
          transitions: [
            ...(tapes > 60
              ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }]
              : []),
            ...(tapes > 180
              ? [
                  {
                    storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transitionAfter: Duration.days(90),
                  },
                ]
              : []),
          ],
        },
        {
          id: 'runs',
          prefix: RUNS,
          expiration: Duration.days(runs),
          transitions:
            runs > 60
              ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }]
              : [],
        },
        {
          id: 'old-versions',
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(2),
        },
        { id: 'delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    if (props.eventBridgeEnabled === true) {
      // Set on the L1 resource: the L2 `eventBridgeEnabled` adds a notifications custom-resource Lambda.
      const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
      cfn.addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    }
    new CfnOutput(scope, 'BucketName', {
      value: this.bucket.bucketName,
      description: 'data bucket (tapes and run outputs)',
    });
  }

  /** ARN pattern of the objects under a key prefix. */
  public objectsArn(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  /** Lets the grantee list and read the tapes under `snapshots/`. */
  public grantReadTapes(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadPrefix(grantee, TAPES);
  }

  /** Lets the grantee list and read run outputs under `runs/` (previous audits, partials, reports). */
  public grantReadRuns(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadPrefix(grantee, RUNS);
  }

  /** Lets the grantee write run outputs under `runs/` (multipart uploads included). */
  public grantWriteRuns(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [this.objectsArn(RUNS)],
    });
  }

  /**
   * Lets the grantee delete the shard partials of a run once they are merged, and the score files
   * of a date's earlier run once a re-run's files replace them.
   */
  public grantDeletePartials(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      resourceArns: [this.objectsArn(KEYS.partialsPrefix('*')), this.objectsArn(KEYS.scoresPrefix('*'))],
    });
  }

  private grantReadPrefix(grantee: iam.IGrantable, prefix: string): iam.Grant {
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    });
    return list.combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject'],
        resourceArns: [this.objectsArn(prefix)],
      }),
    );
  }
}
