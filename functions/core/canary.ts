import type { CutoverConfig } from './config.js';
import type { Incident } from './incident.js';
import type { Lease } from './lease.js';
import type { PauseRecord } from './ports.js';

/**
 * The canary: the seed's "simulated failover" rung. A share of traffic goes to the standby, which serves reads only
 * (it holds no lease, so the write guard refuses its writes); the standby's error rate and latency are compared with
 * the primary's over the same window, and a breach rolls the share back at once. Pure: probes in, decisions out.
 */

export interface CanaryOptions {
  percent: number;
  durationMs: number;
  intervalMs: number;
  /** No judgement before this many probes of each region: one slow answer is not a breach. */
  minSamples: number;
  /** The standby's error rate may exceed the primary's by at most this much (0.02: two points). */
  maxErrorRateIncrease: number;
  /** The standby's p95 latency may be at most this many times the primary's, plus latencySlackMs. */
  maxLatencyRatio: number;
  latencySlackMs: number;
}

export const CANARY_DEFAULTS = {
  intervalMs: 1_000,
  minSamples: 10,
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  latencySlackMs: 50,
} as const;

/** Most of the traffic stays on the primary: a canary is a small share, never a switch. */
export const MAX_CANARY_PERCENT = 50;
export const MAX_CANARY_DURATION_MS = 24 * 3_600_000;

export class CanaryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanaryInputError';
  }
}

/** `--duration`: 90s, 10m, 1h, or milliseconds; refused with the flag's name otherwise. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new CanaryInputError(
      `--duration must be a number with a unit such as 30s, 10m or 1h, got ${JSON.stringify(text)}`,
    );
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'] ?? 1;
  const ms = Number(m[1]) * unit;
  if (ms < 1_000 || ms > MAX_CANARY_DURATION_MS) {
    throw new CanaryInputError(`--duration must be from 1s to 24h, got ${JSON.stringify(text)}`);
  }
  return ms;
}

export function parsePercent(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CANARY_PERCENT) {
    throw new CanaryInputError(
      `--percent must be a whole number from 1 to ${MAX_CANARY_PERCENT} (the share sent to the standby), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** One probe of one region: its status (null when nothing answered) and how long it took. */
export interface Probe {
  region: string;
  at: number;
  ok: boolean;
  latencyMs: number;
  detail: string;
}

export interface ProbeStats {
  samples: number;
  errors: number;
  errorRate: number;
  p95Ms: number | null;
}

export function stats(probes: readonly Probe[]): ProbeStats {
  const errors = probes.filter((p) => !p.ok).length;
  const ok = probes
    .filter((p) => p.ok)
    .map((p) => p.latencyMs)
    .sort((a, b) => a - b);
  const p95 = ok.length ? ok[Math.min(ok.length - 1, Math.ceil(ok.length * 0.95) - 1)]! : null;
  return {
    samples: probes.length,
    errors,
    errorRate: probes.length ? errors / probes.length : 0,
    p95Ms: p95,
  };
}

export type CanaryJudgement =
  | { action: 'continue'; code: 'TOO_FEW_SAMPLES' | 'WITHIN_THRESHOLDS'; reason: string }
  | { action: 'rollback'; code: 'ERROR_RATE_BREACH' | 'LATENCY_BREACH'; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Compares the standby with the primary over the same window. */
export function judgeCanary(
  primary: ProbeStats,
  standby: ProbeStats,
  o: Pick<CanaryOptions, 'minSamples' | 'maxErrorRateIncrease' | 'maxLatencyRatio' | 'latencySlackMs'>,
): CanaryJudgement {
  if (primary.samples < o.minSamples || standby.samples < o.minSamples) {
    return {
      action: 'continue',
      code: 'TOO_FEW_SAMPLES',
      reason: `${Math.min(primary.samples, standby.samples)} of ${o.minSamples} probes a region before judging`,
    };
  }
  if (standby.errorRate > primary.errorRate + o.maxErrorRateIncrease) {
    return {
      action: 'rollback',
      code: 'ERROR_RATE_BREACH',
      reason: `standby error rate ${pct(standby.errorRate)} (${standby.errors}/${standby.samples}) is over the primary's ${pct(primary.errorRate)} + ${pct(o.maxErrorRateIncrease)}`,
    };
  }
  if (standby.p95Ms !== null && primary.p95Ms !== null) {
    const limit = primary.p95Ms * o.maxLatencyRatio + o.latencySlackMs;
    if (standby.p95Ms > limit) {
      return {
        action: 'rollback',
        code: 'LATENCY_BREACH',
        reason: `standby p95 latency ${standby.p95Ms} ms is over ${Math.round(limit)} ms (the primary's ${primary.p95Ms} ms × ${o.maxLatencyRatio} + ${o.latencySlackMs} ms)`,
      };
    }
  }
  return {
    action: 'continue',
    code: 'WITHIN_THRESHOLDS',
    reason: `standby ${pct(standby.errorRate)} errors, p95 ${standby.p95Ms ?? '-'} ms; primary ${pct(primary.errorRate)}, p95 ${primary.p95Ms ?? '-'} ms`,
  };
}

export type CanaryEnd =
  | { code: 'COMPLETED'; reason: string }
  | { code: 'ERROR_RATE_BREACH' | 'LATENCY_BREACH'; reason: string }
  | { code: 'INTERRUPTED'; reason: string }
  | { code: 'TRAFFIC_CHANGE_FAILED'; reason: string };

/** pass: it ran its duration within thresholds and rolled back; anything else fails, with why. */
export function canaryVerdict(
  end: CanaryEnd,
  rolledBack: boolean,
): { verdict: 'pass' | 'fail'; reasons: string[] } {
  const reasons: string[] = [];
  if (end.code !== 'COMPLETED') reasons.push(`${end.code}: ${end.reason}`);
  if (!rolledBack)
    reasons.push('ROLLBACK_FAILED: the share to the standby was not rolled back; set the weights by hand');
  return { verdict: reasons.length ? 'fail' : 'pass', reasons };
}

/** Only a planned weighted path can send a share: weighted records (health-check or records mode) or the dials. */
export function canaryRefusalReason(config: CutoverConfig): string | null {
  const t = config.traffic;
  if (!t) return 'no traffic section: there is no traffic layer to send a share through';
  if (t.mode === 'arc') return 'traffic.mode arc: routing controls are on or off, they cannot send a share';
  if (t.mode === 'accelerator') {
    return Object.keys(t.accelerator?.endpoints ?? {}).length >= 2
      ? null
      : 'traffic.accelerator.endpoints must name both regions for the traffic dials';
  }
  if (t.routing !== 'weighted') return `traffic.routing ${t.routing}: only weighted records can send a share`;
  if (!config.primary.setIdentifier || !config.standby.setIdentifier) {
    return 'primary.setIdentifier and standby.setIdentifier are needed to find the weighted records';
  }
  return null;
}

/** What the control table holds when a canary asks to start: read by the CLI before it touches any traffic. */
export interface CanaryControlState {
  lease: Pick<Lease, 'holder' | 'epoch' | 'expiresAt'> | null;
  pause: Pick<PauseRecord, 'pausedBy' | 'reason'> | null;
  openIncident: Pick<Incident, 'id' | 'status'> | null;
}

export type CanaryControlRefusal = {
  code: 'NO_LEASE' | 'LEASE_REVOKED' | 'PRIMARY_NOT_HOLDER' | 'LEASE_EXPIRED' | 'INCIDENT_OPEN' | 'PAUSED';
  reason: string;
};

/**
 * A canary's rollback sends 100 % to the configured primary, so it may start only while that primary holds a
 * valid lease (after a failover and before a failback the configured primary is the fenced old region), no
 * incident is open (a failover's traffic steps would race the canary's), and the application is not paused
 * (an operator stopped changes). Null: it may start.
 */
export function canaryControlRefusal(
  state: CanaryControlState,
  primary: string,
  now: number,
): CanaryControlRefusal | null {
  const { lease, pause, openIncident } = state;
  if (openIncident) {
    return {
      code: 'INCIDENT_OPEN',
      reason: `incident ${openIncident.id} is open (${openIncident.status}): its traffic steps would race the canary's; wait until it closes (cutover status)`,
    };
  }
  if (pause) {
    return {
      code: 'PAUSED',
      reason: `the application is paused by ${pause.pausedBy} (${pause.reason}): run \`cutover resume\` first if traffic may change`,
    };
  }
  if (!lease) {
    return {
      code: 'NO_LEASE',
      reason: `no lease has ever been granted: the configured primary ${primary} must hold the lease before a canary`,
    };
  }
  if (lease.holder === null) {
    return {
      code: 'LEASE_REVOKED',
      reason: `the lease was revoked at epoch ${lease.epoch} (a failover fenced ${primary}): a rollback would send all traffic to a fenced region`,
    };
  }
  if (lease.holder !== primary) {
    return {
      code: 'PRIMARY_NOT_HOLDER',
      reason: `${lease.holder} holds the lease at epoch ${lease.epoch}, not the configured primary ${primary}: a rollback would send all traffic to the fenced old region; fail back first (cutover failback)`,
    };
  }
  if (now >= lease.expiresAt) {
    return {
      code: 'LEASE_EXPIRED',
      reason: `${primary}'s lease at epoch ${lease.epoch} expired at ${new Date(lease.expiresAt).toISOString()} (not renewed: it refuses writes); see cutover status`,
    };
  }
  return null;
}
