import { Aspects, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
// cdk-nag's own flattening, so the acknowledged ids are exactly the ids its IAM5 rule reports.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';
import { KEYS, PREFIXES } from '../../shared/schema/tables.ts';

/** One kind of wildcard resource the stack grants on purpose, with the reason cdk-nag records. */
export interface WildcardAllowance {
  /** Matches the flattened resource (`<LogicalId.Arn>/snapshots/*`, `*`, ...). */
  readonly resource: RegExp;
  /**
   * Every action of the statement must match one of these for the allowance to apply.
   * @default - any action
   */
  readonly actions?: readonly RegExp[];
  /** Why the wildcard is needed (kept in the validation report). */
  readonly reason: string;
}

/** Matches a flattened object ARN of the data bucket with this key pattern (`*` a wildcard segment). */
function objectsOfBucket(...patterns: string[]): RegExp {
  const escaped = patterns.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^<\\w+\\.Arn>\\/(${escaped.join('|')})$`);
}

/** The wildcard resources this stack needs; anything else stays a cdk-nag error. */
export const WILDCARD_ALLOWANCES: readonly WildcardAllowance[] = [
  {
    resource: objectsOfBucket(`${PREFIXES.tapes}*`, `${PREFIXES.runs}*`),
    actions: [/^s3:(GetObject|PutObject|AbortMultipartUpload)$/],
    reason:
      'object permissions are scoped to one key prefix; the objects under it need the trailing wildcard',
  },
  {
    // CDK's grant for a Distributed Map's S3 ItemReader and ResultWriter names the bucket by name.
    resource: /^arn:(<AWS::Partition>|[\w-]+):s3:::<\w+>\/\*$/,
    actions: [/^s3:(GetObject|PutObject|ListMultipartUploadParts|AbortMultipartUpload)$/],
    reason:
      "the state machine's Distributed Maps read their items file and export their results in the data bucket, under keys that carry the date and run id",
  },
  {
    resource: objectsOfBucket(KEYS.reportHtml('*')),
    actions: [/^s3:GetObject$/],
    reason: "the report-link function reads only runs' report pages, whose keys carry the date",
  },
  {
    resource: objectsOfBucket(`${KEYS.partialsPrefix('*')}*`),
    actions: [/^s3:DeleteObject$/],
    reason: 'finalize deletes only shard partials, whose keys carry the date and run id',
  },
  {
    resource: objectsOfBucket(`${KEYS.scoresPrefix('*')}*`),
    actions: [/^s3:DeleteObject$/],
    reason:
      "finalize deletes only a date's score files of the run its re-run replaced (keys carry the date and run id)",
  },
  {
    resource: /^<\w+\.Arn>\/index\/\*$/,
    actions: [/^dynamodb:\w+$/],
    reason: "the table grant covers the table's own global secondary indexes",
  },
  {
    resource: /^<\w+\.Arn>:\*$/,
    actions: [/^lambda:InvokeFunction$/],
    reason: 'Step Functions may invoke any version or alias of the audit functions it owns',
  },
  {
    // Partition, region and account may be literals or pseudo-parameter tokens, depending on flags and env.
    resource:
      /^arn:(<AWS::Partition>|[\w-]+):states:(<AWS::Region>|[\w-]*):(<AWS::AccountId>|\d*):execution:.+:\*$/,
    actions: [/^states:(DescribeExecution|StopExecution|RedriveExecution)$/],
    reason: 'the Distributed Map describes and stops the child executions of its own state machine',
  },
  {
    resource: /^\*$/,
    actions: [
      /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)$/,
      /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries)$/,
      /^logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/,
    ],
    reason: 'X-Ray and CloudWatch Logs delivery actions support no resource-level permissions',
  },
];

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** The AwsSolutions-IAM5 finding ids of a policy document that the allowances cover. */
export function allowedWildcardFindings(
  document: { Statement?: Statement[] },
  allowances: readonly WildcardAllowance[] = WILDCARD_ALLOWANCES,
): { id: string; reason: string }[] {
  const out = new Map<string, string>();
  for (const st of document.Statement ?? []) {
    if (st.Effect !== 'Allow') continue;
    const actions = asArray(st.Action);
    if (actions.some((a) => a.includes('*'))) continue; // wildcard actions are never acknowledged
    for (const raw of asArray(st.Resource)) {
      const resource = flattenCfnReference(raw);
      if (!resource.includes('*')) continue;
      const allowance = allowances.find(
        (a) =>
          a.resource.test(resource) &&
          (a.actions === undefined || actions.every((action) => a.actions?.some((p) => p.test(action)))),
      );
      if (allowance !== undefined) out.set(`AwsSolutions-IAM5[Resource::${resource}]`, allowance.reason);
    }
  }
  return [...out].map(([id, reason]) => ({ id, reason }));
}

class AcknowledgeAllowedWildcards implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
    for (const finding of allowedWildcardFindings(document)) Validations.of(node).acknowledge(finding);
  }
}

/**
 * Acknowledges the cdk-nag IAM5 findings that prefix-scoped grants necessarily produce (see
 * WILDCARD_ALLOWANCES), statement by statement, after every grant of the stack is in place.
 */
export function acknowledgeWildcardGrants(stack: Stack): void {
  Aspects.of(stack).add(new AcknowledgeAllowedWildcards());
}
