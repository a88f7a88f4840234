import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { AuditAlarms } from '../../infra/lib/constructs/audit-alarms.ts';

/** The metric ids (e_...) of each Lambda-error alarm of a stack whose alarms watch `count` functions. */
function errorAlarmsFor(count: number): string[][] {
  const stack = new Stack(new App(), 'Alarms', {
    env: { account: '111111111111', region: 'ap-southeast-1' },
  });
  const functions = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `fn-${i}`,
      lambda.Function.fromFunctionName(stack, `Fn${i}`, `audit-fn-${i}`),
    ]),
  );
  new AuditAlarms(stack, 'Alarms', {
    stateMachine: new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
    }),
    functions,
    deadLetterQueue: new sqs.Queue(stack, 'Dead'),
  });
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
  return alarms
    .map((a) =>
      ((a.Properties.Metrics ?? []) as { Id: string }[]).map((m) => m.Id).filter((id) => id.startsWith('e_')),
    )
    .filter((ids) => ids.length > 0);
}

describe('Class: AuditAlarms (Lambda errors)', () => {
  it('sums up to 10 functions in one alarm', () => {
    const alarms = errorAlarmsFor(10);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toHaveLength(10);
  });

  it('splits more functions into alarms of at most 10 metrics each (CloudWatch refuses more), watching every one', () => {
    const alarms = errorAlarmsFor(23);
    expect(alarms.map((ids) => ids.length).sort((a, b) => a - b)).toEqual([3, 10, 10]);
    expect(new Set(alarms.flat())).toEqual(new Set(Array.from({ length: 23 }, (_, i) => `e_fn_${i}`)));
  });
});
