import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildCutover, type CutoverStacks, readConfig } from '../../infra/cutover-app.js';

export const CONFIGS = {
  example: 'examples/cutover.example.json',
  witness: 'examples/cutover.mrsc-witness.json',
  arbiter: 'examples/cutover.arbiter.json',
} as const;

export interface Synth {
  app: App;
  stacks: CutoverStacks;
  template(stack: Stack): Template;
}

const cache = new Map<string, Synth>();

/**
 * Synthesizes every stack for a configuration with asset bundling skipped (the CDK's own
 * `aws:cdk:bundling-stacks` switch, which `cdk synth --exclusively` uses too): esbuild for some 25 functions
 * would take minutes on a small machine. One test in cdk-synth.test.ts bundles for real.
 */
export function synth(config: string, context: Record<string, unknown> = {}): Synth {
  const key = `${config} ${JSON.stringify(context)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'cutover-cdk-')),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stacks = buildCutover(app, readConfig(config));
  const templates = new Map<Stack, Template>();
  const result: Synth = {
    app,
    stacks,
    template(stack) {
      let t = templates.get(stack);
      if (!t) {
        t = Template.fromStack(stack);
        templates.set(stack, t);
      }
      return t;
    },
  };
  cache.set(key, result);
  return result;
}

/** Every IAM policy statement in a template, flattened. */
export function statements(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** The statements of one function's role (found by the function's logical id prefix). */
export function functionStatements(template: Template, role: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  const id = role.replace(/-/g, '');
  return Object.entries(policies)
    .filter(([logicalId]) => logicalId.startsWith(`${id}role`))
    .flatMap(
      ([, p]) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
          .PolicyDocument.Statement,
    );
}

export const actionsOf = (s: Record<string, unknown>): string[] => [s.Action].flat() as string[];
