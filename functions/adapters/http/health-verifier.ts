import type { HealthCheck, HealthVerifier } from '#core/failover-ports.js';
import { type HealthProbe, type ProbeTimeouts, probeHealth } from './health-probe.js';

/** Verifies a region through its public health endpoint with the prober's own HTTP check. */
export class HttpHealthVerifier implements HealthVerifier {
  constructor(
    private readonly timeouts: ProbeTimeouts,
    private readonly probe: HealthProbe = probeHealth,
  ) {}

  async check(url: string): Promise<HealthCheck> {
    const r = await this.probe(url, this.timeouts);
    return { healthy: r.healthy, detail: `${r.detail} in ${r.latencyMs} ms` };
  }
}
