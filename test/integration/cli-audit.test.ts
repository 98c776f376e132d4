import { afterEach, describe, expect, it } from 'vitest';
import { failoverTaskHandlers } from '#steps/core/task-handlers.js';
import { auditCommand } from '../../bin/audit-command.js';
import { runStateMachine } from '../../infra/local/sfn-runner.js';
import { captureIo as capture } from '../support/capture-io.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';
import { type Harness, makeHarness, seedStalledPrimary } from '../support/machine-harness.js';

const FAILOVER = new URL('../../statemachines/failover.asl.json', import.meta.url).pathname;
const CONFIG = 'examples/cutover.example.json';

let harness: Harness | undefined;
afterEach(() => {
  harness?.restore();
  harness = undefined;
});

describe('cutover audit INCIDENT (DynamoDB Local, after a real run of the failover machine)', () => {
  it('prints the incident and every step in order with its duration, outcome and decision', {
    timeout: 60_000,
  }, async () => {
    const t = await freshTables('aud');
    const config = exampleConfig();
    harness = makeHarness(t.doc, t.names.control, t.names.votes, config);
    const { request } = await seedStalledPrimary(t, config);
    const run = await runStateMachine(FAILOVER, request, failoverTaskHandlers(harness.deps), {
      waitMs: 0,
      retryIntervalMs: 0,
    });
    expect(run.status, JSON.stringify(run.error)).toBe('SUCCEEDED');
    const table = ['--table', t.names.control, '--endpoint', t.endpoint, '--region', 'us-east-1'];

    const io = capture();
    const code = await auditCommand([request.incidentId, '--config', CONFIG, ...table], { io });
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const out = io.stdout();
    expect(out).toMatch(
      new RegExp(`^incident ${request.incidentId}: failover us-east-1 → us-west-2, completed`),
    );
    const steps = out
      .split('\n')
      .filter((l) => /^\s+\+\d/.test(l))
      .map((l) => l.trim().split(/\s+/)[4]);
    // Claim first, then the fence before the promotion, the grant before traffic, and the notice last.
    for (const [a, b] of [
      ['claim', 'fence'],
      ['fence', 'promote'],
      ['promote', 'grant-lease'],
      ['grant-lease', 'route-traffic'],
    ]) {
      expect(steps.indexOf(a!), `${a} in ${steps.join(',')}`).toBeGreaterThanOrEqual(0);
      expect(steps.indexOf(a!)).toBeLessThan(steps.indexOf(b!));
    }
    expect(out).toMatch(/fence\s+revoked\s+REVOKE: /);
    expect(out).toMatch(/ms\s+claim\s+claimed/);
    expect(out).toMatch(/\d+ entries over \d+\.\d{3} s\n$/);

    const json = capture();
    expect(
      await auditCommand([request.incidentId, '--config', CONFIG, '--json', ...table], { io: json }),
    ).toBe(0);
    const parsed = JSON.parse(json.stdout());
    expect(parsed.incident.id).toBe(request.incidentId);
    expect(parsed.trail.length).toBe(steps.length);
  });

  it('refuses a malformed id, another application, an unknown incident and a missing --config', {
    timeout: 30_000,
  }, async () => {
    const t = await freshTables('aud2');
    const table = ['--table', t.names.control, '--endpoint', t.endpoint, '--region', 'us-east-1'];
    const cases: [string[], number, string][] = [
      [['not-an-id', '--config', CONFIG, ...table], 2, '"not-an-id" is not an incident id'],
      [['--config', CONFIG, ...table], 2, 'name the incident, e.g. orders:3:1'],
      [
        ['billing:1:1', '--config', CONFIG, ...table],
        1,
        'incident billing:1:1 belongs to billing, not to orders',
      ],
      [
        ['orders:9:1', '--config', CONFIG, ...table],
        1,
        `no incident orders:9:1 in ${t.names.control} (us-east-1)`,
      ],
      [['orders:9:1', ...table], 2, '--config is required'],
    ];
    for (const [args, code, message] of cases) {
      const io = capture();
      expect(await auditCommand(args, { io }), args.join(' ')).toBe(code);
      expect(io.stderr(), args.join(' ')).toContain(message);
      expect(io.stdout()).toBe('');
    }
  });
});
