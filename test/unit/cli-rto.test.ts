import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RtoEstimate } from '#core/rto.js';

/** Runs `cutover rto` as an operator would, through bin/cutover.mjs, keeping stdout and stderr apart. */
const cli = (args: string[]) => {
  try {
    const out = execFileSync(process.execPath, ['bin/cutover.mjs', 'rto', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, out, err: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout, err: e.stderr };
  }
};

const dir = mkdtempSync(join(tmpdir(), 'cutover-rto-'));
const write = (name: string, raw: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof raw === 'string' ? raw : JSON.stringify(raw));
  return file;
};
const example = () => JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));

// Each case starts Node once or more (about a second each on a busy machine).
describe('cutover rto', { timeout: 30_000 }, () => {
  it('says plainly that the example does not meet 60 s, and exits 1', () => {
    const r = cli(['--config', 'examples/cutover.example.json']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(r.out).toContain('Cutover orders: expected recovery time in AWS against the 60.0 s target');
    expect(r.out).toMatch(/^total\s+91\.6 s\s+421\.8 s\s+1133\.0 s$/m);
    expect(r.out).toContain(
      'DOES NOT MEET the 60 s target: expected 421.8 s, worst 1133 s; no setting in this configuration brings it under, because RDS read replica promotion alone',
    );
    expect(r.out).toMatch(
      /^ {2}PromoteReadReplica until writable\s+60\.0 s\s+300\.0 s\s+900\.0 s {2}\[rds-promote\]/m,
    );
    expect(r.out).toContain('[rds-promote] RDS reboots a promoted read replica');
    expect(r.out).toContain(
      'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html',
    );
    expect(r.out).toContain('settings that shorten it (expected / worst):');
  });

  it('handles the DynamoDB example: nothing to promote, the RPO guard named', () => {
    const r = cli(['--config', 'examples/cutover.dynamodb.json']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('database dynamodb, traffic accelerator');
    expect(r.out).toMatch(/^ {2}nothing to promote\s/m);
    expect(r.out).toContain('RpoGuard: a lag reading newer than the fence takes 25 s');
  });

  it('exits 0 when the expected RTO is within the target', () => {
    const raw = example();
    // The operator's file says so explicitly: a configuration without the section is refused.
    raw.database = { engine: 'none' };
    delete raw.primary.databaseId;
    delete raw.standby.databaseId;
    raw.fence.lambdaFunctions = [];
    raw.probe.intervalMs = 5000;
    raw.debounceMs = 10000;
    // The shortest lease the renewal rule takes here: 10 + 3 (one health check) + 3 × 2 + 1.5 = 20.5 s.
    raw.lease.ttlMs = 21000;
    raw.traffic.mode = 'accelerator';
    raw.traffic.accelerator = {
      endpoints: { 'us-east-1': 'alb-use1', 'us-west-2': 'alb-usw2' },
      healthCheckIntervalSeconds: 10,
      thresholdCount: 1,
    };
    const r = cli(['--config', write('fast.json', raw)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('expected 38.9 s is within the 60 s target');
  });

  it('prints the whole estimate as one JSON document with --json', () => {
    const r = cli(['--config', 'examples/cutover.example.json', '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as RtoEstimate;
    expect(Object.keys(json).sort()).toEqual(
      [
        'application',
        'caveats',
        'engine',
        'levers',
        'phases',
        'targetMs',
        'total',
        'trafficMode',
        'verdict',
      ].sort(),
    );
    expect(json.targetMs).toBe(60_000);
    expect(json.total).toEqual({ best: 91_600, expected: 421_800, worst: 1_133_000 });
    expect(json.phases.map((p) => p.id)).toEqual(['detection', 'claim', 'fence', 'promotion', 'traffic']);
    expect(json.verdict.code).toBe('CANNOT_MEET_TARGET');
    for (const p of json.phases) {
      for (const part of p.parts)
        expect(Object.keys(part).sort()).toEqual([
          'basis',
          'best',
          'expected',
          'id',
          'label',
          'source',
          'worst',
        ]);
    }
  });

  it('refuses an invalid configuration with every problem and its field, on stdout', () => {
    const raw = example();
    raw.quorum = 1;
    raw.database = { engine: 'dynamodb' };
    const r = cli(['--config', write('bad.json', raw)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^INVALID .*bad\.json: \d+ problems?/);
    expect(r.out).toContain('quorum: must be a majority of the 5 watchers');
    expect(r.out).toContain('database.tables: is required when database.engine is "dynamodb"');
    expect(r.out).toContain('primary.databaseId: must be omitted when database.engine is "dynamodb"');
    expect(r.out).not.toContain('expected recovery time');
  });

  it('refuses a file that is not JSON, or not there, on stderr for the latter', () => {
    const notJson = cli(['--config', write('text.json', 'not json {')]);
    expect(notJson.code).toBe(1);
    expect(notJson.out).toContain('(file): is not valid JSON');
    const missing = cli(['--config', '/no/such/cutover.json']);
    expect(missing.code).toBe(1);
    expect(missing.out).toBe('');
    expect(missing.err).toMatch(/^cannot read \/no\/such\/cutover\.json: no such file/);
  });

  it('is a usage problem without --config, with an unknown flag, or with a stray argument', () => {
    for (const args of [[], ['--config'], ['--config', 'x.json', '--fast'], ['x.json']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('usage: cutover rto --config FILE [--json]');
      expect(r.out).toBe('');
    }
  });

  it('--help prints the summary and usage, and runs nothing', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^cutover rto: estimate how long a failover/);
    expect(r.out).toContain('usage: cutover rto --config FILE [--json]');
    expect(r.out).not.toContain('expected recovery time in AWS');
  });
});
