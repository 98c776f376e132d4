import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ConfigIssue, parseConfig, parseConfigText } from '#core/config.js';
import { explainLines, filledDefaults } from '#core/config-explain.js';
import { configEnvironmentBytes, MAX_CONFIG_ENV_BYTES } from '#core/config-rules.js';
import { COMMERCIAL_REGIONS, closest, editDistance, regionProblem } from '#core/regions.js';
import { drillConfig } from '../../infra/local/drill-config.js';
import { exampleConfigJson } from '../support/fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: tests reshape raw JSON freely
type Raw = Record<string, any>;

const fileIssues = (mutate: (raw: Raw) => void): ConfigIssue[] => {
  const raw = exampleConfigJson() as Raw;
  mutate(raw);
  const r = parseConfigText(JSON.stringify(raw));
  return r.ok ? [] : r.issues;
};

const dir = mkdtempSync(join(tmpdir(), 'cutover-validate-'));
let n = 0;
function fileWith(mutate: (raw: Raw) => void): string {
  const raw = exampleConfigJson() as Raw;
  mutate(raw);
  const file = join(dir, `c${n++}.json`);
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/** `cutover config validate ...` as an operator runs it: exit code, stdout and stderr apart. */
function validate(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', 'config', 'validate', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// The phrasing of zod's own messages: none may reach an operator.
const RAW_LIBRARY =
  /Invalid input|Invalid option|expected \w+, received|Too (small|big)|Unrecognized key|Invalid discriminator/;

describe('regions', () => {
  it('knows the commercial regions and refuses the rest with the one most likely meant', () => {
    expect(COMMERCIAL_REGIONS).toContain('eu-central-1');
    expect(COMMERCIAL_REGIONS).not.toContain('us-gov-west-1');
    expect(new Set(COMMERCIAL_REGIONS).size).toBe(COMMERCIAL_REGIONS.length);
    expect(regionProblem('eu-central-1')).toBeUndefined();
    expect(regionProblem('eu-centrl-1')).toBe(
      '"eu-centrl-1" is not an AWS region: did you mean eu-central-1?',
    );
    expect(regionProblem('cn-north-1')).toMatch(/another AWS partition/);
    expect(regionProblem('mars-1')).toMatch(/use a region code such as us-east-1/);
  });

  it('measures edits, a swap of neighbours included, and suggests only what is close', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('aks', 'ask')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('debounceMS', ['debounceMs', 'cooldownMs'])).toBe('debounceMs');
    expect(closest('ttl', ['ttlMs', 'maxSkewMs'])).toBe('ttlMs');
    expect(closest('zzzzzz', ['ttlMs', 'maxSkewMs'])).toBeUndefined();
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d === 0).toBe(a === b);
      }),
    );
  });
});

describe('sections a file must have', () => {
  it('refuses a file without traffic or database, and names the opt-out', () => {
    expect(
      fileIssues((r) => {
        delete r.traffic;
        delete r.primary.setIdentifier;
        delete r.standby.setIdentifier;
      }),
    ).toEqual([
      { field: 'traffic', message: expect.stringMatching(/^is required: .*"traffic": \{ "mode": "none" \}/) },
    ]);
    expect(
      fileIssues((r) => {
        delete r.database;
        delete r.primary.databaseId;
        delete r.standby.databaseId;
      }),
    ).toEqual([
      {
        field: 'database',
        message: expect.stringMatching(/^is required: .*"database": \{ "engine": "none" \}/),
      },
    ]);
  });

  it('takes the explicit opt-outs, which parse to no section, and refuses a field beside them', () => {
    const raw = exampleConfigJson() as Raw;
    raw.traffic = { mode: 'none' };
    raw.database = { engine: 'none' };
    delete raw.primary.setIdentifier;
    delete raw.standby.setIdentifier;
    delete raw.primary.databaseId;
    delete raw.standby.databaseId;
    const r = parseConfigText(JSON.stringify(raw));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.traffic).toBeUndefined();
      expect(r.config.database).toBeUndefined();
    }
    expect(
      fileIssues((c) => {
        c.database = { engine: 'none', globalClusterId: 'orders-global' };
        delete c.primary.databaseId;
        delete c.standby.databaseId;
      }),
    ).toEqual([
      {
        field: 'database.globalClusterId',
        message: expect.stringMatching(/^must be left out when database.engine is "none"/),
      },
    ]);
  });

  it('refuses a file without a lease section, or without its ttlMs or maxSkewMs', () => {
    expect(fileIssues((r) => delete r.lease)).toEqual([
      { field: 'lease', message: expect.stringMatching(/^is required: its ttlMs is the fence's wait/) },
    ]);
    expect(
      fileIssues((r) => {
        r.lease = { renewIntervalMs: 10_000 };
      }).map((i) => i.field),
    ).toEqual(['lease.ttlMs', 'lease.maxSkewMs']);
  });

  it('leaves a configuration built in code (tests, CUTOVER_CONFIG) to its defaults', () => {
    const raw = exampleConfigJson() as Raw;
    delete raw.lease;
    delete raw.traffic;
    expect(parseConfig(raw).ok).toBe(true);
    expect(parseConfig(raw, { file: true }).ok).toBe(false);
  });

  it('keeps every example and the drill configuration valid as files', () => {
    const examples = readdirSync('examples').filter((f) => f.endsWith('.json'));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const f of examples) {
      const r = parseConfigText(readFileSync(join('examples', f), 'utf8'));
      expect(r.ok ? [] : r.issues, f).toEqual([]);
    }
    expect(() => drillConfig()).not.toThrow();
  });
});

describe('every message in the project’s words', () => {
  // Any field of the example set to a value of the wrong kind: the message names the field, says what it must be,
  // never in the library's words, and shows the value it got.
  const leaves: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    } else leaves.push(path);
  };
  walk(exampleConfigJson(), []);

  it('for a wrong value at any field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...leaves),
        fc.oneof(
          fc.string(),
          fc.integer(),
          fc.double(),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.integer()),
        ),
        (path, value) => {
          const raw = exampleConfigJson() as Raw;
          let o = raw;
          for (const k of path.slice(0, -1)) o = o[k];
          o[path.at(-1) as string] = value;
          const r = parseConfig(raw);
          if (r.ok) return;
          for (const i of r.issues) {
            expect(i.message).not.toMatch(RAW_LIBRARY);
            expect(i.field).not.toBe('(root)');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('a key in the wrong place', () => {
  it('says where a known field belongs when it is misplaced', () => {
    const raw = exampleConfigJson() as Raw;
    raw.probe.debounceMs = 30_000;
    raw.lease.ambiguousPolicy = 'ask';
    const r = parseConfig(raw);
    expect(r.ok ? [] : r.issues).toEqual([
      {
        field: 'probe.debounceMs',
        message: expect.stringMatching(
          /^is not a known field; debounceMs belongs at the top level, not in probe: move it there \(fields here: /,
        ),
      },
      {
        field: 'lease.ambiguousPolicy',
        message: expect.stringMatching(
          /^is not a known field; ambiguousPolicy belongs in approval, not in lease: move it there/,
        ),
      },
    ]);
  });
});

describe('--explain', () => {
  it('lists the defaults the file left out, with what each means', () => {
    const raw = exampleConfigJson() as Raw;
    delete raw.probe;
    delete raw.cooldownMs;
    const config = parseConfig(raw);
    if (!config.ok) throw new Error('example must parse');
    const filled = filledDefaults(raw, config.config);
    expect(filled.map((d) => d.field)).toEqual(
      expect.arrayContaining([
        'probe.intervalMs',
        'probe.responseTimeoutMs',
        'cooldownMs',
        'takeoverAfterMs',
      ]),
    );
    expect(filled.map((d) => d.field)).not.toContain('debounceMs');
    expect(filled.find((d) => d.field === 'cooldownMs')).toEqual({
      field: 'cooldownMs',
      value: 3_600_000,
      meaning: expect.stringMatching(/^for 60 min after a failover another automatic one needs a person/),
    });
    const lines = explainLines(raw, config.config);
    expect(lines[0]).toMatch(/^defaults filled in \(\d+\); the \d+ that change failover time or safety:$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}probe\.intervalMs = 10000 +each watcher probes/),
    );
  });
});

describe('cutover config validate, as an operator runs it', () => {
  it('exits 0 with OK for each example', () => {
    for (const f of readdirSync('examples').filter((x) => x.endsWith('.json'))) {
      const r = validate(join('examples', f));
      expect(r.code, f).toBe(0);
      expect(r.out).toMatch(/^OK examples\//);
      expect(r.err).toBe('');
    }
  });

  it('exits 1 for what breaks at incident time, each problem under its field with value and fix, on stdout', () => {
    const file = fileWith((r) => {
      delete r.traffic;
      r.primary.region = 'eu-centrl-1';
      r.debounceMS = 30_000;
      r.quorum = '3';
    });
    const r = validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(r.out.split('\n')).toEqual([
      `INVALID ${file}: 4 problems`,
      expect.stringMatching(/^ {2}traffic: is required: /),
      '  primary.region: "eu-centrl-1" is not an AWS region: did you mean eu-central-1?',
      '  quorum: must be a number, not text: write 3 without quotes; got "3"',
      expect.stringMatching(/^ {2}debounceMS: is not a known field; did you mean debounceMs\? /),
      '',
    ]);
    expect(r.out).not.toMatch(RAW_LIBRARY);
  });

  it("refuses a configuration too large for the functions' CUTOVER_CONFIG variable, which cdk synth would refuse", () => {
    // Many hooks with the longest names the schema allows: each one valid, together over Lambda's 4 KB environment.
    const hooks = (phase: string) =>
      Array.from({ length: 8 }, (_, i) => ({
        name: `${phase}-scale-the-orders-service-${i}`.slice(0, 40),
        kind: 'ecs',
        region: 'target',
        timeoutMs: 60_000,
        onFailure: 'continue',
        cluster: `orders-cluster-with-a-very-long-descriptive-name-${i}`,
        service: `orders-service-with-a-very-long-descriptive-name-${i}`,
        desiredCount: 4,
      }));
    const file = fileWith((c) => {
      c.hooks = { beforePromote: hooks('before'), afterTraffic: hooks('after') };
    });
    const parsed = parseConfigText(readFileSync(file, 'utf8'));
    expect(parsed.ok).toBe(false);
    const r = validate(file);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(r.out).toMatch(
      new RegExp(
        `^INVALID ${file}: 1 problem\\n {2}\\(root\\): is (\\d+) bytes as JSON \\(with defaults filled in\\), over the ${MAX_CONFIG_ENV_BYTES} bytes that fit the functions' CUTOVER_CONFIG environment variable \\(Lambda allows 4 KB for all of a function's variables\\): shorten hook and health check names, URLs and descriptions, or remove hooks, health checks or payloads, by at least \\d+ bytes\\n$`,
      ),
    );
    const bytes = Number(/is (\d+) bytes/.exec(r.out)![1]);
    expect(bytes).toBeGreaterThan(MAX_CONFIG_ENV_BYTES);
    expect(r.out).toContain(`by at least ${bytes - MAX_CONFIG_ENV_BYTES} bytes`);
  });

  it('measures each example as CUTOVER_CONFIG would hold it, under the limit (they validate OK above)', () => {
    for (const f of readdirSync('examples').filter((x) => x.endsWith('.json'))) {
      const r = parseConfigText(readFileSync(join('examples', f), 'utf8'));
      if (!r.ok) throw new Error(`${f} must be valid`);
      expect(configEnvironmentBytes(r.config), f).toBeLessThanOrEqual(MAX_CONFIG_ENV_BYTES);
      expect(configEnvironmentBytes(r.config), f).toBe(Buffer.byteLength(JSON.stringify(r.config), 'utf8'));
    }
  });

  it('says "1 problem" for one', () => {
    const r = validate(fileWith((c) => delete c.lease));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/: 1 problem\n {2}lease: is required/);
  });

  it('--explain prints the defaults after OK, one a line; without it nothing about defaults', () => {
    const file = fileWith((c) => {
      delete c.probe;
    });
    const plain = validate(file);
    expect(plain.code).toBe(0);
    expect(plain.out).not.toContain('defaults');
    for (const args of [
      ['--explain', file],
      [file, '--explain'],
    ]) {
      const r = validate(...args);
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^OK /);
      expect(lines[1]).toMatch(/^defaults filled in/);
      expect(lines).toContainEqual(
        expect.stringMatching(/^ {2}probe\.intervalMs = 10000 +each watcher probes both regions every 10 s/),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^ {2}probe\.responseTimeoutMs = 3000 +a probe without an answer after 3 s/),
      );
    }
  });

  it('exits 2 for a usage problem, 1 for a file it cannot read', () => {
    expect(validate('--explian', 'examples/cutover.example.json')).toMatchObject({
      code: 2,
      err: expect.stringMatching(
        /^unknown option "--explian"\nusage: cutover config validate \[--explain\] FILE/,
      ),
    });
    expect(validate().code).toBe(2);
    expect(validate(join(dir, 'missing.json'))).toEqual({
      code: 1,
      out: '',
      err: `cannot read ${join(dir, 'missing.json')}: no such file\n`,
    });
    expect(validate(dir)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/it is a directory, not a file/),
    });
  });
});
