import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { ValidationError } from '#core/errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';
import {
  routeWeights,
  stopWeights,
  type TrafficState,
  type TrafficWeights,
  trafficState,
} from '#core/traffic.js';
import { SetupError } from './dynamodb-local.js';
import { HealthCheckers, type HealthCheckersOptions, type RegionHealth } from './health-checkers.js';
import { CLIENT_HEADER } from './load-generator.js';
import { answer, candidates, type Route53StandIn } from './route53-standin.js';

/**
 * The drill's stand-in for the global traffic layer: one HTTP port that forwards every request to a region.
 *
 * - Direct (no `edge`): the door is the router and obeys at once. Weighted routing uses smooth weighted round
 *   robin, so a 90/10 split is exact and repeatable rather than random.
 * - Route 53 edge (`edge`): the door forwards each request to the region its client's resolver answers. A
 *   resolver asks the authoritative model once per TTL and caches the answer, so clients keep going to the old
 *   region until the TTL passes. The authoritative model answers from the record set (Route53StandIn, changed
 *   only through its API) and the health checkers' view of each region's holder check, with Route 53's edge
 *   semantics (see `candidates`). The router methods then go to the record API, with its delays and faults.
 */

/** The request header naming the client, so that the door can send it through its resolver. */
export { CLIENT_HEADER };

export interface EdgeOptions {
  /** The record set and its API. */
  records: Route53StandIn;
  /** The health checks attached to the records (one per region). */
  checks: Omit<HealthCheckersOptions, 'onChange'>;
  /** The records' TTL: how long a resolver keeps an answer. */
  ttlMs: number;
  /** Recursive resolvers the clients are spread over (by client id); default 2. */
  resolvers?: number;
  /** For weighted answers; default Math.random. */
  random?: () => number;
}

export interface FrontDoorOptions {
  /** Region name → base URL of that region's application (usually a fault proxy in front of it). */
  regions: Record<string, string>;
  /** 0 or absent: a free port. */
  port?: number;
  /** Direct only: the region that gets all traffic from the start; absent: 503 until something is routed. */
  initialRegion?: string;
  /** How long a forwarded request may take before the client gets 504. */
  upstreamTimeoutMs?: number;
  /** The Route 53 edge; absent: the door obeys its router at once. */
  edge?: EdgeOptions;
  /**
   * What the door saw: `health_changed` {region, healthy, detail}, `dns_answer` {resolver, region, was}, and
   * `traffic_served` {region, status} when a client request is first served (2xx) by another region than the last.
   */
  onEvent?: (type: string, fields: Record<string, unknown>) => void;
}

export interface FrontDoorStats {
  requests: number;
  forwarded: Record<string, number>;
  /** Answered 503 because no region was routed. */
  unrouted: number;
  /** Answered 502 or 504 because the routed region did not answer. */
  upstreamErrors: number;
  /** Edge only: queries the resolvers sent to the authoritative model (cache misses). */
  dnsQueries: number;
}

/**
 * Direct, the router methods move traffic at once. At the edge they are the Route 53 record API (with its
 * propagation delay and faults), and the health checks and resolvers decide where a request goes.
 */
export interface FrontDoor extends TrafficRouter {
  /** Sends `weightPercent` (default 100) of new requests to `region`; the others share the rest. */
  routeTo(region: string, weightPercent?: number): Promise<TrafficChange>;
  /** Who gets traffic now (at the edge: the share of fresh answers, before the resolvers' caches). */
  current(): Promise<TrafficState>;
  readonly port: number;
  readonly url: string;
  /** All traffic to `region`; null stops traffic everywhere. At the edge: provisions the records, no API call. */
  route(region: string | null): void;
  setRegionUrl(region: string, url: string): void;
  weights(): TrafficWeights;
  /** The health checkers' view of each region (edge only; null when direct). */
  health(): Record<string, RegionHealth> | null;
  stats(): FrontDoorStats;
  stop(): Promise<void>;
}

// Hop-by-hop headers belong to one connection and are not forwarded (RFC 9110, section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

const HOST = '127.0.0.1';

class LocalFrontDoor implements FrontDoor {
  port = 0;
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly regionUrls = new Map<string, URL>();
  private currentWeights: TrafficWeights = {};
  private changes = 0;
  private credit = new Map<string, number>();
  private readonly counters: FrontDoorStats = {
    requests: 0,
    forwarded: {},
    unrouted: 0,
    upstreamErrors: 0,
    dnsQueries: 0,
  };
  private checkers: HealthCheckers | null = null;
  private readonly resolverCache = new Map<number, { region: string | null; expiresAt: number }>();
  private lastServed: string | null = null;

  constructor(private readonly options: FrontDoorOptions) {
    for (const [region, url] of Object.entries(options.regions)) this.setRegionUrl(region, url);
    // At the edge the record set decides from the start, as provisioned.
    if (options.initialRegion && !options.edge) this.route(options.initialRegion);
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.keepAliveTimeout = 5_000;
  }

  /** Starts the health checkers (edge only); the door answers from their first round on. */
  async startEdge(): Promise<void> {
    const edge = this.options.edge;
    if (!edge) return;
    for (const region of Object.keys(edge.checks.targets)) this.known(region);
    if (!(edge.ttlMs >= 0)) throw new RangeError(`edge.ttlMs must be ≥ 0, got ${edge.ttlMs}`);
    const resolvers = edge.resolvers ?? 2;
    if (!Number.isInteger(resolvers) || resolvers < 1) {
      throw new RangeError(`edge.resolvers must be a whole number ≥ 1, got ${resolvers}`);
    }
    this.checkers = await HealthCheckers.start({
      ...edge.checks,
      onChange: (region, healthy, detail) =>
        this.options.onEvent?.('health_changed', { region, healthy, detail }),
    });
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new SetupError(`front door: port ${port} on ${HOST} is in use: free it or choose another`)
            : err,
        ),
      );
      this.server.listen(port, HOST, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
  }

  setRegionUrl(region: string, url: string): void {
    this.regionUrls.set(region, new URL(url));
  }

  private known(region: string): void {
    if (!this.regionUrls.has(region)) {
      throw new ValidationError('unknown region', [
        { field: 'region', message: `${region} is not one of ${[...this.regionUrls.keys()].join(', ')}` },
      ]);
    }
  }

  private setWeights(weights: TrafficWeights): void {
    this.currentWeights = weights;
    this.credit = new Map(Object.keys(weights).map((r) => [r, 0]));
  }

  route(region: string | null): void {
    const edge = this.options.edge;
    if (edge) {
      // Provisioning, not an API call: the records as the CDK would leave them, all traffic to `region`.
      if (region === null)
        throw new RangeError('the Route 53 edge always answers a record: route(null) has no meaning');
      this.known(region);
      const other = Object.keys(edge.records.records()).find((r) => r !== region)!;
      edge.records.provision({
        [region]: { weight: 100, failover: 'PRIMARY' },
        [other]: { weight: 0, failover: 'SECONDARY' },
      });
      this.resolverCache.clear();
      return;
    }
    if (region === null) {
      this.setWeights({});
      return;
    }
    this.known(region);
    this.setWeights({ [region]: 100 });
  }

  // The same port as Route 53 (functions/core/failover-ports.ts); a local change is in sync at once.
  async routeTo(region: string, weightPercent = 100): Promise<TrafficChange> {
    if (this.options.edge) return this.options.edge.records.routeTo(region, weightPercent);
    this.known(region);
    this.setWeights(routeWeights(this.currentWeights, region, weightPercent));
    return {
      changeId: `frontdoor-${++this.changes}`,
      detail: `${weightPercent}% of new requests to ${region}`,
    };
  }

  async stopTraffic(region: string): Promise<TrafficChange> {
    if (this.options.edge) return this.options.edge.records.stopTraffic(region);
    this.setWeights(stopWeights(this.currentWeights, region));
    return { changeId: `frontdoor-${++this.changes}`, detail: `no new requests to ${region}` };
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    if (this.options.edge) return this.options.edge.records.changeStatus(changeId);
    return 'INSYNC';
  }

  async current(): Promise<TrafficState> {
    return trafficState(this.weights());
  }

  /** Direct: the router's weights. Edge: the share of fresh answers each region would get now, in percent. */
  weights(): TrafficWeights {
    const edge = this.options.edge;
    if (!edge) return { ...this.currentWeights };
    const pool = candidates(edge.records.routing, edge.records.records(), (r) => this.healthyAtEdge(r));
    const total = pool.reduce((s, [, w]) => s + w, 0);
    const out: TrafficWeights = {};
    for (const [region, w] of pool) out[region] = total === 0 ? 100 / pool.length : (100 * w) / total;
    for (const [region, w] of Object.entries(out)) if (w === 0) delete out[region];
    return out;
  }

  health(): Record<string, RegionHealth> | null {
    return this.checkers?.status() ?? null;
  }

  private healthyAtEdge(region: string): boolean {
    return this.checkers?.healthy(region) ?? false;
  }

  /** The region a client's resolver answers: its cached answer while the TTL lasts, a fresh one after. */
  private resolve(client: string): string | null {
    const edge = this.options.edge!;
    const resolver = hash(client) % (edge.resolvers ?? 2);
    const now = Date.now();
    const cached = this.resolverCache.get(resolver);
    if (cached && now < cached.expiresAt) return cached.region;
    this.counters.dnsQueries += 1;
    const region = answer(
      edge.records.routing,
      edge.records.records(),
      (r) => this.healthyAtEdge(r),
      edge.random ?? Math.random,
    );
    this.resolverCache.set(resolver, { region, expiresAt: now + edge.ttlMs });
    if (region !== (cached?.region ?? null)) {
      this.options.onEvent?.('dns_answer', { resolver, region, was: cached?.region ?? null });
    }
    return region;
  }

  /** Smooth weighted round robin (as in nginx): every region gains its weight, the richest is picked and pays the total. */
  private pick(): string | null {
    let best: string | null = null;
    let bestCredit = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (const [region, weight] of Object.entries(this.currentWeights)) {
      const c = (this.credit.get(region) ?? 0) + weight;
      this.credit.set(region, c);
      total += weight;
      if (c > bestCredit) {
        best = region;
        bestCredit = c;
      }
    }
    if (best !== null) this.credit.set(best, bestCredit - total);
    return best;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests += 1;
    const client = req.headers[CLIENT_HEADER];
    const region = this.options.edge
      ? this.resolve(typeof client === 'string' && client ? client : 'anonymous')
      : this.pick();
    const base = region ? this.regionUrls.get(region) : undefined;
    if (!region || !base) {
      this.counters.unrouted += 1;
      req.resume();
      reply(res, 503, { code: 'NO_ROUTE', reason: 'traffic is stopped: no region is routed' });
      return;
    }
    this.counters.forwarded[region] = (this.counters.forwarded[region] ?? 0) + 1;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers.host = base.host;
    // Host, port and path as options, not a URL: one URL parse fewer per request on the drill's hot path.
    const upstream = request(
      {
        host: base.hostname,
        port: base.port,
        path: req.url ?? '/',
        method: req.method,
        headers,
        agent: this.agent,
        timeout: this.options.upstreamTimeoutMs ?? 5_000,
      },
      (upRes) => {
        const out: Record<string, string | string[]> = { 'x-cutover-region': region };
        for (const [k, v] of Object.entries(upRes.headers)) {
          if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        }
        const status = upRes.statusCode ?? 502;
        if (status >= 200 && status < 300 && region !== this.lastServed) {
          this.lastServed = region;
          this.options.onEvent?.('traffic_served', { region, status });
        }
        res.writeHead(status, out);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    let timedOut = false;
    upstream.on('timeout', () => {
      timedOut = true;
      upstream.destroy(
        new Error(`${region} did not answer within ${this.options.upstreamTimeoutMs ?? 5_000} ms`),
      );
    });
    upstream.on('error', (err) => {
      this.counters.upstreamErrors += 1;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      reply(
        res,
        timedOut ? 504 : 502,
        { code: timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_ERROR', region, reason: err.message },
        region,
      );
    });
    req.pipe(upstream);
  }

  stats(): FrontDoorStats {
    return { ...this.counters, forwarded: { ...this.counters.forwarded } };
  }

  async stop(): Promise<void> {
    this.checkers?.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, region?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(region ? { 'x-cutover-region': region } : {}),
  });
  res.end(text);
}

/** FNV-1a: a stable spread of client ids over the resolvers. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const door = new LocalFrontDoor(options);
  await door.startEdge();
  try {
    await door.listen(options.port ?? 0);
  } catch (err) {
    await door.stop().catch(() => {});
    throw err;
  }
  return door;
}
