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

/**
 * The drill's stand-in for Route 53: one HTTP port that forwards every request to the region the router
 * names. Weighted routing uses smooth weighted round robin, so a 90/10 split is exact and repeatable
 * rather than random.
 */

export interface FrontDoorOptions {
  /** Region name → base URL of that region's application (usually a fault proxy in front of it). */
  regions: Record<string, string>;
  /** 0 or absent: a free port. */
  port?: number;
  /** The region that gets all traffic from the start; absent: 503 until something is routed. */
  initialRegion?: string;
  /** How long a forwarded request may take before the client gets 504. */
  upstreamTimeoutMs?: number;
}

export interface FrontDoorStats {
  requests: number;
  forwarded: Record<string, number>;
  /** Answered 503 because no region was routed. */
  unrouted: number;
  /** Answered 502 or 504 because the routed region did not answer. */
  upstreamErrors: number;
}

export interface FrontDoor extends TrafficRouter {
  /** Sends `weightPercent` (default 100) of new requests to `region`; the others share the rest. */
  routeTo(region: string, weightPercent?: number): Promise<TrafficChange>;
  /** Who gets traffic now. */
  current(): Promise<TrafficState>;
  readonly port: number;
  readonly url: string;
  /** All traffic to `region`; null stops traffic everywhere. */
  route(region: string | null): void;
  setRegionUrl(region: string, url: string): void;
  weights(): TrafficWeights;
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
  private readonly counters: FrontDoorStats = { requests: 0, forwarded: {}, unrouted: 0, upstreamErrors: 0 };

  constructor(private readonly options: FrontDoorOptions) {
    for (const [region, url] of Object.entries(options.regions)) this.setRegionUrl(region, url);
    if (options.initialRegion) this.route(options.initialRegion);
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.keepAliveTimeout = 5_000;
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
    if (region === null) {
      this.setWeights({});
      return;
    }
    this.known(region);
    this.setWeights({ [region]: 100 });
  }

  // The same port as Route 53 (functions/core/failover-ports.ts); a local change is in sync at once.
  async routeTo(region: string, weightPercent = 100): Promise<TrafficChange> {
    this.known(region);
    this.setWeights(routeWeights(this.currentWeights, region, weightPercent));
    return {
      changeId: `frontdoor-${++this.changes}`,
      detail: `${weightPercent}% of new requests to ${region}`,
    };
  }

  async stopTraffic(region: string): Promise<TrafficChange> {
    this.setWeights(stopWeights(this.currentWeights, region));
    return { changeId: `frontdoor-${++this.changes}`, detail: `no new requests to ${region}` };
  }

  async changeStatus(_changeId: string): Promise<ChangeStatus> {
    return 'INSYNC';
  }

  async current(): Promise<TrafficState> {
    return trafficState(this.currentWeights);
  }

  weights(): TrafficWeights {
    return { ...this.currentWeights };
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
    const region = this.pick();
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
    const upstream = request(
      new URL(req.url ?? '/', base),
      {
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
        res.writeHead(upRes.statusCode ?? 502, out);
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

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const door = new LocalFrontDoor(options);
  await door.listen(options.port ?? 0);
  return door;
}
