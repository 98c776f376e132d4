import type { CutoverConfig } from './config.js';

/**
 * The lease-authority regions a renewal from `region` tries, in order: its own replica first (the nearest, and
 * the one it can reach when other regions cannot), then the others as configured. A witness holds no data and
 * serves no requests, so it is never one of them; an arbiter is the only one.
 */
export function leaseReplicaOrder(authority: CutoverConfig['leaseAuthority'], region: string): string[] {
  if (authority.mode === 'arbiter') return [authority.region];
  const regions = [...new Set(authority.regions)];
  return regions.includes(region) ? [region, ...regions.filter((r) => r !== region)] : regions;
}

/**
 * How long each replica gets, from the time left: an equal share with the replicas still to try, so that
 * the last one is reached before the budget runs out. Never below `floorMs` (one useful round trip).
 */
export function replicaAttemptMs(remainingMs: number, replicasLeft: number, floorMs = 50): number {
  if (replicasLeft <= 0 || remainingMs <= 0) return 0;
  return Math.max(Math.min(floorMs, remainingMs), Math.floor(remainingMs / replicasLeft));
}
