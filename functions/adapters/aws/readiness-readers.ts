import { type ContextEntry, type IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type {
  MachineReading,
  PermissionReading,
  RolePlan,
  SimulatedDecision,
  Unreadable,
} from '#core/readiness.js';

/**
 * What IAM would decide for each step role on each action and resource its step needs, without calling any of
 * them: SimulatePrincipalPolicy evaluates the role's identity policies (and boundaries) for the given actions,
 * resources and condition-key values (IAM API reference, SimulatePrincipalPolicy). The role is the step
 * function's execution role, read with GetFunctionConfiguration. Resource policies are not part of it.
 */
export class IamPermissionReader {
  constructor(
    private readonly iam: IAMClient,
    private readonly lambda: LambdaClient,
  ) {}

  async read(plan: RolePlan): Promise<PermissionReading | (Unreadable & { role: string })> {
    let roleArn: string;
    try {
      const fn = await this.lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: plan.functionName }),
      );
      if (!fn.Role) return { role: plan.role, error: `${plan.functionName} has no execution role` };
      roleArn = fn.Role;
    } catch (err) {
      return { role: plan.role, error: `read the role of ${plan.functionName}: ${describeError(err)}` };
    }
    const decisions: PermissionReading['decisions'] = [];
    try {
      for (const s of plan.statements) {
        const contextEntries: ContextEntry[] = Object.entries(s.context).map(([key, values]) => ({
          ContextKeyName: key,
          ContextKeyValues: values,
          ContextKeyType: 'stringList',
        }));
        const res = await this.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: roleArn,
            ActionNames: s.actions,
            ResourceArns: s.resources,
            ...(contextEntries.length ? { ContextEntries: contextEntries } : {}),
          }),
        );
        for (const r of res.EvaluationResults ?? []) {
          const perResource = r.ResourceSpecificResults ?? [];
          if (perResource.length) {
            for (const x of perResource) {
              decisions.push({
                action: r.EvalActionName ?? '?',
                resource: x.EvalResourceName ?? '?',
                decision: x.EvalResourceDecision as SimulatedDecision,
              });
            }
          } else {
            decisions.push({
              action: r.EvalActionName ?? '?',
              resource: r.EvalResourceName ?? '*',
              decision: r.EvalDecision as SimulatedDecision,
            });
          }
        }
      }
    } catch (err) {
      return { role: plan.role, error: `simulate the policies of ${roleArn}: ${describeError(err)}` };
    }
    return { role: plan.role, decisions };
  }
}

/** The deployed definition of a state machine (DescribeStateMachine), or why there is none. */
export async function readDefinition(sfn: SFNClient, arn: string): Promise<MachineReading['deployed']> {
  try {
    const res = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    if (!res.definition) return { error: `${arn} has no definition`, notFound: false };
    return { definition: res.definition };
  } catch (err) {
    const notFound = (err as { name?: string }).name === 'StateMachineDoesNotExist';
    return { error: describeError(err), notFound };
  }
}

/** An AWS error as one sentence: its name and message. */
export function describeError(err: unknown): string {
  const e = (err ?? {}) as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
}
