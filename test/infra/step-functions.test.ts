import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ControlStack } from '../../infra/stacks/control-stack.js';
import { StateTimeoutTooShortError, stepFunctionTimeouts } from '../../infra/workflows.js';
import { type ConfigSource, configOf, SYNTH_MATRIX, synth } from './support.js';

/**
 * What a step function must leave of its state's TimeoutSeconds, stated here rather than read from the code:
 * Lambda's Init phase may take up to 10 s before the function's own timeout starts (Lambda developer guide,
 * execution environment lifecycle), and Step Functions starts the state's clock when it schedules the task,
 * before the invoke reaches Lambda; at least 2 s for that.
 */
const REQUIRED_MARGIN_SECONDS = 10 + 2;

interface AslState {
  Type?: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
  TimeoutSeconds?: number;
  States?: Record<string, AslState>;
  Branches?: AslState[];
  Iterator?: AslState;
  ItemProcessor?: AslState;
}

interface TaskCall {
  machine: string;
  state: string;
  placeholder: string;
  timeoutSeconds: number | undefined;
  waitsForToken: boolean;
}

/** Every Task state of a deployed definition, with the placeholder it calls, read from the template alone. */
function taskCalls(machine: string, definition: string): TaskCall[] {
  const out: TaskCall[] = [];
  const visit = (node: AslState) => {
    for (const [state, s] of Object.entries(node.States ?? {})) {
      if (s.Type === 'Task') {
        const ref = s.Parameters?.FunctionName ?? s.Resource ?? '';
        const placeholder = /\$\{([A-Za-z0-9_]+)\}/.exec(ref)?.[1];
        if (placeholder) {
          out.push({
            machine,
            state,
            placeholder,
            timeoutSeconds: s.TimeoutSeconds,
            waitsForToken: s.Resource?.endsWith('.waitForTaskToken') ?? false,
          });
        }
      }
      for (const b of s.Branches ?? []) visit(b);
      if (s.Iterator) visit(s.Iterator);
      if (s.ItemProcessor) visit(s.ItemProcessor);
    }
  };
  visit(JSON.parse(definition) as AslState);
  return out;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The logical id a definition substitution points at ({"Fn::GetAtt": [id, "Arn"]} or {"Ref": id}). */
function substitutedId(value: unknown): string {
  const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  const id = v['Fn::GetAtt']?.[0] ?? v.Ref;
  if (!id) throw new Error(`unexpected substitution ${JSON.stringify(value)}`);
  return id;
}

function stepTimeoutsOf(config: ConfigSource, stack: ControlStack) {
  const resources = synth(config).template(stack).toJSON().Resources as Resources;
  const calls: Array<TaskCall & { functionId: string; functionTimeout: number }> = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const subs = r.Properties.DefinitionSubstitutions as Record<string, unknown>;
    for (const call of taskCalls(id, r.Properties.DefinitionString as string)) {
      const functionId = substitutedId(subs[call.placeholder]);
      const fn = resources[functionId];
      expect(fn?.Type, `${call.state} → ${functionId}`).toBe('AWS::Lambda::Function');
      calls.push({ ...call, functionId, functionTimeout: fn!.Properties.Timeout as number });
    }
  }
  return calls;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

/**
 * A template value as a string: a token (a Ref or GetAtt of a bus or secret) becomes a stand-in; a Fn::Join (the
 * configuration with the holder-check function URLs looked up at deploy time) is joined with a stand-in URL for
 * each lookup, as CloudFormation would join it with the real ones.
 */
const plain = (value: unknown, name: string): string => {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) {
    return join[1]
      .map((part) => {
        if (typeof part === 'string') return part;
        const att = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
        if (att?.[1] === 'FunctionUrl') return `https://${att[0].toLowerCase()}.lambda-url.us-east-1.on.aws/`;
        return `${name}-from-${Object.keys(part as object)[0]}`;
      })
      .join(join[0]);
  }
  return `${name}-from-${Object.keys(value as object)[0]}`;
};

// Every configuration of the synthesis matrix: the three examples and the generated ones (support.ts).
describe.each(SYNTH_MATRIX)('the step functions of the %s config', (_name, config) => {
  it('cold-start with their synthesized environment: the step deps build for the parts configured', async () => {
    const { stacks, template } = synth(config);
    const resources = template(stacks.control[0]!).toJSON().Resources as Resources;
    const stepIds = new Set(
      [...stacks.control[0]!.steps.values()].map((fn) =>
        stacks.control[0]!.getLogicalId(fn.node.defaultChild as CfnFunction),
      ),
    );
    const environments = [...stepIds].map(
      (id) => (resources[id]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    // One configuration for all of them, so one cold start speaks for every step function.
    expect(new Set(environments.map((e) => JSON.stringify(e.CUTOVER_CONFIG))).size).toBe(1);
    for (const [name, value] of Object.entries(environments[0]!)) vi.stubEnv(name, plain(value, name));
    vi.resetModules();
    const { awsStepDeps } = await import('#steps/aws-deps.js');
    const deps = awsStepDeps();
    const { traffic, database } = configOf(config);
    expect([deps.traffic, deps.database, deps.lag].map((p) => p.constructor.name)).toEqual([
      // Traffic mode records changes records; every other mode follows the lease (functions/adapters/aws/traffic-ports.ts).
      traffic
        ? traffic.mode === 'records'
          ? 'Route53TrafficRouter'
          : 'ModeTrafficRouter'
        : 'UnconfiguredTrafficRouter',
      // DynamoDB global tables: nothing to promote, and the lag is the tables' ReplicationLatency.
      !database
        ? 'NoDatabasePromoter'
        : database.engine === 'dynamodb'
          ? 'GlobalTablesPromoter'
          : 'RdsDatabasePromoter',
      !database
        ? 'NoDatabaseLagReader'
        : database.engine === 'dynamodb'
          ? 'ReplicationLatencyReader'
          : 'CloudWatchLagReader',
    ]);
  });

  it('every one ends, cold start and invoke latency included, before any state that calls it times out', () => {
    for (const stack of synth(config).stacks.control) {
      const calls = stepTimeoutsOf(config, stack);
      const timed = calls.filter((c) => !c.waitsForToken);
      expect(timed.length).toBeGreaterThan(20);
      for (const c of timed) {
        expect(c.timeoutSeconds, `${c.state} has a TimeoutSeconds`).toBeDefined();
        expect(
          c.functionTimeout + REQUIRED_MARGIN_SECONDS,
          `${stack.stackName} ${c.state}: function ${c.functionTimeout} s, state ${c.timeoutSeconds} s`,
        ).toBeLessThanOrEqual(c.timeoutSeconds!);
      }

      // Every step function of the stack was checked, except one called only to wait for a task token.
      const ids = (fns: Iterable<{ node: { defaultChild?: unknown } }>) =>
        [...fns].map((fn) => stack.getLogicalId(fn.node.defaultChild as CfnFunction));
      const checked = new Set(timed.map((c) => c.functionId));
      const unchecked = ids(stack.steps.values()).filter((id) => !checked.has(id));
      expect(unchecked).toEqual(ids([stack.steps.get('RequestApprovalFunctionName')!]));
      expect(
        calls.filter((c) => unchecked.includes(c.functionId)).every((c) => c.waitsForToken),
        'the approval function is called from waitForTaskToken states only',
      ).toBe(true);
    }
  });
});

describe('stepFunctionTimeouts', () => {
  const asl = (states: Record<string, number>) =>
    JSON.stringify({
      StartAt: 'A',
      States: Object.fromEntries(
        Object.entries(states).map(([name, seconds]) => [
          name,
          { Type: 'Task', Resource: `\${${name}FunctionArn}`, TimeoutSeconds: seconds, End: true },
        ]),
      ),
    });

  it('takes the shortest state across machines, less the margin, capped at Lambda’s 900 s', () => {
    const timeouts = stepFunctionTimeouts([asl({ A: 60, B: 2000 }), asl({ A: 30 })]);
    expect(Object.fromEntries(timeouts)).toEqual({ AFunctionArn: 15, BFunctionArn: 900 });
  });

  it('refuses a state too short to leave the function any time, naming the placeholder', () => {
    expect(() => stepFunctionTimeouts([asl({ A: 20 })])).toThrow(StateTimeoutTooShortError);
    expect(() => stepFunctionTimeouts([asl({ A: 20 })])).toThrow(/\$\{AFunctionArn\} has TimeoutSeconds 20/);
  });
});
