import { ValidationError } from './errors.js';

/** Who gets the clients' traffic, in percent per region; regions that get none are absent. */
export type TrafficWeights = Record<string, number>;

export interface TrafficState {
  /** The region with the largest share (the one writes go to); null when traffic is stopped everywhere. */
  region: string | null;
  weights: TrafficWeights;
}

export function routeWeights(weights: TrafficWeights, region: string, weightPercent = 100): TrafficWeights {
  if (!Number.isInteger(weightPercent) || weightPercent < 1 || weightPercent > 100) {
    throw new ValidationError('invalid route', [
      { field: 'weightPercent', message: `must be a whole number from 1 to 100, got ${weightPercent}` },
    ]);
  }
  if (weightPercent === 100) return { [region]: 100 };
  const others = Object.entries(weights).filter(([r, w]) => r !== region && w > 0);
  if (others.length === 0) {
    throw new ValidationError('invalid route', [
      {
        field: 'weightPercent',
        message: `${weightPercent} leaves ${100 - weightPercent}% for other regions, but no other region gets traffic`,
      },
    ]);
  }
  return { ...share(others, 100 - weightPercent), [region]: weightPercent };
}

export function stopWeights(weights: TrafficWeights, region: string): TrafficWeights {
  const others = Object.entries(weights).filter(([r, w]) => r !== region && w > 0);
  return others.length === 0 ? {} : share(others, 100);
}

export function trafficState(weights: TrafficWeights): TrafficState {
  let region: string | null = null;
  let best = 0;
  for (const [r, w] of Object.entries(weights).sort(([a], [b]) => a.localeCompare(b))) {
    if (w > best) {
      region = r;
      best = w;
    }
  }
  return { region, weights: { ...weights } };
}

/** Splits `total` percent in proportion to the given weights, by largest remainder so that it adds up exactly. */
function share(entries: [string, number][], total: number): TrafficWeights {
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  const exact = entries.map(([r, w]) => ({ r, x: (w / sum) * total }));
  const out: TrafficWeights = {};
  let given = 0;
  for (const { r, x } of exact) {
    out[r] = Math.floor(x);
    given += Math.floor(x);
  }
  const byRemainder = [...exact].sort(
    (a, b) => b.x - Math.floor(b.x) - (a.x - Math.floor(a.x)) || a.r.localeCompare(b.r),
  );
  for (let i = 0; given < total; i++, given++) {
    const r = byRemainder[i % byRemainder.length]!.r;
    out[r] = (out[r] ?? 0) + 1;
  }
  for (const [r, w] of Object.entries(out)) if (w === 0) delete out[r];
  return out;
}

export type RecordStopPlan =
  | { code: 'STOP'; weights: TrafficWeights; reason: string }
  | { code: 'WOULD_ZERO_ALL'; reason: string };

/**
 * Taking a region out of a group of weighted DNS records (Route 53) by setting its weight to 0. Never leaves
 * every weight at 0: then Route 53 answers all records with equal probability (Route 53 API Reference,
 * ResourceRecordSet, Weight), so "stop" would send half the traffic to a standby that holds no lease yet.
 * Unlike `stopWeights` (the drill's front door, where no weight means no route), zero is not "off" here.
 */
export function planRecordStop(weights: TrafficWeights, region: string): RecordStopPlan {
  const others = Object.entries(weights).filter(([r, w]) => r !== region && w > 0);
  if (others.length === 0) {
    return {
      code: 'WOULD_ZERO_ALL',
      reason: `weight 0 for ${region} would leave every record at weight 0, and Route 53 then answers all of them evenly: ${region} keeps its weight until traffic is routed elsewhere`,
    };
  }
  return {
    code: 'STOP',
    weights: { ...weights, [region]: 0 },
    reason: `weight 0 for ${region}; ${others.map(([r, w]) => `${r} keeps ${w}`).join(', ')}`,
  };
}

/** A weighted record group's weights after a change: refused when every weight would be 0 (see planRecordStop). */
export function assertSomeWeight(weights: TrafficWeights): TrafficWeights {
  if (!Object.values(weights).some((w) => w > 0)) {
    throw new ValidationError('invalid route', [
      {
        field: 'weights',
        message: `every record would be at weight 0 (${JSON.stringify(weights)}); Route 53 would answer all of them evenly`,
      },
    ]);
  }
  return weights;
}

export type StopTrafficPlan = { code: 'STOP'; reason: string } | { code: 'DEFER'; reason: string };

/**
 * Whether the stop-traffic step asks the traffic port to take the old primary out. On a failover in mode
 * records it does not: a record change there is a Route 53 API call (us-east-1 only) before the fence, and a
 * weighted "stop" with the standby still at 0 would leave every weight at 0. The one record change is made
 * after the grant, best effort. In every other mode the port's stop is no API call at all.
 */
export function planStopTraffic(s: {
  kind: 'failover' | 'failback';
  mode: string | null;
  from: string;
}): StopTrafficPlan {
  if (s.kind === 'failover' && s.mode === 'records') {
    return {
      code: 'DEFER',
      reason: `traffic mode records: no record changed for ${s.from} before the fence; one record change routes traffic after the grant`,
    };
  }
  return {
    code: 'STOP',
    reason: `take ${s.from} out of rotation through traffic mode ${s.mode ?? 'none'}`,
  };
}
