import validator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { synthesizedWorkflow } from '../../infra/lib/workflow-definition.ts';

describe('Workflow: the synthesized definition against asl-validator', () => {
  it("is valid Amazon States Language (the maps' ItemReader and ResultWriter included)", () => {
    const definition = synthesizedWorkflow({
      functionArn: (folder) => `arn:aws:lambda:ap-southeast-1:000000000000:function:${folder}`,
      dataBucket: 'risk-audit-data',
    });
    const result = validator(definition);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('refuses a definition whose map leads nowhere (no Next, no End): the validator is not a rubber stamp', () => {
    const definition = synthesizedWorkflow({
      functionArn: (folder) => `arn:aws:lambda:ap-southeast-1:000000000000:function:${folder}`,
      dataBucket: 'risk-audit-data',
    });
    const map = definition.States.ScoreShards as { Next?: string };
    delete map.Next;
    expect(validator(definition).isValid).toBe(false);
  });
});
