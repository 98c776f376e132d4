import { mapAwsError } from '#adapters/aws/aws-errors.js';
import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';

/**
 * The drill's stand-in for Route 53: the application's record set (one record per region, weighted or failover)
 * and its API, behind the TrafficRouter port the way Route53TrafficRouter drives the real one. A change is
 * PENDING when submitted and INSYNC once it has propagated (`propagationMs`); only then do the authoritative
 * answers (`records()`) use it. A scenario can make every call fail as the real API does when it is impaired:
 * throttled, unavailable, or hanging until the client gives up. `answer()` is Route 53's choice of a record for
 * one query, given each record's health.
 */

export type Routing = 'weighted' | 'failover';

export interface RegionRecord {
  /** Weighted routing: 0–255, relative to the other record's. */
  weight: number;
  /** Failover routing: which role the record plays. */
  failover: 'PRIMARY' | 'SECONDARY';
}

export type RecordSet = Record<string, RegionRecord>;

/** How the API fails: Throttling (HTTP 400), ServiceUnavailable (HTTP 503), or no answer until the client's timeout. */
export type Route53Fault = 'throttling' | 'unavailable' | 'timeout';

export interface Route53Call {
  at: number;
  action: 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';
  /** What the call asked for, e.g. "weight 0 for us-east-1". */
  detail: string;
  outcome: 'ok' | 'refused';
  /** The AWS error name when refused. */
  error?: string;
}

export interface Route53StandInOptions {
  routing: Routing;
  /** The two application regions: [primary, standby]. */
  regions: readonly [string, string];
  /** The record set before any change; absent: the primary gets all traffic (weight 100/0, PRIMARY/SECONDARY). */
  initial?: RecordSet;
  /** From submission to INSYNC (Route 53: "generally within 60 seconds", ChangeResourceRecordSets reference). */
  propagationMs: number;
  /** How long a call hangs under the `timeout` fault before the client gives up (the SDK's request timeout). */
  requestTimeoutMs?: number;
  now?: () => number;
  onCall?: (call: Route53Call) => void;
}

interface Pending {
  id: string;
  due: number;
  records: RecordSet;
}

const copy = (r: RecordSet): RecordSet =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { ...v }]));

export class Route53StandIn implements TrafficRouter {
  readonly routing: Routing;
  private visible: RecordSet;
  /** The record set after every submitted change, propagated or not: what the next change builds on. */
  private latest: RecordSet;
  private readonly pending: Pending[] = [];
  private readonly changes = new Map<string, number>();
  private readonly log: Route53Call[] = [];
  private fault: Route53Fault | null = null;
  private seq = 0;
  private readonly now: () => number;

  constructor(private readonly opts: Route53StandInOptions) {
    const [primary, standby] = opts.regions;
    if (primary === standby) throw new TrafficError(`the two regions must differ, got ${primary} twice`);
    if (!(opts.propagationMs >= 0)) {
      throw new TrafficError(`propagationMs must be ≥ 0, got ${opts.propagationMs}`);
    }
    this.routing = opts.routing;
    this.now = opts.now ?? Date.now;
    const initial = opts.initial ?? {
      [primary]: { weight: 100, failover: 'PRIMARY' },
      [standby]: { weight: 0, failover: 'SECONDARY' },
    };
    this.check(initial);
    this.visible = copy(initial);
    this.latest = copy(initial);
  }

  /** Every API call so far, refused ones included. */
  calls(): readonly Route53Call[] {
    return this.log;
  }

  /** From now on every call fails this way; null: the API answers again. */
  refuse(fault: Route53Fault | null): void {
    this.fault = fault;
  }

  /** The record set the authoritative servers answer from now: every change that is INSYNC, none that is not. */
  records(): RecordSet {
    const now = this.now();
    while (this.pending[0] && this.pending[0].due <= now) {
      this.visible = this.pending.shift()!.records;
    }
    return copy(this.visible);
  }

  /**
   * Provisioning outside the API (the CDK or the console before the drill): takes effect at once. A drill
   * never calls it once the scenario has started.
   */
  provision(records: RecordSet): void {
    this.check(records);
    this.pending.length = 0;
    this.visible = copy(records);
    this.latest = copy(records);
  }

  async stopTraffic(region: string): Promise<TrafficChange> {
    this.known(region);
    if (this.routing === 'failover') {
      // As Route53TrafficRouter: no call at all, failover records have no "off".
      return { changeId: null, detail: 'failover routing: nothing to stop; the health check steers away' };
    }
    const next = copy(this.latest);
    next[region]!.weight = 0;
    return this.submit(next, `weight 0 for ${region}`);
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    const other = this.other(region);
    if (!Number.isInteger(weightPercent) || weightPercent < 1 || weightPercent > 100) {
      throw new TrafficError(`weightPercent must be a whole number from 1 to 100, got ${weightPercent}`);
    }
    const next = copy(this.latest);
    if (this.routing === 'failover') {
      if (weightPercent !== 100)
        throw new TrafficError(`failover routing cannot send ${weightPercent}% to ${region}`);
      if (next[region]!.failover === 'PRIMARY') {
        await this.call('ListResourceRecordSets', `${region} is already PRIMARY`);
        return { changeId: null, detail: `${region} is already PRIMARY` };
      }
      next[region]!.failover = 'PRIMARY';
      next[other]!.failover = 'SECONDARY';
      return this.submit(next, `${region} PRIMARY`);
    }
    next[region]!.weight = weightPercent;
    next[other]!.weight = 100 - weightPercent;
    return this.submit(next, `weight ${weightPercent} for ${region}, ${100 - weightPercent} for ${other}`);
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    await this.call('GetChange', changeId);
    const due = this.changes.get(changeId);
    if (due === undefined) {
      throw mapAwsError(
        awsError(
          'NoSuchChange',
          404,
          'client',
          `A change with the specified change ID does not exist: ${changeId}`,
        ),
        `get change ${changeId}`,
        TrafficError,
      );
    }
    return this.now() >= due ? 'INSYNC' : 'PENDING';
  }

  private async submit(next: RecordSet, detail: string): Promise<TrafficChange> {
    await this.call('ChangeResourceRecordSets', detail);
    const id = `/change/C${String(++this.seq).padStart(6, '0')}`;
    const due = this.now() + this.opts.propagationMs;
    this.latest = next;
    this.pending.push({ id, due, records: copy(next) });
    this.changes.set(id, due);
    return { changeId: id, detail };
  }

  /** One API round trip: refused under a fault, exactly as the SDK would surface it through mapAwsError. */
  private async call(action: Route53Call['action'], detail: string): Promise<void> {
    const at = this.now();
    const fault = this.fault;
    if (!fault) {
      this.record({ at, action, detail, outcome: 'ok' });
      return;
    }
    const err =
      fault === 'throttling'
        ? awsError('Throttling', 400, 'client', 'Rate exceeded')
        : fault === 'unavailable'
          ? awsError('ServiceUnavailable', 503, 'server', 'Service Unavailable')
          : awsError('TimeoutError', 0, 'client', 'no answer from route53.amazonaws.com');
    if (fault === 'timeout') {
      await new Promise((r) => setTimeout(r, this.opts.requestTimeoutMs ?? 2_000));
    }
    this.record({ at, action, detail, outcome: 'refused', error: err.name });
    throw mapAwsError(err, `${action} (${detail})`, TrafficError);
  }

  private record(call: Route53Call): void {
    this.log.push(call);
    this.opts.onCall?.(call);
  }

  private known(region: string): void {
    if (!this.opts.regions.includes(region)) {
      throw new TrafficError(`${region} is not an application region (${this.opts.regions.join(', ')})`);
    }
  }

  private other(region: string): string {
    this.known(region);
    const [a, b] = this.opts.regions;
    return region === a ? b : a;
  }

  private check(records: RecordSet): void {
    for (const region of this.opts.regions) {
      const r = records[region];
      if (!r) throw new TrafficError(`records: no record for ${region}`);
      if (!Number.isInteger(r.weight) || r.weight < 0 || r.weight > 255) {
        throw new TrafficError(
          `records.${region}.weight must be a whole number from 0 to 255, got ${r.weight}`,
        );
      }
    }
    if (this.routing === 'failover') {
      const roles = this.opts.regions.map((region) => records[region]!.failover).sort();
      if (roles[0] !== 'PRIMARY' || roles[1] !== 'SECONDARY') {
        throw new TrafficError(
          `records: failover routing needs one PRIMARY and one SECONDARY, got ${roles.join(', ')}`,
        );
      }
    }
  }
}

/** An error shaped like the SDK's ServiceException (name, $fault, $metadata), so mapAwsError treats it as the real one. */
function awsError(name: string, httpStatusCode: number, fault: 'client' | 'server', message: string): Error {
  const err = new Error(message) as Error & {
    $fault: 'client' | 'server';
    $metadata: { httpStatusCode?: number };
  };
  err.name = name;
  err.$fault = fault;
  err.$metadata = httpStatusCode ? { httpStatusCode } : {};
  return err;
}

/**
 * The records Route 53 draws its next answer from, each with its weight (Route 53 developer guide, "How Amazon
 * Route 53 chooses records when health checking is configured"): healthy records first; for weighted routing,
 * zero-weight records only when every record with a weight is unhealthy; when no record is healthy, all of them
 * count as healthy, so failover routing answers the PRIMARY and weighted routing answers every record by weight
 * (evenly when all weights are 0, "Weighted routing"). Failover routing has exactly one candidate.
 */
export function candidates(
  routing: Routing,
  records: RecordSet,
  healthy: (region: string) => boolean,
): [string, number][] {
  const entries = Object.entries(records).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return [];
  if (routing === 'failover') {
    const primary = entries.find(([, r]) => r.failover === 'PRIMARY')?.[0];
    const secondary = entries.find(([, r]) => r.failover === 'SECONDARY')?.[0];
    if (primary !== undefined && healthy(primary)) return [[primary, 1]];
    if (secondary !== undefined && healthy(secondary)) return [[secondary, 1]];
    const fallback = primary ?? secondary;
    return fallback === undefined ? [] : [[fallback, 1]];
  }
  const up = entries.filter(([region]) => healthy(region));
  const weighted = up.filter(([, r]) => r.weight > 0);
  const pool = weighted.length ? weighted : up.length ? up : entries;
  return pool.map(([region, r]) => [region, r.weight]);
}

/** Route 53's answer to one query: one of the candidates, by weight; `random` is in [0, 1). */
export function answer(
  routing: Routing,
  records: RecordSet,
  healthy: (region: string) => boolean,
  random: () => number,
): string | null {
  const pool = candidates(routing, records, healthy);
  if (pool.length === 0) return null;
  const total = pool.reduce((s, [, w]) => s + w, 0);
  if (total === 0) return pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))]![0];
  let x = random() * total;
  for (const [region, w] of pool) {
    if (x < w) return region;
    x -= w;
  }
  return pool.at(-1)![0];
}
