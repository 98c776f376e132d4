import type { Lease } from './lease.js';

/**
 * Routing traffic to the new primary: in the weighted steps of a failback, or all at once for a failover, and
 * only to the region that holds the lease, read just before (traffic follows the lease). Pure.
 */
export interface TrafficStep {
  index: number;
  /** Percent of the traffic to the new primary. */
  weight: number;
  last: boolean;
}

/** The step after `previousIndex` (null before the first); null when there is none. */
export function nextStep(steps: readonly number[], previousIndex: number | null): TrafficStep | null {
  const index = previousIndex === null ? 0 : previousIndex + 1;
  const weight = steps[index];
  return weight === undefined ? null : { index, weight, last: index === steps.length - 1 };
}

export type RoutePlan = { code: 'ROUTE'; reason: string } | { code: 'NOT_HOLDER'; reason: string };

export function planRoute(s: {
  to: string;
  weight: number;
  lease: Pick<Lease, 'epoch' | 'holder'> | null;
}): RoutePlan {
  if (!s.lease || s.lease.holder !== s.to) {
    return {
      code: 'NOT_HOLDER',
      reason: `${s.to} does not hold the lease (epoch ${s.lease?.epoch} held by ${s.lease?.holder ?? 'nobody'}); no traffic goes to it`,
    };
  }
  return {
    code: 'ROUTE',
    reason: `${s.to} holds the lease at epoch ${s.lease.epoch}: route ${s.weight}% of the traffic to it`,
  };
}

export type DnsCheck = {
  code: 'DNS_NEW_REGION' | 'DNS_OLD_REGION' | 'DNS_UNKNOWN' | 'DNS_SKIPPED';
  reason: string;
};

const norm = (v: string) => v.toLowerCase().replace(/\.$/, '');

/**
 * Which region the record's authoritative answer points at: the new one (traffic has moved as DNS resolvers
 * will see it once their cached answer's TTL runs out), the old one, neither that can be told, or nothing known.
 */
export function planDnsCheck(s: {
  to: string;
  from: string;
  answer: { answers: string[] } | { skipped: string };
  expected: Record<string, string[]>;
}): DnsCheck {
  if ('skipped' in s.answer) return { code: 'DNS_SKIPPED', reason: s.answer.skipped };
  const got = s.answer.answers.map(norm);
  const points = (region: string) => (s.expected[region] ?? []).map(norm).some((v) => got.includes(v));
  const shown = got.join(', ') || 'nothing';
  if (points(s.to) && !points(s.from)) {
    return { code: 'DNS_NEW_REGION', reason: `the authoritative answer (${shown}) is ${s.to}'s` };
  }
  if (points(s.from)) {
    return {
      code: 'DNS_OLD_REGION',
      reason: `the authoritative answer (${shown}) is still ${s.from}'s: its health check has not turned yet`,
    };
  }
  return {
    code: 'DNS_UNKNOWN',
    reason: `the authoritative answer (${shown}) is neither region's endpoint as configured (${[s.to, s.from].map((r) => `${r}: ${(s.expected[r] ?? []).join(', ') || '-'}`).join('; ')})`,
  };
}
