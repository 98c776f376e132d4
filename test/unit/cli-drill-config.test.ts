import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../infra/local/drill-config.js';

const cli = (args: string[]) => {
  try {
    return {
      code: 0,
      out: execFileSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8', stdio: 'pipe' }),
    };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
};

const dir = mkdtempSync(join(tmpdir(), 'cutover-drill-config-'));
const write = (name: string, edit: (raw: RawConfig) => void) => {
  const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
  edit(raw);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(raw));
  return file;
};

describe('cutover drill --config / --time-scale / --rate: refused before anything starts', () => {
  it('an invalid configuration: every problem by field, exit 2, no artifacts', () => {
    const file = write('bad.json', (raw) => {
      raw.quorum = 1;
      raw.debounceMs = 1_000;
    });
    const out = join(dir, 'out-bad');
    const r = cli(['drill', '--scenario', 'region-outage', '--config', file, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`drill refused, nothing started: ${file} is invalid:`);
    expect(r.out).toContain('quorum: must be a majority of the 5 watchers');
    expect(r.out).toContain('debounceMs: debounceMs must be at least 2 × probe.intervalMs = 20000, got 1000');
    expect(existsSync(out)).toBe(false);
  });

  it('a scale that breaks a rule: names the rule and the scale, exit 2, no artifacts', () => {
    const file = write('scheduled.json', (raw) => {
      raw.lease.keeper = 'scheduled';
    });
    const out = join(dir, 'out-scaled');
    const r = cli(['drill', '--scenario', 'partition', '--config', file, '--time-scale', '4', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      'is valid as written, but its timings divided by --time-scale 4 break the configuration rules',
    );
    expect(r.out).toContain(
      'lease.scheduledRunMs: lease.scheduledRunMs must be at least 2 × 60000 + lease.renewIntervalMs',
    );
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['--config', 'no-such-file.json'], /--config no-such-file.json: cannot be read as JSON/],
    [['--time-scale', '20'], /--time-scale needs --config FILE/],
    [
      ['--config', 'examples/cutover.example.json', '--time-scale', '0.5'],
      /--time-scale must be a number ≥ 1/,
    ],
    [['--rate', '0'], /--rate must be a number of writes a second above 0 and at most 2000, got "0"/],
  ])('%j: a clear error, exit 2', (args, message) => {
    const r = cli(['drill', '--scenario', 'region-outage', ...args, '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(message);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
