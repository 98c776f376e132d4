import { describe, expect, it } from 'vitest';
import { trafficPhaseMs } from '../../infra/local/drill/report.js';
import type { TimelineEvent } from '../../infra/local/timeline.js';

const ev = (at: number, type: string, fields: Record<string, unknown> = {}): TimelineEvent =>
  ({ at, source: 'test', type, ...fields }) as TimelineEvent;

describe("the drill report's traffic phase (clients' view)", () => {
  const fault = 1_000;
  const base = [
    ev(500, 'lease_granted', { region: 'us-east-1', epoch: 1 }),
    ev(600, 'traffic_served', { region: 'us-east-1' }),
    ev(fault, 'fault_injected', { region: 'us-east-1' }),
    ev(5_000, 'lease_granted', { region: 'us-west-2', epoch: 3 }),
    ev(5_100, 'traffic_routed', { region: 'us-west-2' }),
    ev(5_400, 'traffic_in_sync', {}),
  ];

  it('runs from the grant to the first request the new region served through the front door, not to INSYNC', () => {
    const events = [
      ...base,
      ev(6_900, 'traffic_served', { region: 'us-west-2' }),
      ev(7_000, 'failover_completed', { to: 'us-west-2' }),
    ];
    expect(trafficPhaseMs(events, fault)).toBe(1_900);
  });

  it('is null when no client got to the new region, or no failover completed after the fault', () => {
    expect(trafficPhaseMs([...base, ev(7_000, 'failover_completed', { to: 'us-west-2' })], fault)).toBeNull();
    expect(trafficPhaseMs([...base, ev(6_900, 'traffic_served', { region: 'us-west-2' })], fault)).toBeNull();
    // A request served by the new region before its grant (never, with the guard) does not end the phase.
    const early = [
      ...base.slice(0, 3),
      ev(2_000, 'traffic_served', { region: 'us-west-2' }),
      ...base.slice(3),
      ev(7_000, 'failover_completed', { to: 'us-west-2' }),
    ];
    expect(trafficPhaseMs(early, fault)).toBeNull();
  });
});
