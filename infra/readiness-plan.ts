import { App, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { CutoverConfig } from '#core/config.js';
import { type NeededStatement, type RolePlan, substituteDefinition } from '#core/readiness.js';
import { capabilityStatements } from './iam.js';
import { topology } from './topology.js';
import { placeholders, readAsl, STEPS, WORKFLOWS, type WorkflowKind } from './workflows.js';

/** The steps the two machines call (their ASL placeholders), each once. */
function usedSteps() {
  const used = new Set(Object.keys(WORKFLOWS).flatMap((k) => placeholders(readAsl(k as WorkflowKind))));
  return STEPS.filter((s) => used.has(s.placeholder));
}

/**
 * For each step role, the statements the control stack grants it beyond the tables and the bus, from the same
 * functions in infra/iam.ts (capabilityStatements). Values may hold CDK tokens (partition, account): the CDK app
 * hands them to the scheduled evaluation, where CloudFormation resolves them; the CLI resolves them itself
 * (resolvedPlan). Steps that need nothing beyond the tables are left out.
 */
export function stepPermissionPlan(scope: Construct, config: CutoverConfig): RolePlan[] {
  const names = topology(config).names;
  const out: RolePlan[] = [];
  for (const spec of usedSteps()) {
    const statements = spec.capabilities
      .filter((c) => c !== 'slack')
      .flatMap((c) => capabilityStatements(scope, config, c))
      .map(needed);
    if (statements.length) out.push({ role: spec.role, functionName: names.function(spec.role), statements });
  }
  return out;
}

function needed(s: iam.PolicyStatement): NeededStatement {
  const json = s.toStatementJson() as {
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  };
  const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);
  const context: Record<string, string[]> = {};
  // The simulator evaluates conditions against context entries; each key gets the values the step sends.
  for (const byKey of Object.values(json.Condition ?? {})) {
    for (const [key, values] of Object.entries(byKey)) context[key] = list(values);
  }
  return { actions: list(json.Action), resources: list(json.Resource), context };
}

export interface AccountScope {
  account: string;
  partition: string;
  region: string;
}

/**
 * The plan with the tokens resolved for one account, for the CLI: synthesized in a throwaway stack pinned to the
 * account and region, then the pseudo parameters CloudFormation would fill in are filled in here.
 */
export function resolvedPlan(config: CutoverConfig, where: AccountScope): RolePlan[] {
  const stack = new Stack(new App(), 'readiness-plan', {
    env: { account: where.account, region: where.region },
  });
  return fillPseudo(stack.resolve(stepPermissionPlan(stack, config)), where) as RolePlan[];
}

/** Replaces Ref AWS::Partition/AccountId/Region and joins Fn::Join, the only intrinsics iam.ts produces. */
function fillPseudo(v: unknown, where: AccountScope): unknown {
  if (Array.isArray(v)) return v.map((x) => fillPseudo(x, where));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') {
      const pseudo: Record<string, string> = {
        'AWS::Partition': where.partition,
        'AWS::AccountId': where.account,
        'AWS::Region': where.region,
      };
      const value = pseudo[o.Ref];
      if (value === undefined) throw new Error(`readiness plan: cannot resolve Ref ${o.Ref}`);
      return value;
    }
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => fillPseudo(p, where)).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fillPseudo(x, where)]));
  }
  return v;
}

/**
 * The definition the CDK app deploys for a machine in a control region: the ASL with each placeholder replaced by
 * its step function's ARN (or name, for `...FunctionName`), as the control stack's definitionSubstitutions do.
 */
export function expectedDefinition(config: CutoverConfig, kind: WorkflowKind, where: AccountScope): string {
  return substituteDefinition(readAsl(kind), stepSubstitutions(config, where));
}

export function stepSubstitutions(config: CutoverConfig, where: AccountScope): Record<string, string> {
  const names = topology(config).names;
  const values: Record<string, string> = {};
  for (const spec of STEPS) {
    const name = names.function(spec.role);
    values[spec.placeholder] = spec.placeholder.endsWith('FunctionName')
      ? name
      : `arn:${where.partition}:lambda:${where.region}:${where.account}:function:${name}`;
  }
  return values;
}
