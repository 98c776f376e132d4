import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue, loadConfig, parseConfig, parseConfigText } from '#core/config.js';
import { exampleConfigJson } from '../support/fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: tests reshape raw JSON freely
type Raw = Record<string, any>;

const exampleText = readFileSync(new URL('../../examples/cutover.example.json', import.meta.url), 'utf8');

function issuesOf(mutate: (raw: Raw) => void): ConfigIssue[] {
  const raw = exampleConfigJson() as Raw;
  mutate(raw);
  const result = parseConfig(raw);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.issues;
}

const accepted = (mutate: (raw: Raw) => void): boolean => {
  const raw = exampleConfigJson() as Raw;
  mutate(raw);
  return parseConfig(raw).ok;
};

const fieldsOf = (issues: ConfigIssue[]) => [...new Set(issues.map((i) => i.field))].sort();

describe('the example configuration', () => {
  it('passes as it ships, from an object and from its text', () => {
    const result = parseConfig(exampleConfigJson());
    expect(result).toMatchObject({ ok: true });
    expect(parseConfigText(exampleText)).toEqual(result);
    const config = loadConfig(exampleConfigJson());
    expect(config.primary.region).toBe('us-east-1');
    expect(config.standby.region).toBe('us-west-2');
    expect(config.watchers).toHaveLength(5);
    expect(config.quorum).toBe(3);
  });
});

interface Rule {
  rule: string;
  mutate: (raw: Raw) => void;
  /** The distinct fields the refusal names, exactly. */
  fields: string[];
  /** What the message must say: the valid value or bound. */
  message: RegExp;
}

const rules: Rule[] = [
  {
    rule: 'primary = standby',
    mutate: (r) => {
      r.standby.region = 'us-east-1';
    },
    fields: ['standby.region'],
    message: /must differ from primary\.region \(us-east-1\)/,
  },
  {
    rule: 'a watcher listed twice',
    mutate: (r) => {
      r.watchers = ['eu-west-1', 'ap-southeast-2', 'eu-west-1', 'sa-east-1', 'ap-northeast-1'];
    },
    fields: ['watchers'],
    message: /lists eu-west-1 twice; each watcher region votes once/,
  },
  {
    rule: 'a watcher that is an application region',
    mutate: (r) => {
      r.watchers[2] = 'us-west-2';
    },
    fields: ['watchers[2]'],
    message: /us-west-2 is an application region; watchers must be other regions/,
  },
  {
    rule: 'quorum not a majority of the watchers',
    mutate: (r) => {
      r.quorum = 2;
    },
    fields: ['quorum'],
    message: /majority of the 5 watchers: between 3 and 5, got 2/,
  },
  {
    rule: 'quorum above the number of watchers',
    mutate: (r) => {
      r.quorum = 6;
    },
    fields: ['quorum'],
    message: /between 3 and 5, got 6/,
  },
  {
    rule: 'quorum counted on distinct watchers',
    mutate: (r) => {
      r.watchers = ['eu-west-1', 'eu-west-1', 'ca-central-1', 'sa-east-1'];
      r.quorum = 4;
    },
    fields: ['quorum', 'watchers'],
    message: /majority of the 3 watchers: between 2 and 3, got 4/,
  },
  {
    rule: 'fewer than 2 control regions',
    mutate: (r) => {
      r.controlRegions = ['us-east-2'];
    },
    fields: ['controlRegions'],
    message: /needs at least 2 control regions/,
  },
  {
    rule: 'fewer than 2 distinct control regions',
    mutate: (r) => {
      r.controlRegions = ['us-east-2', 'us-east-2'];
    },
    fields: ['controlRegions'],
    message: /needs at least 2 distinct control regions/,
  },
  {
    rule: 'control regions only the primary',
    mutate: (r) => {
      r.controlRegions = ['us-east-1', 'us-east-1'];
    },
    fields: ['controlRegions'],
    message: /must not be only the primary region \(us-east-1\)/,
  },
  {
    rule: 'MRSC with 3 regions and a witness',
    mutate: (r) => {
      r.leaseAuthority.witnessRegion = 'eu-west-2';
    },
    fields: ['leaseAuthority.witnessRegion'],
    message: /must be omitted with 3 full replica regions \(MRSC takes 3, or 2 \+ witness\)/,
  },
  {
    rule: 'MRSC with 2 regions and no witness',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-2', 'us-west-2'] };
    },
    fields: ['leaseAuthority.witnessRegion'],
    message: /is required with 2 replica regions \(MRSC takes 3, or 2 \+ witness\)/,
  },
  {
    rule: 'MRSC region listed twice',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-2', 'us-west-2', 'us-east-2'] };
    },
    fields: ['leaseAuthority.regions'],
    message: /lists us-east-2 twice/,
  },
  {
    rule: 'witness among the MRSC regions',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-2', 'us-west-2'], witnessRegion: 'us-west-2' };
    },
    fields: ['leaseAuthority.witnessRegion'],
    message: /must not be one of leaseAuthority\.regions \(us-west-2\)/,
  },
  {
    rule: 'MRSC replicas across region sets',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-2', 'us-east-1', 'eu-west-1'] };
    },
    fields: ['leaseAuthority.regions'],
    message:
      /^MRSC replicas and witness must all lie in one region set \(US: us-east-1, us-east-2, us-west-2; EU: .*; AP: .*\); eu-west-1 is outside the US set$/,
  },
  {
    rule: 'an MRSC replica in no region set',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-1', 'us-west-1'], witnessRegion: 'us-east-2' };
    },
    fields: ['leaseAuthority.regions'],
    message: /us-west-1 is outside the US set$/,
  },
  {
    rule: 'MRSC replicas all outside the region sets',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['ca-central-1', 'sa-east-1'], witnessRegion: 'us-west-1' };
    },
    fields: ['leaseAuthority.regions'],
    message: /ca-central-1, sa-east-1, us-west-1 are outside every set$/,
  },
  {
    rule: 'MRSC witness outside the replicas’ region set',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['eu-west-1', 'eu-central-1'], witnessRegion: 'us-east-1' };
    },
    fields: ['leaseAuthority.witnessRegion'],
    message: /one region set \(US: .*\); us-east-1 is outside the EU set$/,
  },
  {
    rule: 'arbiter = primary',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-east-1' };
    },
    fields: ['leaseAuthority.region'],
    message: /the arbiter must not be the primary region \(us-east-1\)/,
  },
  {
    rule: 'connect timeout above the response timeout',
    mutate: (r) => {
      r.probe.connectTimeoutMs = 3_001;
    },
    fields: ['probe.connectTimeoutMs'],
    message: /must be at most probe\.responseTimeoutMs \(3000\)/,
  },
  {
    rule: 'response timeout not below the probe interval',
    mutate: (r) => {
      r.probe.responseTimeoutMs = 10_000;
    },
    fields: ['probe.responseTimeoutMs'],
    message: /must be less than probe\.intervalMs \(10000\)/,
  },
  {
    rule: 'debounce shorter than 2 probe intervals',
    mutate: (r) => {
      r.debounceMs = 19_999;
    },
    fields: ['debounceMs'],
    message: /must be at least 2 × probe\.intervalMs = 20000, got 19999/,
  },
  {
    rule: 'vote staleness shorter than a probe interval plus its response timeout',
    mutate: (r) => {
      r.voteStalenessMs = 12_999;
    },
    fields: ['voteStalenessMs'],
    message: /must be at least probe\.intervalMs \+ probe\.responseTimeoutMs = 13000/,
  },
  {
    rule: 'renewInterval + health timeout + 3 × retryTimeout > ttl − skew − margin',
    mutate: (r) => {
      r.lease.retryTimeoutMs = 5_167;
    },
    fields: ['lease.ttlMs'],
    message:
      /\(28500\) must be at least lease\.renewIntervalMs \+ probe\.responseTimeoutMs \+ 3 × lease\.retryTimeoutMs = 28501, so that the holder rides out a health check as slow as the watchers allow and two failed renewals, and the third lands before writes stop/,
  },
  {
    // Issue 11's case: 10 + 2 × 2 = 14 fits a 14 s lease only if skew and margin are forgotten.
    rule: 'two failed renewals that fit the ttl only without skew and margin',
    mutate: (r) => {
      r.lease = {
        ttlMs: 14_000,
        renewIntervalMs: 10_000,
        retryTimeoutMs: 2_000,
        maxSkewMs: 1_000,
        safetyMarginMs: 500,
      };
      r.takeoverAfterMs = 180_000;
    },
    fields: ['lease.ttlMs'],
    message: /\(12500\) must be at least .* = 19000/,
  },
  {
    // Issue 11: ttl 12 s, renew 4 s, retry 4 s left a renewal gap; 4 + 3 × 4 = 16 > 12 − 1 − 0.5.
    rule: 'two 4 s retries after a 4 s interval in a 12 s lease',
    mutate: (r) => {
      r.lease = {
        ttlMs: 12_000,
        renewIntervalMs: 4_000,
        retryTimeoutMs: 4_000,
        maxSkewMs: 1_000,
        safetyMarginMs: 500,
      };
    },
    fields: ['lease.ttlMs'],
    message: /\(10500\) must be at least .* = 19000/,
  },
  {
    // Issue 11: retry 25 s in a 60 s lease; it also breaks the TTL bound, under the same field.
    rule: 'a 25 s retry timeout in a 60 s lease',
    mutate: (r) => {
      r.lease = {
        ttlMs: 60_000,
        renewIntervalMs: 10_000,
        retryTimeoutMs: 25_000,
        maxSkewMs: 1_000,
        safetyMarginMs: 500,
      };
    },
    fields: ['lease.ttlMs'],
    message: /\(58500\) must be at least .* = 88000/,
  },
  {
    rule: 'a lease ttl of a day',
    mutate: (r) => {
      r.lease.ttlMs = 86_400_000;
      r.takeoverAfterMs = 90_000_000;
    },
    fields: ['lease.ttlMs'],
    message: /must be at most 45000: every failover waits out the old lease .* the 60 s recovery target/,
  },
  {
    rule: 'a renew interval over a minute',
    mutate: (r) => {
      r.lease = {
        ttlMs: 120_000,
        renewIntervalMs: 61_000,
        retryTimeoutMs: 2_000,
        maxSkewMs: 1_000,
        safetyMarginMs: 500,
      };
    },
    // The interval cannot fit a lease the TTL bound allows either.
    fields: ['lease.renewIntervalMs', 'lease.ttlMs'],
    message: /must be at most 60000 \(a scheduled heartbeat starts once a minute\), got 61000/,
  },
  {
    rule: 'a probe interval over a minute',
    mutate: (r) => {
      r.probe.intervalMs = 90_000;
      r.debounceMs = 180_000;
      r.voteStalenessMs = 100_000;
    },
    fields: ['probe.intervalMs'],
    message: /must be at most 60000 \(probers start once a minute\), got 90000/,
  },
  {
    rule: 'no clock skew allowed for',
    mutate: (r) => {
      r.lease.maxSkewMs = 0;
    },
    fields: ['lease.maxSkewMs'],
    message: /must be above 0/,
  },
  {
    rule: 'no safety margin',
    mutate: (r) => {
      r.lease.safetyMarginMs = 0;
    },
    fields: ['lease.safetyMarginMs'],
    message: /must be above 0/,
  },
  {
    rule: 'a cool-down of 0',
    mutate: (r) => {
      r.cooldownMs = 0;
    },
    fields: ['cooldownMs'],
    message: /must be at least 10 × debounceMs = 300000/,
  },
  {
    rule: 'an immediate reopen',
    mutate: (r) => {
      r.reopenAfterMs = 0;
    },
    fields: ['reopenAfterMs'],
    message: /must be at least debounceMs \(30000\)/,
  },
  {
    rule: 'control regions that are the application regions',
    mutate: (r) => {
      r.controlRegions = ['us-west-2', 'us-east-1'];
    },
    fields: ['controlRegions'],
    message: /needs at least one region outside the application regions \(us-east-1, us-west-2\)/,
  },
  {
    rule: 'the arbiter in the standby region',
    mutate: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-west-2' };
    },
    fields: ['leaseAuthority.region'],
    message: /must not be the standby region \(us-west-2\)/,
  },
  {
    rule: 'one health URL for both regions',
    mutate: (r) => {
      r.standby.healthUrl = r.primary.healthUrl;
    },
    fields: ['standby.healthUrl'],
    message: /must differ from primary\.healthUrl/,
  },
  {
    rule: 'one record set identifier for both regions',
    mutate: (r) => {
      r.standby.setIdentifier = r.primary.setIdentifier;
    },
    fields: ['standby.setIdentifier'],
    message: /must differ from primary\.setIdentifier/,
  },
  {
    rule: 'one database for both regions',
    mutate: (r) => {
      r.standby.databaseId = r.primary.databaseId;
    },
    fields: ['standby.databaseId'],
    message: /must differ from primary\.databaseId/,
  },
  {
    // ceil(4 / 2) = 2 is half, not a majority: two watchers could outvote nobody and fail over on a partition.
    rule: 'a quorum of half of an even number of watchers',
    mutate: (r) => {
      r.watchers = ['eu-west-1', 'ap-southeast-2', 'ca-central-1', 'sa-east-1'];
      r.quorum = 2;
    },
    fields: ['quorum'],
    message: /majority of the 4 watchers: between 3 and 4, got 2/,
  },
  {
    rule: 'a quorum of half of six watchers',
    mutate: (r) => {
      r.watchers = [
        'eu-west-1',
        'ap-southeast-2',
        'ca-central-1',
        'sa-east-1',
        'ap-northeast-1',
        'eu-north-1',
      ];
      r.quorum = 3;
    },
    fields: ['quorum'],
    message: /majority of the 6 watchers: between 4 and 6, got 3/,
  },
  {
    rule: 'policy ask without a Slack section',
    mutate: (r) => {
      delete r.approval.slack;
    },
    fields: ['approval.slack.approvers'],
    message: /needs at least one approver when approval\.ambiguousPolicy is "ask"/,
  },
  {
    rule: 'policy ask with no approvers',
    mutate: (r) => {
      r.approval.slack.approvers = [];
    },
    fields: ['approval.slack.approvers'],
    message: /needs at least one approver/,
  },
  {
    rule: 'twoPerson with fewer than 2 distinct approvers',
    mutate: (r) => {
      r.approval.slack.approvers = ['U012AB3CD', 'U012AB3CD'];
      r.approval.slack.twoPerson = true;
    },
    fields: ['approval.slack.approvers'],
    message: /needs at least 2 distinct approvers when approval\.slack\.twoPerson is true/,
  },
  {
    rule: 'traffic without the primary set identifier',
    mutate: (r) => {
      delete r.primary.setIdentifier;
    },
    fields: ['primary.setIdentifier'],
    message: /is required when traffic is configured/,
  },
  {
    rule: 'traffic without the standby set identifier',
    mutate: (r) => {
      delete r.standby.setIdentifier;
    },
    fields: ['standby.setIdentifier'],
    message: /is required when traffic is configured/,
  },
  {
    rule: 'database without the primary database id',
    mutate: (r) => {
      delete r.primary.databaseId;
    },
    fields: ['primary.databaseId'],
    message: /is required when database is configured/,
  },
  {
    rule: 'database without the standby database id',
    mutate: (r) => {
      delete r.standby.databaseId;
    },
    fields: ['standby.databaseId'],
    message: /is required when database is configured/,
  },
  {
    rule: 'aurora without globalClusterId',
    mutate: (r) => {
      r.database.engine = 'aurora';
    },
    fields: ['database.globalClusterId'],
    message: /is required when database\.engine is "aurora"/,
  },
];

describe('cross-field rules', () => {
  it.each(rules)('refuses $rule, naming $fields', ({ mutate, fields, message }) => {
    const issues = issuesOf(mutate);
    expect(fieldsOf(issues)).toEqual(fields);
    expect(issues.map((i) => i.message)).toContainEqual(expect.stringMatching(message));
  });

  it('reports every rule through loadConfig as a ConfigError that lists each field', () => {
    const raw = exampleConfigJson() as Raw;
    raw.quorum = 2;
    raw.debounceMs = 10_000;
    let error: unknown;
    try {
      loadConfig(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.name).toBe('ConfigError');
    expect(fieldsOf(configError.issues)).toEqual(['debounceMs', 'quorum']);
    expect(configError.message).toMatch(
      /^invalid Cutover configuration:\n {2}- quorum: .*\n {2}- debounceMs: /,
    );
  });

  it('accepts each timing rule exactly at its bound', () => {
    expect(accepted((r) => (r.debounceMs = 20_000))).toBe(true);
    expect(accepted((r) => (r.voteStalenessMs = 13_000))).toBe(true);
    expect(accepted((r) => (r.probe.connectTimeoutMs = 3_000))).toBe(true);
    expect(accepted((r) => (r.probe.responseTimeoutMs = 9_999))).toBe(true);
    expect(accepted((r) => (r.lease.retryTimeoutMs = 5_166))).toBe(true);
    expect(
      accepted((r) => {
        r.lease = {
          ttlMs: 30_000,
          renewIntervalMs: 15_000,
          retryTimeoutMs: 2_000,
          maxSkewMs: 5_500,
          safetyMarginMs: 500,
        };
      }),
    ).toBe(true);
    expect(accepted((r) => (r.quorum = 5))).toBe(true);
    expect(accepted((r) => (r.cooldownMs = 300_000))).toBe(true);
    expect(accepted((r) => (r.reopenAfterMs = 30_000))).toBe(true);
    expect(accepted((r) => (r.probe.intervalMs = 15_000))).toBe(true);
    for (const n of [4, 6]) {
      const watchers = [
        'eu-west-1',
        'ap-southeast-2',
        'ca-central-1',
        'sa-east-1',
        'ap-northeast-1',
        'eu-north-1',
      ];
      expect(
        accepted((r) => {
          r.watchers = watchers.slice(0, n);
          r.quorum = n / 2 + 1;
        }),
      ).toBe(true);
    }
  });

  it('accepts the other lease authorities and approval set-ups that the rules allow', () => {
    expect(
      accepted((r) => {
        r.leaseAuthority = {
          mode: 'mrsc',
          regions: ['us-east-1', 'us-west-2'],
          witnessRegion: 'us-east-2',
        };
      }),
    ).toBe(true);
    for (const regions of [
      ['eu-west-1', 'eu-west-2', 'eu-central-1'],
      ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
    ]) {
      expect(accepted((r) => (r.leaseAuthority = { mode: 'mrsc', regions }))).toBe(true);
    }
    expect(accepted((r) => (r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2' }))).toBe(true);
    expect(accepted((r) => (r.controlRegions = ['us-east-1', 'us-east-2']))).toBe(true);
    expect(
      accepted((r) => {
        r.approval = { ambiguousPolicy: 'abort' };
      }),
    ).toBe(true);
    expect(accepted((r) => (r.approval.slack.twoPerson = true))).toBe(true);
    expect(
      accepted((r) => {
        r.database = { engine: 'aurora', globalClusterId: 'orders-global' };
      }),
    ).toBe(true);
    expect(
      accepted((r) => {
        delete r.traffic;
        delete r.database;
        delete r.primary.setIdentifier;
        delete r.primary.databaseId;
      }),
    ).toBe(true);
  });
});

describe('shape errors', () => {
  it('refuses a value of the wrong type, naming the field and the expected type', () => {
    expect(issuesOf((r) => (r.quorum = '3'))).toEqual([
      { field: 'quorum', message: 'must be a number, not text: write 3 without quotes; got "3"' },
    ]);
    expect(issuesOf((r) => (r.lease.ttlMs = '30s'))).toEqual([
      {
        field: 'lease.ttlMs',
        message: expect.stringMatching(/^must be a number, not text: write a plain number .*; got "30s"$/),
      },
    ]);
    expect(issuesOf((r) => (r.probe.intervalMs = 10_000.5))).toEqual([
      { field: 'probe.intervalMs', message: 'must be a whole number of milliseconds; got 10000.5' },
    ]);
    expect(issuesOf((r) => (r.approval.slack.twoPerson = 'true'))).toEqual([
      {
        field: 'approval.slack.twoPerson',
        message: 'must be true or false (no quotes), not text: write true without quotes; got "true"',
      },
    ]);
    expect(fieldsOf(issuesOf((r) => (r.watchers = 'eu-west-1')))).toEqual(['watchers']);
    expect(issuesOf((r) => (r.approval.ambiguousPolicy = 'retry'))).toEqual([
      { field: 'approval.ambiguousPolicy', message: 'must be one of "ask", "abort", "proceed"; got "retry"' },
    ]);
    expect(issuesOf((r) => (r.approval.ambiguousPolicy = 'aks'))).toEqual([
      {
        field: 'approval.ambiguousPolicy',
        message: 'must be one of "ask", "abort", "proceed" (did you mean "ask"?); got "aks"',
      },
    ]);
    expect(issuesOf((r) => (r.approval.timeoutPolicy = 'ask'))).toEqual([
      { field: 'approval.timeoutPolicy', message: 'must be "abort" or "proceed"; got "ask"' },
    ]);
    expect(issuesOf((r) => (r.leaseAuthority = { mode: 'raft', region: 'us-east-2' }))).toEqual([
      { field: 'leaseAuthority.mode', message: 'needs "mode": "mrsc" or "arbiter", not "raft"' },
    ]);
  });

  it('refuses a missing required field by name', () => {
    expect(issuesOf((r) => delete r.application)).toEqual([
      { field: 'application', message: expect.stringMatching(/^is required: the application name/) },
    ]);
  });

  it('names an unknown key itself and lists the valid keys at its place', () => {
    expect(issuesOf((r) => (r.quorom = 3))).toEqual([
      {
        field: 'quorom',
        message: expect.stringMatching(
          /^is not a known field; did you mean quorum\? \(fields here: application, .*quorum/,
        ),
      },
    ]);
    expect(issuesOf((r) => (r.debounceMS = 30_000))).toEqual([
      {
        field: 'debounceMS',
        message: expect.stringMatching(/^is not a known field; did you mean debounceMs\?/),
      },
    ]);
    expect(issuesOf((r) => (r.lease.ttl = 30_000))).toEqual([
      {
        field: 'lease.ttl',
        message:
          'is not a known field; did you mean ttlMs? (fields here: ttlMs, renewIntervalMs, retryTimeoutMs, maxSkewMs, safetyMarginMs, keeper, scheduledRunMs)',
      },
    ]);
    expect(issuesOf((r) => (r.approval.slack.approver = 'U012AB3CD'))).toEqual([
      {
        field: 'approval.slack.approver',
        message:
          'is not a known field; did you mean approvers? (fields here: channel, approvers, twoPerson, teamId, appId)',
      },
    ]);
  });

  it('lists the keys of the chosen lease authority mode for an unknown key there', () => {
    expect(issuesOf((r) => (r.leaseAuthority.witness = 'eu-west-2'))).toEqual([
      {
        field: 'leaseAuthority.witness',
        message:
          'is not a known field; did you mean witnessRegion? (fields here: mode, regions, witnessRegion)',
      },
    ]);
    expect(
      issuesOf((r) => {
        r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2', regions: ['us-east-2'] };
      }),
    ).toEqual([
      {
        field: 'leaseAuthority.regions',
        message: 'is not a known field; did you mean region? (fields here: mode, region)',
      },
    ]);
  });

  it('reports two unknown keys in one object as two issues', () => {
    expect(
      issuesOf((r) => {
        r.probe.interval = 1;
        r.probe.timeout = 2;
      }).map((i) => i.field),
    ).toEqual(['probe.interval', 'probe.timeout']);
  });

  it('refuses a Slack workspace or app id that is not one, naming the field and an example', () => {
    expect(
      issuesOf((r) => {
        r.approval.slack.teamId = 'my-workspace';
        r.approval.slack.appId = 'T0123ABCDE';
      }),
    ).toEqual([
      {
        field: 'approval.slack.teamId',
        message: 'must be a Slack team id such as T0123ABCD; got "my-workspace"',
      },
      {
        field: 'approval.slack.appId',
        message: 'must be a Slack app id such as A0123ABCD; got "T0123ABCDE"',
      },
    ]);
  });

  it('refuses a name that is not a commercial AWS region, with the region it most likely meant', () => {
    const cases: [string, string][] = [
      ['US-EAST-1', 'did you mean us-east-1?'],
      ['useast1', 'did you mean us-east-1?'],
      ['us-east', 'did you mean us-east-1?'],
      ['us_east_1', 'did you mean us-east-1?'],
      ['eu-centrl-1', 'did you mean eu-central-1?'],
      ['eu-cnetral-1', 'did you mean eu-central-1?'],
      ['ap-southeast-9', 'did you mean ap-southeast-1?'],
    ];
    for (const [bad, hint] of cases) {
      expect(issuesOf((r) => (r.watchers[1] = bad))).toEqual([
        { field: 'watchers[1]', message: `${JSON.stringify(bad)} is not an AWS region: ${hint}` },
      ]);
    }
    expect(issuesOf((r) => (r.primary.region = 'virginia'))).toEqual([
      {
        field: 'primary.region',
        message: expect.stringMatching(
          /^"virginia" is not an AWS region: use a region code such as us-east-1/,
        ),
      },
    ]);
    expect(fieldsOf(issuesOf((r) => (r.leaseAuthority.regions[2] = 'eu-central')))).toEqual([
      'leaseAuthority.regions[2]',
    ]);
    // Other partitions: an account there cannot reach the commercial regions the rest of the file names.
    expect(issuesOf((r) => (r.watchers[1] = 'us-gov-west-1'))).toEqual([
      { field: 'watchers[1]', message: expect.stringMatching(/is in another AWS partition \(GovCloud/) },
    ]);
    expect(issuesOf((r) => (r.watchers[1] = 42))).toEqual([
      { field: 'watchers[1]', message: 'must be text in double quotes, not a whole number; got 42' },
    ]);
    // A record keyed by region (the accelerator's endpoints): the key itself is checked and named.
    expect(
      issuesOf((r) => {
        r.traffic.mode = 'accelerator';
        r.traffic.accelerator = { endpoints: { 'us-east-1': 'alb-1', 'us-wset-2': 'alb-2' } };
      }),
    ).toContainEqual({
      field: 'traffic.accelerator.endpoints.us-wset-2',
      message: '"us-wset-2" is not an AWS region: did you mean us-west-2?',
    });
    expect(accepted((r) => (r.watchers[1] = 'ap-southeast-4'))).toBe(true);
    expect(accepted((r) => (r.watchers[1] = 'mx-central-1'))).toBe(true);
  });

  it('refuses a health URL that is not an http(s) URL, and takes a local one', () => {
    for (const bad of [
      'not a url',
      'orders-use1.example.com/health',
      'ftp://orders.example.com/health',
      'file:///etc/hosts',
    ]) {
      expect(issuesOf((r) => (r.primary.healthUrl = bad))).toEqual([
        {
          field: 'primary.healthUrl',
          message: `must be an http(s) URL of the region-specific health endpoint; got ${JSON.stringify(bad)}`,
        },
      ]);
    }
    expect(accepted((r) => (r.standby.healthUrl = 'http://127.0.0.1:8081/health'))).toBe(true);
  });

  it('refuses text that is not JSON, naming the file', () => {
    const result = parseConfigText('{ "application": "orders", ');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues).toEqual([
      { field: '(file)', message: expect.stringMatching(/^is not valid JSON: /) },
    ]);
  });

  it('refuses JSON that is not an object', () => {
    for (const text of ['null', '[]', '"orders"', '42']) {
      const result = parseConfigText(text);
      expect(result.ok ? [] : result.issues.map((i) => i.field)).toEqual(['(root)']);
    }
  });
});

describe('all errors at once', () => {
  it('reports several shape errors together', () => {
    const issues = issuesOf((r) => {
      r.quorum = '3';
      r.probe.intervalMs = -1;
      r.primary.healthUrl = 'nope';
      r.watchers[0] = 'EU';
    });
    expect(fieldsOf(issues)).toEqual(['primary.healthUrl', 'probe.intervalMs', 'quorum', 'watchers[0]']);
  });

  it('reports several cross-field errors together', () => {
    const issues = issuesOf((r) => {
      r.standby.region = 'us-east-1';
      r.quorum = 1;
      r.debounceMs = 5_000;
      r.lease.retryTimeoutMs = 15_000;
      r.database.engine = 'aurora';
    });
    expect(fieldsOf(issues)).toEqual([
      'database.globalClusterId',
      'debounceMs',
      'lease.ttlMs',
      'quorum',
      'standby.region',
    ]);
  });

  it('reports cross-field errors alongside shape errors in other sections', () => {
    const issues = issuesOf((r) => {
      r.primary.healthUrl = 'ftp://orders.example.com/health';
      r.quorum = 2;
      r.debounceMs = 5_000;
      r.extra = true;
    });
    expect(fieldsOf(issues)).toEqual(['debounceMs', 'extra', 'primary.healthUrl', 'quorum']);
  });

  it('skips a cross-field rule whose inputs are themselves broken, instead of reporting nonsense', () => {
    const issues = issuesOf((r) => {
      r.probe.intervalMs = 'ten seconds';
      r.debounceMs = 5_000;
    });
    expect(fieldsOf(issues)).toEqual(['probe.intervalMs']);
  });
});

interface Boundary {
  rule: string;
  /** The configuration exactly at the bound: accepted. */
  atBound: (raw: Raw) => void;
  /** One step past it: refused, naming exactly `field`. */
  pastBound: (raw: Raw) => void;
  field: string;
  message: RegExp;
}

const lease = (l: Record<string, unknown>) => (r: Raw) => {
  r.lease = { ...r.lease, ...l };
};

// Issue 11: each lease and authority rule accepted at its boundary and refused one step past it.
const boundaries: Boundary[] = [
  {
    rule: 'the holder rides out two failed renewals and the third attempt, skew and margin included',
    // 30 000 − 1 000 − 500 = 28 500 must hold 10 000 + 3 000 (one health check) + 3 × retry.
    atBound: lease({ retryTimeoutMs: 5_166 }),
    pastBound: lease({ retryTimeoutMs: 5_167 }),
    field: 'lease.ttlMs',
    message:
      /\(28500\) must be at least lease\.renewIntervalMs \+ probe\.responseTimeoutMs \+ 3 × lease\.retryTimeoutMs = 28501/,
  },
  {
    rule: 'the renewal budget counts the skew',
    // 17 000 − skew − 500 must hold 10 000 + 3 000 + 3 × 800 = 15 400.
    atBound: lease({ ttlMs: 17_000, renewIntervalMs: 10_000, retryTimeoutMs: 800, maxSkewMs: 1_100 }),
    pastBound: lease({ ttlMs: 17_000, renewIntervalMs: 10_000, retryTimeoutMs: 800, maxSkewMs: 1_101 }),
    field: 'lease.ttlMs',
    message: /\(15399\) must be at least .* = 15400/,
  },
  {
    rule: 'the renewal budget counts the safety margin',
    atBound: lease({ ttlMs: 17_000, renewIntervalMs: 10_000, retryTimeoutMs: 800, safetyMarginMs: 600 }),
    pastBound: lease({ ttlMs: 17_000, renewIntervalMs: 10_000, retryTimeoutMs: 800, safetyMarginMs: 601 }),
    field: 'lease.ttlMs',
    message: /\(15399\) must be at least .* = 15400/,
  },
  {
    rule: 'the TTL bound: the fence waits out the whole lease within the 60 s recovery target',
    atBound: lease({ ttlMs: 45_000 }),
    pastBound: lease({ ttlMs: 45_001 }),
    field: 'lease.ttlMs',
    message: /must be at most 45000: every failover waits out the old lease .*; got 45001/,
  },
  {
    rule: 'a clock skew above zero',
    atBound: lease({ maxSkewMs: 1 }),
    pastBound: lease({ maxSkewMs: 0 }),
    field: 'lease.maxSkewMs',
    message: /must be above 0/,
  },
  {
    rule: 'a safety margin above zero',
    atBound: lease({ safetyMarginMs: 1 }),
    pastBound: lease({ safetyMarginMs: 0 }),
    field: 'lease.safetyMarginMs',
    message: /must be above 0/,
  },
  {
    rule: 'a scheduled run that outlives one missed start',
    atBound: lease({ keeper: 'scheduled', scheduledRunMs: 130_000 }),
    pastBound: lease({ keeper: 'scheduled', scheduledRunMs: 129_999 }),
    field: 'lease.scheduledRunMs',
    message: /must be at least 2 × 60000 \+ lease\.renewIntervalMs = 130000 .*; got 129999/,
  },
  {
    rule: 'a scheduled run that grows with the renew interval',
    atBound: lease({ keeper: 'scheduled', renewIntervalMs: 12_000, scheduledRunMs: 132_000 }),
    pastBound: lease({ keeper: 'scheduled', renewIntervalMs: 12_000, scheduledRunMs: 131_999 }),
    field: 'lease.scheduledRunMs',
    message: /= 132000 with lease\.keeper "scheduled"/,
  },
  {
    rule: 'a scheduled run within one Lambda invocation',
    atBound: lease({ keeper: 'scheduled', scheduledRunMs: 899_999 }),
    pastBound: lease({ keeper: 'scheduled', scheduledRunMs: 900_000 }),
    field: 'lease.scheduledRunMs',
    message: /must be below 900000, Lambda's limit on one invocation/,
  },
  {
    rule: 'a witness outside the primary region',
    atBound: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-1', 'us-west-2'], witnessRegion: 'us-east-2' };
    },
    pastBound: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-2', 'us-west-2'], witnessRegion: 'us-east-1' };
    },
    field: 'leaseAuthority.witnessRegion',
    message: /must not be an application region \(us-east-1, us-west-2\): .*; got us-east-1/,
  },
  {
    rule: 'a witness outside the standby region',
    atBound: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-1', 'us-west-2'], witnessRegion: 'us-east-2' };
    },
    pastBound: (r) => {
      r.leaseAuthority = { mode: 'mrsc', regions: ['us-east-1', 'us-east-2'], witnessRegion: 'us-west-2' };
    },
    field: 'leaseAuthority.witnessRegion',
    message: /must not be an application region .*; got us-west-2/,
  },
  {
    rule: 'an arbiter outside the primary region',
    atBound: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2' };
    },
    pastBound: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-east-1' };
    },
    field: 'leaseAuthority.region',
    message: /must not be the primary region \(us-east-1\)/,
  },
  {
    rule: 'an arbiter outside the standby region',
    atBound: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-east-2' };
    },
    pastBound: (r) => {
      r.leaseAuthority = { mode: 'arbiter', region: 'us-west-2' };
    },
    field: 'leaseAuthority.region',
    message: /must not be the standby region \(us-west-2\)/,
  },
];

describe('lease and lease-authority rules, both ways', () => {
  it.each(boundaries)('$rule: accepted at the bound, refused past it under $field', (b) => {
    const at = exampleConfigJson() as Raw;
    b.atBound(at);
    expect(parseConfig(at)).toMatchObject({ ok: true });
    const issues = issuesOf(b.pastBound);
    expect(fieldsOf(issues)).toEqual([b.field]);
    expect(issues.map((i) => i.message)).toContainEqual(expect.stringMatching(b.message));
  });

  it('leaves the scheduled cycle alone when the keeper is the application process', () => {
    expect(accepted(lease({ keeper: 'process', scheduledRunMs: 1_000 }))).toBe(true);
    expect(accepted(lease({ keeper: 'process', scheduledRunMs: 1_000_000 }))).toBe(true);
  });

  it('refuses a negative skew or margin in the shape, naming the field', () => {
    expect(fieldsOf(issuesOf(lease({ maxSkewMs: -1 })))).toEqual(['lease.maxSkewMs']);
    expect(fieldsOf(issuesOf(lease({ safetyMarginMs: -1 })))).toEqual(['lease.safetyMarginMs']);
  });
});

describe('defaults', () => {
  const minimal = (): Raw => ({
    application: 'orders',
    primary: { region: 'us-east-1', healthUrl: 'https://orders-use1.example.com/health' },
    standby: { region: 'us-west-2', healthUrl: 'https://orders-usw2.example.com/health' },
    watchers: ['eu-west-1', 'ap-southeast-2', 'ca-central-1'],
    controlRegions: ['us-east-2', 'eu-central-1'],
    leaseAuthority: { mode: 'arbiter', region: 'us-east-2' },
    quorum: 2,
    approval: { slack: { channel: 'C0123456789', approvers: ['U012AB3CD'] } },
  });

  it('fills every optional setting when its section is omitted', () => {
    const config = loadConfig(minimal());
    expect(config).toMatchObject({
      probe: { intervalMs: 10_000, connectTimeoutMs: 2_000, responseTimeoutMs: 3_000 },
      debounceMs: 30_000,
      voteStalenessMs: 25_000,
      cooldownMs: 3_600_000,
      reopenAfterMs: 600_000,
      rpoBudgetMs: 5_000,
      lease: {
        ttlMs: 30_000,
        renewIntervalMs: 10_000,
        retryTimeoutMs: 2_000,
        maxSkewMs: 1_000,
        safetyMarginMs: 500,
      },
      approval: { ambiguousPolicy: 'ask', timeoutSeconds: 900, slack: { twoPerson: false } },
    });
    expect(config.traffic).toBeUndefined();
    expect(config.database).toBeUndefined();
    expect(config.fence).toBeUndefined();
  });

  it('fills the rest of a section that is given in part, and of traffic and fence', () => {
    const raw = minimal();
    raw.lease = { ttlMs: 45_000 };
    raw.traffic = { hostedZoneId: 'Z0123ABC', recordName: 'orders.example.com' };
    raw.primary.setIdentifier = 'orders-use1';
    raw.standby.setIdentifier = 'orders-usw2';
    raw.fence = {};
    const config = loadConfig(raw);
    expect(config.lease).toEqual({
      ttlMs: 45_000,
      renewIntervalMs: 10_000,
      retryTimeoutMs: 2_000,
      maxSkewMs: 1_000,
      safetyMarginMs: 500,
      keeper: 'process',
      scheduledRunMs: 130_000,
    });
    expect(config.traffic).toEqual({
      mode: 'health-check',
      hostedZoneId: 'Z0123ABC',
      recordName: 'orders.example.com',
      recordType: 'CNAME',
      routing: 'weighted',
      ttlSeconds: 60,
      failbackSteps: [100],
      healthCheck: { requestIntervalSeconds: 10, failureThreshold: 1 },
      holderCheck: 'application',
      createRecords: false,
    });
    expect(config.fence).toEqual({ lambdaFunctions: [] });
  });

  it('checks the timing rules against the defaults too', () => {
    const raw = minimal();
    raw.probe = { intervalMs: 25_000 };
    const issues = parseConfig(raw);
    // Both rules are filed under the interval the file set, not under the defaults it left alone.
    expect(issues.ok ? [] : issues.issues).toEqual([
      { field: 'probe.intervalMs', message: expect.stringMatching(/^debounceMs .*= 50000, got 30000/) },
      { field: 'probe.intervalMs', message: expect.stringMatching(/^voteStalenessMs .*= 28000/) },
    ]);
    // Set in the file, the debounce is the field to change.
    raw.debounceMs = 30_000;
    const again = parseConfig(raw);
    expect(again.ok ? [] : again.issues.map((i) => i.field)).toEqual(['debounceMs', 'probe.intervalMs']);
  });

  it('defaults the ambiguous policy to ask, which needs approvers', () => {
    const raw = minimal();
    delete raw.approval;
    const result = parseConfig(raw);
    expect(result.ok ? [] : result.issues.map((i) => i.field)).toEqual(['approval.slack.approvers']);
  });
});

describe('traffic modes: what each needs at incident time, refused by field', () => {
  const accelerator = (raw: Raw) => {
    raw.traffic.mode = 'accelerator';
    raw.traffic.accelerator = { endpoints: { 'us-east-1': 'alb-use1', 'us-west-2': 'alb-usw2' } };
  };
  const arc = (raw: Raw) => {
    raw.traffic.mode = 'arc';
    raw.traffic.failbackSteps = [100];
    raw.traffic.arc = {
      clusterArn: 'arn:aws:route53-recovery-control::123456789012:cluster/c1',
      clusterEndpoints: [{ region: 'us-west-2', endpoint: 'https://host-a.us-west-2.example.com/v1' }],
      routingControls: {
        'us-east-1': 'arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/use1',
        'us-west-2': 'arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/usw2',
      },
    };
  };
  const fields = (mutate: (raw: Raw) => void) => issuesOf(mutate).map((i) => i.field);

  it('accelerator: its section and an endpoint per region; no function-served check, no records', () => {
    expect(accepted(accelerator)).toBe(true);
    expect(fields((r) => (r.traffic.mode = 'accelerator'))).toEqual(['traffic.accelerator']);
    expect(
      fields((r) => {
        accelerator(r);
        delete r.traffic.accelerator.endpoints['us-west-2'];
        r.traffic.holderCheck = 'function';
        r.traffic.createRecords = true;
      }),
    ).toEqual(['traffic.accelerator.endpoints.us-west-2', 'traffic.holderCheck', 'traffic.createRecords']);
  });

  it('arc: its section, a routing control per region, the cluster endpoints, and all-at-once failback', () => {
    expect(accepted(arc)).toBe(true);
    expect(fields((r) => (r.traffic.mode = 'arc'))).toEqual(['traffic.arc', 'traffic.failbackSteps']);
    const issues = issuesOf((r) => {
      arc(r);
      delete r.traffic.arc.routingControls['us-east-1'];
      delete r.traffic.arc.clusterEndpoints;
      r.traffic.failbackSteps = [10, 100];
    });
    expect(issues.map((i) => i.field)).toEqual([
      'traffic.arc.routingControls.us-east-1',
      'traffic.arc.clusterEndpoints',
      'traffic.failbackSteps',
    ]);
    expect(issues[2]!.message).toContain('must be [100], got [10,100]');
  });

  it("Route 53's checker regions, and records that only a CNAME can hold", () => {
    expect(
      accepted((r) => (r.traffic.healthCheck = { regions: ['us-east-1', 'eu-west-1', 'sa-east-1'] })),
    ).toBe(true);
    const [checkers] = issuesOf(
      (r) => (r.traffic.healthCheck = { regions: ['us-east-1', 'eu-west-1', 'eu-west-3'] }),
    );
    expect(checkers).toMatchObject({ field: 'traffic.healthCheck.regions' });
    expect(checkers!.message).toMatch(/^eu-west-3 is not a region Route 53 checks from/);
    expect(accepted((r) => (r.traffic.createRecords = true))).toBe(true);
    expect(
      fields((r) => {
        r.traffic.createRecords = true;
        r.traffic.recordType = 'A';
      }),
    ).toEqual(['traffic.recordType']);
  });
});
