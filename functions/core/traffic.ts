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
