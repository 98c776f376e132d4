import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthoritativeDnsResolver } from '#adapters/dns/authoritative-resolver.js';
import { planDnsCheck } from '#core/route.js';
import { type DnsServer, startDnsServer } from '../support/dns-server.js';

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer({
    NS: { 'example.test': ['ns1.example.test'] },
    A: { 'ns1.example.test': '127.0.0.1', 'orders-usw2.example.test': '192.0.2.20' },
    CNAME: { 'orders.example.test': 'orders-use1.example.test' },
  });
});
afterAll(() => dns.close());

const resolver = () =>
  new AuthoritativeDnsResolver({
    timeoutMs: 500,
    publicServers: [`127.0.0.1:${dns.port}`],
    authoritativePort: dns.port,
  });

describe('AuthoritativeDnsResolver: the record as the zone’s own name servers answer it (data plane only)', () => {
  it('finds the zone apex by walking up with public NS lookups, then asks its name servers', async () => {
    dns.queries.length = 0;
    expect(await resolver().resolve('orders.example.test', 'CNAME')).toEqual({
      code: 'ANSWERED',
      servers: ['ns1.example.test'],
      answers: ['orders-use1.example.test'],
    });
    expect(dns.queries).toEqual([
      'NS orders.example.test',
      'NS example.test',
      'A ns1.example.test',
      'CNAME orders.example.test',
    ]);
  });

  it('sees the switch as soon as the authoritative answer changes', async () => {
    dns.table.CNAME!['orders.example.test'] = 'orders-usw2.example.test';
    const r = resolver();
    const answer = await r.resolve('orders.example.test', 'CNAME');
    expect(answer).toMatchObject({ answers: ['orders-usw2.example.test'] });
    const check = planDnsCheck({
      to: 'us-west-2',
      from: 'us-east-1',
      answer: answer.code === 'ANSWERED' ? { answers: answer.answers } : { skipped: answer.reason },
      expected: {
        'us-west-2': await r.valuesOf('orders-usw2.example.test', 'CNAME'),
        'us-east-1': await r.valuesOf('orders-use1.example.test', 'CNAME'),
      },
    });
    expect(check.code).toBe('DNS_NEW_REGION');
    expect(await r.valuesOf('orders-usw2.example.test', 'A')).toEqual(['192.0.2.20']);
  });

  it('skips with the reason when no zone apex is found, or the name servers are silent', async () => {
    const none = await resolver().resolve('orders.nowhere.invalid', 'CNAME');
    expect(none).toEqual({ code: 'SKIPPED', reason: expect.stringContaining('no zone apex') });
    dns.down = true;
    try {
      const silent = await resolver().resolve('orders.example.test', 'CNAME');
      expect(silent).toEqual({
        code: 'SKIPPED',
        reason: expect.stringMatching(/public NS lookup of orders.example.test failed: ETIMEOUT/),
      });
    } finally {
      dns.down = false;
    }
  });
});
