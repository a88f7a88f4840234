import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { AuditAlarms } from '../../infra/lib/constructs/audit-alarms.ts';

/** The metric ids (e_... and x_...) and expression of each fault alarm of a stack watching `count` functions. */
function faultAlarmsFor(count: number): { errors: string[]; expected: string[]; expression: string }[] {
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
    .map((a) => {
      const metrics = (a.Properties.Metrics ?? []) as { Id: string; Expression?: string }[];
      return {
        errors: metrics.map((m) => m.Id).filter((id) => id.startsWith('e_')),
        expected: metrics.map((m) => m.Id).filter((id) => id.startsWith('x_')),
        expression: metrics.find((m) => m.Expression !== undefined)?.Expression ?? '',
      };
    })
    .filter((a) => a.errors.length > 0);
}

describe('Class: AuditAlarms (function faults)', () => {
  it("subtracts each function's expected outcomes from its errors, five functions to an alarm", () => {
    const alarms = faultAlarmsFor(5);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toEqual({
      errors: ['e_fn_0', 'e_fn_1', 'e_fn_2', 'e_fn_3', 'e_fn_4'],
      expected: ['x_fn_0', 'x_fn_1', 'x_fn_2', 'x_fn_3', 'x_fn_4'],
      expression:
        '(FILL(e_fn_0, 0) + FILL(e_fn_1, 0) + FILL(e_fn_2, 0) + FILL(e_fn_3, 0) + FILL(e_fn_4, 0)) - (FILL(x_fn_0, 0) + FILL(x_fn_1, 0) + FILL(x_fn_2, 0) + FILL(x_fn_3, 0) + FILL(x_fn_4, 0))',
    });
  });

  it('splits more functions into alarms of at most 10 metrics each (CloudWatch refuses more), watching every one', () => {
    const alarms = faultAlarmsFor(23);
    expect(alarms.map((a) => a.errors.length + a.expected.length).sort((a, b) => a - b)).toEqual([
      6, 10, 10, 10, 10,
    ]);
    expect(new Set(alarms.flatMap((a) => a.errors))).toEqual(
      new Set(Array.from({ length: 23 }, (_, i) => `e_fn_${i}`)),
    );
    // Every function's errors sit in the same alarm as its expected outcomes.
    for (const a of alarms) expect(a.expected).toEqual(a.errors.map((id) => id.replace(/^e_/, 'x_')));
  });
});
