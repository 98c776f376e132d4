import { describe, expect, it } from 'vitest';
import type { Lease } from '#core/lease.js';
import {
  databaseChecks,
  definitionDifference,
  evaluateReadiness,
  holderChecks,
  leaseCheck,
  machineCheck,
  parseReadinessInput,
  permissionCheck,
  slackCheck,
  substituteDefinition,
} from '#core/readiness.js';
import { readinessCommand } from '../../bin/readiness-command.js';

const NOW = 1_800_000_000_000;
const lease = (p: Partial<Lease> = {}): Lease => ({
  application: 'orders',
  holder: 'us-east-1',
  epoch: 3,
  expiresAt: NOW + 20_000,
  updatedAt: NOW - 10_000,
  ...p,
});

describe('readiness checks', () => {
  it('permissions: every pair allowed passes; any other decision names the action, the resource and the decision', () => {
    expect(
      permissionCheck({
        role: 'promote',
        decisions: [{ action: 'rds:PromoteReadReplica', resource: 'arn:db', decision: 'allowed' }],
      }),
    ).toMatchObject({ check: 'permissions:promote', pass: true, code: 'PERMISSIONS_OK' });
    expect(
      permissionCheck({
        role: 'promote',
        decisions: [
          { action: 'rds:DescribeDBInstances', resource: 'arn:db', decision: 'allowed' },
          { action: 'rds:PromoteReadReplica', resource: 'arn:db', decision: 'explicitDeny' },
        ],
      }),
    ).toEqual({
      check: 'permissions:promote',
      pass: false,
      code: 'PERMISSION_DENIED',
      reason: 'IAM denies rds:PromoteReadReplica on arn:db (explicitDeny)',
    });
    expect(permissionCheck({ role: 'fence', error: 'ResourceNotFoundException: no function' })).toMatchObject(
      {
        pass: false,
        code: 'ROLE_UNREADABLE',
      },
    );
  });

  it('database: a promotable replica within the budget passes; writable, unknown lag or over budget fail', () => {
    const ok = databaseChecks(
      {
        region: 'us-west-2',
        standing: { code: 'promotable', reason: 'rep available, replica of src' },
        lag: { lagMs: 5000, at: NOW },
      },
      5000,
    );
    expect(ok.map((r) => [r.code, r.pass])).toEqual([
      ['STANDBY_IS_REPLICA', true],
      ['LAG_WITHIN_BUDGET', true],
    ]);
    const bad = databaseChecks(
      {
        region: 'us-west-2',
        standing: { code: 'writable', reason: 'rep available, not a replica' },
        lag: { lagMs: 5001, at: NOW },
      },
      5000,
    );
    expect(bad.map((r) => r.code)).toEqual(['STANDBY_NOT_REPLICA', 'LAG_OVER_BUDGET']);
    expect(bad[0]!.reason).toBe(
      'us-west-2: rep available, not a replica (writable): a failover could not promote it',
    );
    const unknown = databaseChecks(
      { region: 'us-west-2', standing: { error: 'AccessDenied' }, lag: { lagMs: null, at: null } },
      5000,
    );
    expect(unknown.map((r) => [r.code, r.pass])).toEqual([
      ['DATABASE_UNREADABLE', false],
      ['LAG_UNKNOWN', false],
    ]);
  });

  it('lease: renewed when the expiry moves or lies within a TTL ahead; not when expired and still, revoked, absent or too far ahead', () => {
    expect(leaseCheck({ reads: [{ at: NOW, lease: lease() }] }, 30_000).code).toBe('LEASE_RENEWED');
    expect(
      leaseCheck(
        {
          reads: [
            { at: NOW, lease: lease({ expiresAt: NOW - 1 }) },
            { at: NOW + 10_000, lease: lease({ expiresAt: NOW + 30_000 }) },
          ],
        },
        30_000,
      ),
    ).toMatchObject({ pass: true, code: 'LEASE_RENEWED' });
    const still = leaseCheck(
      {
        reads: [
          { at: NOW, lease: lease({ expiresAt: NOW - 5 }) },
          { at: NOW + 10_000, lease: lease({ expiresAt: NOW - 5 }) },
        ],
      },
      30_000,
    );
    expect(still).toEqual({
      check: 'lease:renewed',
      pass: false,
      code: 'LEASE_NOT_RENEWED',
      reason:
        'the lease of us-east-1 at epoch 3 expired 10005 ms before the last read and did not move: nothing renews it',
    });
    expect(leaseCheck({ reads: [{ at: NOW, lease: lease({ holder: null }) }] }, 30_000).code).toBe(
      'LEASE_NOT_RENEWED',
    );
    expect(leaseCheck({ reads: [{ at: NOW, lease: lease({ expiresAt: NOW + 60_000 }) }] }, 30_000).pass).toBe(
      false,
    );
    expect(
      leaseCheck(
        {
          reads: [
            { at: NOW, lease: null },
            { at: NOW + 1, lease: null },
          ],
        },
        30_000,
      ).code,
    ).toBe('NO_LEASE');
    expect(leaseCheck({ error: 'ResourceNotFoundException' }, 30_000).code).toBe('LEASE_UNREADABLE');
  });

  it('holder checks: 200 where the lease is held, 503 elsewhere; with no holder, 503 everywhere', () => {
    const readings = [
      { region: 'us-east-1', status: 200, body: null, detail: 'status 200' },
      { region: 'us-west-2', status: 503, body: null, detail: 'status 503' },
    ];
    expect(holderChecks(readings, 'us-east-1').map((r) => r.pass)).toEqual([true, true]);
    const none = holderChecks(readings, null);
    expect(none.map((r) => r.code)).toEqual(['HOLDER_CHECK_UNEXPECTED', 'HOLDER_CHECK_OK']);
    expect(none[0]!.reason).toBe('us-east-1 does not hold the lease, so 503 was expected: status 200');
    expect(
      holderChecks([{ region: 'us-west-2', status: null, body: null, detail: 'timeout' }], 'us-west-2')[0]!
        .pass,
    ).toBe(false);
  });

  it('slack: a valid token and a channel the bot is in pass; each failure says which call', () => {
    const auth = { team: 'Acme', user: 'cutover' };
    expect(slackCheck({ channel: 'C1', auth, info: { name: 'failover', isMember: true } }).code).toBe(
      'SLACK_OK',
    );
    expect(slackCheck({ channel: 'C1', auth: { error: 'invalid_auth' }, info: { error: 'x' } }).reason).toBe(
      'auth.test failed: invalid_auth',
    );
    expect(slackCheck({ channel: 'C1', auth, info: { error: 'channel_not_found' } }).code).toBe(
      'SLACK_CHANNEL_FAILED',
    );
    expect(slackCheck({ channel: 'C1', auth, info: { name: 'failover', isMember: false } }).reason).toContain(
      'not a member of #failover',
    );
  });

  it('state machines: key order is not drift; a changed, missing or extra state is, and names it', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, not a template
    const asl = '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${F}","End":true}}}';
    const built = substituteDefinition(asl, { F: 'arn:f' });
    expect(
      definitionDifference(
        '{"States":{"A":{"End":true,"Resource":"arn:f","Type":"Task"}},"StartAt":"A"}',
        built,
      ),
    ).toBeNull();
    expect(definitionDifference(substituteDefinition(asl, { F: 'arn:g' }), built)).toBe('state A differs');
    expect(definitionDifference('{"StartAt":"A","States":{}}', built)).toBe('state A is missing');
    expect(
      definitionDifference(
        '{"StartAt":"B","States":{"A":{"Type":"Task","Resource":"arn:f","End":true}}}',
        built,
      ),
    ).toBe('StartAt differs');
    expect(definitionDifference('not json', built)).toBe('the deployed definition is not JSON');
    expect(
      machineCheck({
        kind: 'failover',
        arn: 'arn:sm',
        expected: built,
        deployed: { error: 'StateMachineDoesNotExist', notFound: true },
      }).code,
    ).toBe('MACHINE_MISSING');
  });

  it('evaluateReadiness counts the failures, and skips the database and Slack when not configured', () => {
    const r = evaluateReadiness(
      {
        permissions: [],
        database: null,
        lease: { reads: [{ at: NOW, lease: lease() }] },
        holders: [
          { region: 'us-east-1', status: 200, body: null, detail: 'status 200' },
          { region: 'us-west-2', status: 200, body: null, detail: 'status 200' },
        ],
        slack: null,
        machines: [],
      },
      { rpoBudgetMs: 5000, lease: { ttlMs: 30_000 } as never },
      NOW,
    );
    expect(r.results.map((x) => x.check)).toEqual([
      'lease:renewed',
      'holder-check:us-east-1',
      'holder-check:us-west-2',
    ]);
    expect(r).toMatchObject({ pass: false, failed: 1 });
  });
});

describe('bad input', () => {
  it("the scheduled evaluation refuses an input that is not the CDK app's, naming the fields", () => {
    expect(() =>
      parseReadinessInput({ plan: [{ role: 'promote' }], machines: [{ kind: 'drill', arn: 'x' }] }),
    ).toThrow(
      /^not a readiness input \(the schedule's, from the CDK app\): plan\.0\.functionName: .*substitutions: .*machines\.0\.kind: /,
    );
  });

  it.each([
    [[], '--config is required'],
    [
      ['--config', 'examples/cutover.example.json', '--lease-wait-ms=-1'],
      '--lease-wait-ms must be a whole number of milliseconds from 0 to 60000, got "-1"',
    ],
    [['--config', 'examples/cutover.example.json', '--nope'], "Unknown option '--nope'"],
  ])('cutover readiness %j is a usage problem (exit 2), read nothing', async (argv, message) => {
    const err: string[] = [];
    const out: string[] = [];
    const code = await readinessCommand(argv, { io: { out: (s) => out.push(s), err: (s) => err.push(s) } });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('')).toContain(message);
    expect(err.join('')).toContain('usage: cutover readiness --config FILE');
  });
});
