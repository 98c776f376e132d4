import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[]) => {
  try {
    return {
      code: 0,
      out: execFileSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8' }),
    };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
};

describe('cutover config validate', () => {
  it('prints OK and exits 0 for the example', () => {
    const r = cli(['config', 'validate', 'examples/cutover.example.json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK examples\/cutover.example.json/);
  });

  it('prints every error with its field and exits 1 for a bad file', () => {
    const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
    raw.quorum = 1;
    raw.standby.region = raw.primary.region;
    raw.lease.ttlMs = 1000;
    const file = join(mkdtempSync(join(tmpdir(), 'cutover-')), 'bad.json');
    writeFileSync(file, JSON.stringify(raw));
    const r = cli(['config', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('INVALID');
    expect(r.out).toContain('standby.region: must differ from primary.region (us-east-1)');
    expect(r.out).toContain('quorum: must be a majority of the 5 watchers: between 3 and 5, got 1');
    expect(r.out).toContain('lease.ttlMs:');
  });

  it('refuses a file that is not JSON, and a missing file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cutover-')), 'bad.json');
    writeFileSync(file, '{ "application": ');
    expect(cli(['config', 'validate', file])).toMatchObject({ code: 1 });
    expect(cli(['config', 'validate', file]).out).toContain('(file): is not valid JSON');
    expect(cli(['config', 'validate', '/no/such/file.json']).code).toBe(1);
    expect(cli(['config', 'check']).code).toBe(2);
  });
});
