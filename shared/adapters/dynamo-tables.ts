/**
 * Creates the DynamoDB tables of shared/schema/tables.ts on an endpoint that has none (the
 * embedded DynamoDB Local); on AWS the CDK stack creates them from the same definitions.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { KeyAttribute, TableDefinition } from '../schema/tables.ts';

function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
  if (sortKey) schema.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
  return schema;
}

function attributeDefinitions(def: TableDefinition): AttributeDefinition[] {
  const seen = new Map<string, 'S' | 'N'>();
  const add = (a: KeyAttribute | undefined): void => {
    if (a) seen.set(a.name, a.type);
  };
  add(def.partitionKey);
  add(def.sortKey);
  for (const gsi of def.globalSecondaryIndexes) {
    add(gsi.partitionKey);
    add(gsi.sortKey);
  }
  return [...seen].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Creates each table (on-demand, its GSIs projecting all attributes, TTL on) unless it exists; returns the names created. */
export async function ensureTables(
  client: DynamoDBClient,
  tables: readonly TableDefinition[],
  nameOf: (def: TableDefinition) => string = (def) => def.localName,
): Promise<string[]> {
  const created: string[] = [];
  for (const def of tables) {
    const tableName = nameOf(def);
    if (!(await tableExists(client, tableName))) {
      const gsis: GlobalSecondaryIndex[] = def.globalSecondaryIndexes.map((gsi) => ({
        IndexName: gsi.indexName,
        KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
        Projection: { ProjectionType: 'ALL' },
      }));
      try {
        await client.send(
          new CreateTableCommand({
            TableName: tableName,
            BillingMode: 'PAY_PER_REQUEST',
            KeySchema: keySchema(def.partitionKey, def.sortKey),
            AttributeDefinitions: attributeDefinitions(def),
            ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
          }),
        );
        created.push(tableName);
      } catch (error) {
        // Another process created it between our describe and create: that is the state we want.
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
    if (def.timeToLiveAttribute !== undefined) {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
      if (status !== 'ENABLED' && status !== 'ENABLING') {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
          }),
        );
      }
    }
  }
  return created;
}
