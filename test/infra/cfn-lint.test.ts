import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGS, type ConfigSource, GENERATED, synth } from './support.js';

/**
 * W3005 (a DependsOn that a GetAtt already implies) is how the CDK itself writes every function's dependency on
 * its role's policy; it changes nothing CloudFormation does.
 */
const IGNORED = ['W3005'];

/** cfn-lint (AWS's CloudFormation linter) is installed under the pyenv Python on this machine image. */
const env = { ...process.env, PATH: `${join(homedir(), '.pyenv', 'shims')}:${process.env.PATH ?? ''}` };

/** The templates to lint: every stack of the example; the stacks that differ by traffic mode for the rest. */
function templates(source: ConfigSource, every: boolean): string[] {
  const { app, stacks } = synth(source);
  const dir = app.synth().directory;
  const chosen = every
    ? stacks.all
    : [...stacks.control, ...stacks.holderChecks, ...(stacks.traffic ? [stacks.traffic] : [])];
  return chosen.map((s) => join(dir, s.templateFile));
}

describe('cfn-lint on the synthesized templates', () => {
  it('finds nothing in the example, the other examples, and every traffic mode', () => {
    const files = [
      ...templates(CONFIGS.example, true),
      ...templates(CONFIGS.witness, false),
      ...templates(CONFIGS.arbiter, false),
      ...templates(
        GENERATED['traffic: function holder check, weighted records created, 3 checker regions'],
        false,
      ),
      ...templates(GENERATED['traffic: mode records, failover records created, arbiter'], false),
      ...templates(GENERATED['traffic: mode accelerator'], false),
      ...templates(GENERATED['traffic: mode arc, failover records created'], false),
    ];
    expect(files.some((f) => f.includes('holder-check'))).toBe(true);
    const r = spawnSync(
      'cfn-lint',
      ['--format', 'parseable', '--ignore-checks', ...IGNORED, '--', ...files],
      {
        env,
        encoding: 'utf8',
        timeout: 500_000,
      },
    );
    expect(r.error, 'cfn-lint must be on the PATH (pyenv shims)').toBeUndefined();
    expect(r.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  }, 600_000);
});
