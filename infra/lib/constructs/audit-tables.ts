import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from '../../../shared/schema/tables.ts';

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

/** Properties of one table built from its shared definition. */
export interface DefinedTableProps {
  /** Keys, indexes and TTL attribute, shared with the embedded local stack. */
  readonly definition: TableDefinition;
  /**
   * Refuse deletion of the table (also through CloudFormation).
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * An on-demand DynamoDB table built from a definition in shared/schema/tables.ts, with
 * point-in-time recovery, encryption at rest under the AWS managed key and TTL.
 */
export class DefinedTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: DefinedTableProps) {
    super(scope, id);
    const d = props.definition;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(d.partitionKey),
      ...(d.sortKey === undefined ? {} : { sortKey: attribute(d.sortKey) }),
      ...(d.timeToLiveAttribute === undefined ? {} : { timeToLiveAttribute: d.timeToLiveAttribute }),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of d.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey === undefined ? {} : { sortKey: attribute(index.sortKey) }),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
