import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HELP } from '../../bin/usage.js';

/** The CLI as a user runs it: exit code, stdout and stderr apart. */
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;

describe('cutover help, on every command', () => {
  it('--help, -h and help list every command with a one-line description, on stdout, exit 0', {
    timeout: 60_000,
  }, () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = cli(flag);
      expect(r.code, flag).toBe(0);
      expect(r.err).toBe('');
      for (const [name, h] of Object.entries(HELP)) {
        expect(r.out.split('\n').some((l) => l.trim().startsWith(name) && l.endsWith(h.summary))).toBe(true);
      }
    }
  });

  it('--help and -h after any command or subcommand print its summary and usage, and run nothing', {
    timeout: 90_000,
  }, () => {
    const cases: [string[], string][] = [
      [['drill', '--help'], 'usage: cutover drill --scenario NAME'],
      [['drill', '--scenario', 'region-outage', '-h'], 'usage: cutover drill --scenario NAME'],
      [['config', 'validate', '--help'], 'usage: cutover config validate [--explain] FILE'],
      [['config', '--help'], 'usage: cutover config validate [--explain] FILE'],
      [['status', '-h'], 'usage: cutover status --config FILE'],
      [['failover', '--help'], 'refuses when no lease exists'],
      [['failback', '--help'], 'usage: cutover failback --config FILE --input FILE'],
      [['cost', '--help'], 'usage: cutover cost --config FILE'],
      [['help', 'pause'], 'usage: cutover pause --config FILE --reason TEXT'],
    ];
    for (const [args, expected] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out, args.join(' ')).toContain(expected);
      expect(r.err, args.join(' ')).toBe('');
    }
    // The drill's help names its scenarios; nothing ran (no drill output directory line).
    const drill = cli('drill', '--help');
    expect(drill.out).toMatch(/scenarios: .*region-outage/);
  });

  it('--version prints the package version', { timeout: 30_000 }, () => {
    expect(cli('--version')).toEqual({ code: 0, out: `cutover ${version}\n`, err: '' });
  });

  it('an unknown command or help topic, or no command, is a usage problem on stderr, exit 2', {
    timeout: 60_000,
  }, () => {
    for (const args of [['nope'], ['help', 'nope'], []]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain('usage: cutover COMMAND');
    }
  });
});
