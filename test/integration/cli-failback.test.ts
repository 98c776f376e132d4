import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig } from '../support/fixtures.js';

const CONFIG = 'examples/cutover.example.json';
const SAMPLE = 'events/failback-input.sample.json';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('cutover failback --dry-run reads the lease (DynamoDB Local, --endpoint)', () => {
  it('refuses while the input names a region that does not hold the lease, then passes once it does', {
    timeout: 60_000,
  }, async () => {
    const t = await freshTables('fb');
    const table = ['--table', t.names.control, '--region', 'us-east-1', '--endpoint', t.endpoint];
    const dry = () => cli('failback', '--config', CONFIG, '--input', SAMPLE, ...table, '--dry-run');

    const none = dry();
    expect(none.code).toBe(1);
    expect(none.out).toBe('');
    expect(none.err).toBe(
      `REFUSED dry run: no lease exists (${t.names.control}, us-east-1); a real run's first state would refuse it; nothing was sent\n` +
        '  from: must be the region that holds the lease; nobody holds it at epoch -\n',
    );

    // The sample fails back from us-west-2; us-east-1 still holds the lease.
    // Taken two minutes ago and not renewed since, so that the revoked lease has run out before the grant.
    const lease = exampleConfig().lease;
    const past = new DynamoLeaseStore(t.doc, t.names.control, lease, { now: () => Date.now() - 120_000 });
    const leases = new DynamoLeaseStore(t.doc, t.names.control, lease, { now: Date.now });
    await past.acquire('orders', 'us-east-1', null);
    const wrong = dry();
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^REFUSED dry run: us-east-1 holds the lease at epoch 1, EXPIRED at /);
    expect(wrong.err).toContain(
      '  from: must be the region that holds the lease; us-east-1 holds it at epoch 1\n',
    );

    // Revoked (a failover fenced and stopped): a failback cannot start from nobody.
    await past.revoke('orders', 1);
    const revoked = dry();
    expect(revoked.code).toBe(1);
    expect(revoked.err).toContain(
      'from: must be the region that holds the lease; nobody holds it at epoch 2: run a manual failover first',
    );

    await leases.grant('orders', 'us-west-2', 2);
    const ok = dry();
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      new RegExp(
        `^dry run: us-west-2 holds the lease at epoch 3, valid until \\S+ \\(${t.names.control}, us-east-1\\); the input is valid`,
      ),
    );
    expect(ok.out).toContain('"to": "us-east-1"');
  });

  it('a bad --endpoint is a usage problem, exit 2, before anything is read', () => {
    const r = cli('failback', '--config', CONFIG, '--input', SAMPLE, '--endpoint', 'localhost', '--dry-run');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^--endpoint must be a URL such as http:\/\/localhost:8000, got "localhost"\nusage: cutover failback/,
    );
  });
});
