import type { GuardDecision, Lease } from './lease.js';

/**
 * The holder check (issue 10): the data plane's health checks poll it in every application region, and it
 * answers 200 only where the lease is held and still allows writes, 503 everywhere else. Traffic then follows
 * the lease with no control-plane call: when the failover revokes the old primary's lease its check turns 503,
 * and when it grants the standby the lease the standby's turns 200. Pure.
 */
export const HOLDER_CHECK_PATH = '/cutover/holder';

export interface HolderCheckBody {
  /** The region that answers. */
  region: string;
  /** True only when this region holds an unexpired lease that still allows writes (status 200). */
  holding: boolean;
  /** Who holds the lease as this region last read it; null when revoked or never granted. */
  holder: string | null;
  epoch: number | null;
  expiresAt: number | null;
  code: GuardDecision['code'];
  reason: string;
  /** When this answer was made, on the answering region's clock (epoch ms). */
  at: number;
}

export interface HolderCheckAnswer {
  statusCode: 200 | 503;
  body: HolderCheckBody;
}

/** The answer for `region` from the guard's decision and the lease it decided on. */
export function holderAnswer(
  region: string,
  decision: GuardDecision,
  lease: Lease | null,
  now: number,
): HolderCheckAnswer {
  return {
    statusCode: decision.allowed ? 200 : 503,
    body: {
      region,
      holding: decision.allowed,
      holder: lease?.holder ?? null,
      epoch: lease?.epoch ?? decision.epoch,
      expiresAt: lease?.expiresAt ?? null,
      code: decision.code,
      reason: decision.reason,
      at: now,
    },
  };
}

/** A region's holder-check URL: configured, or `/cutover/holder` on the origin of its health URL. */
export function holderCheckUrlOf(r: { healthUrl: string; holderCheckUrl?: string | undefined }): string {
  return r.holderCheckUrl ?? new URL(HOLDER_CHECK_PATH, r.healthUrl).toString();
}

/** What one read of a region's holder check found; status null when nothing answered (refused, timeout). */
export interface HolderReading {
  region: string;
  status: number | null;
  /** The body when it parsed as a holder check; null otherwise. */
  body: Pick<HolderCheckBody, 'holding' | 'holder' | 'epoch'> | null;
  detail: string;
}

export type HolderSwitch =
  | { code: 'SWITCHED'; reason: string }
  | { code: 'NEW_NOT_HOLDING' | 'OLD_STILL_HOLDING'; reason: string };

/**
 * Has traffic moved as far as the holder checks can tell? The new holder's check must answer 200 for `to` at
 * `epoch` or later, and the old one's must not answer 200 (unreachable counts as not answering: that is what the
 * data plane's checkers see too).
 */
export function planHolderSwitch(s: {
  to: string;
  from: string;
  epoch: number | null;
  toReading: HolderReading;
  fromReading: HolderReading;
}): HolderSwitch {
  const t = s.toReading;
  const newHolding =
    t.status === 200 &&
    t.body?.holding === true &&
    t.body.holder === s.to &&
    (s.epoch === null || (t.body.epoch ?? -1) >= s.epoch);
  if (!newHolding) {
    return {
      code: 'NEW_NOT_HOLDING',
      reason: `${s.to}'s holder check does not answer 200 as holder${s.epoch === null ? '' : ` of epoch ${s.epoch}`} yet (${t.detail})`,
    };
  }
  if (s.fromReading.status === 200) {
    return {
      code: 'OLD_STILL_HOLDING',
      reason: `${s.from}'s holder check still answers 200 (${s.fromReading.detail}): the data plane may still send it traffic`,
    };
  }
  return {
    code: 'SWITCHED',
    reason: `${s.to} answers 200 as holder and ${s.from} does not (${s.fromReading.detail}): the health checks steer traffic to ${s.to}`,
  };
}
