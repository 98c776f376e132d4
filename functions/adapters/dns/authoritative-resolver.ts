import { Resolver } from 'node:dns/promises';
import type { RecordAnswer, RecordResolver } from '#core/failover-ports.js';

export interface AuthoritativeResolverOptions {
  /** Per query (node:dns retries once more at most with `tries`). */
  timeoutMs: number;
  /** The resolvers for the public lookups (zone apex NS, the name servers' addresses); absent: the system's. */
  publicServers?: string[];
  /** The port the authoritative servers answer on (53; tests run their own server elsewhere). */
  authoritativePort?: number;
}

/**
 * Resolves the application's record the way the world will see it, at the zone's authoritative name servers,
 * using only DNS (the data plane). The name servers come from a public NS lookup of the zone apex, found by
 * walking up from the record's name; never from Route 53's GetHostedZone, a control plane in us-east-1.
 */
export class AuthoritativeDnsResolver implements RecordResolver {
  private readonly pub: Resolver;

  constructor(private readonly options: AuthoritativeResolverOptions) {
    this.pub = new Resolver({ timeout: options.timeoutMs, tries: 2 });
    if (options.publicServers) this.pub.setServers(options.publicServers);
  }

  async resolve(name: string, type: 'A' | 'AAAA' | 'CNAME'): Promise<RecordAnswer> {
    const zone = await this.zoneOf(name);
    if ('skipped' in zone) return { code: 'SKIPPED', reason: zone.skipped };
    const ips = (await Promise.all(zone.servers.map((ns) => this.pub.resolve4(ns).catch(() => [])))).flat();
    if (ips.length === 0) {
      return {
        code: 'SKIPPED',
        reason: `no address for the name servers of ${zone.apex} (${zone.servers.join(', ')})`,
      };
    }
    const auth = new Resolver({ timeout: this.options.timeoutMs, tries: 1 });
    const port = this.options.authoritativePort ?? 53;
    auth.setServers(ips.map((ip) => (port === 53 ? ip : `${ip}:${port}`)));
    try {
      const answers =
        type === 'CNAME'
          ? await auth.resolveCname(name)
          : type === 'A'
            ? await auth.resolve4(name)
            : await auth.resolve6(name);
      return { code: 'ANSWERED', servers: zone.servers, answers };
    } catch (err) {
      return {
        code: 'SKIPPED',
        reason: `${zone.servers.join(', ')} gave no ${type} for ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      };
    }
  }

  async valuesOf(host: string, type: 'A' | 'AAAA' | 'CNAME'): Promise<string[]> {
    if (type === 'CNAME') return [host];
    return (type === 'A' ? this.pub.resolve4(host) : this.pub.resolve6(host)).catch(() => []);
  }

  /** The zone apex: the nearest name, from the record up, that has NS records in public DNS. */
  private async zoneOf(name: string): Promise<{ apex: string; servers: string[] } | { skipped: string }> {
    const labels = name.replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join('.');
      try {
        const servers = await this.pub.resolveNs(candidate);
        if (servers.length > 0) return { apex: candidate, servers };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // No NS at this name: go up one label. Anything else (a timeout, a refusal) ends the lookup.
        if (code !== 'ENODATA' && code !== 'ENOTFOUND') {
          return { skipped: `public NS lookup of ${candidate} failed: ${code ?? (err as Error).message}` };
        }
      }
    }
    return { skipped: `no zone apex with NS records found above ${name} by public lookup` };
  }
}
