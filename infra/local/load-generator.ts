import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { CLIENT_HEADER } from './front-door.js';

/**
 * The drill's clients: POST /orders through the front door at a steady rate for the whole drill, each with a
 * new id, recording every acknowledgement as the client saw it. These records are the drill's acked.jsonl.
 */

export interface AckedWrite {
  id: string;
  region: string;
  epoch: number;
  /** Epoch ms at which the client received the 201. */
  at: number;
}

export interface WriteResult {
  id: string;
  /** HTTP status; null when no answer came (connection error or timeout). */
  status: number | null;
  /** The answer's `code` (e.g. FENCED, NO_ROUTE, STALE_EPOCH), ACKED, or the network failure. */
  code: string;
  region: string | null;
  at: number;
  /** Epoch ms at which the request was sent. */
  sentAt: number;
}

export interface LoadStats {
  sent: number;
  acked: number;
  /** Answered, but not with 201. */
  refused: number;
  /** No usable answer: connection refused or reset, timeout, or a 201 without a valid body. */
  failed: number;
  /** Requests due (by the interval or the rate) that were not sent because `concurrency` were already in flight. */
  skipped: number;
  inFlight: number;
  byCode: Record<string, number>;
}

export interface LoadReport {
  acked: AckedWrite[];
  stats: LoadStats;
}

export interface LoadGeneratorOptions {
  /** Base URL of the front door. */
  url: string;
  /** One request every intervalMs, while fewer than `concurrency` are in flight. Ignored when `rate` is set. */
  intervalMs?: number;
  /**
   * Requests a second, spread evenly over time whatever the timer's resolution: at each tick every request that
   * is due by then is sent (a 300/s rate needs 3.3 ms between requests, finer than a timer can be trusted for).
   */
  rate?: number;
  /** Requests in flight at most; a request due while that many are in flight is skipped (counted, never queued). */
  concurrency?: number;
  /** Ids are `${idPrefix}-${seq}`; a random prefix by default, so that two runs never collide. */
  idPrefix?: string;
  requestTimeoutMs?: number;
  /**
   * Simulated clients the requests are spread over, round robin; each names itself in the `x-cutover-client`
   * header, so a front door at the Route 53 edge sends it through its resolver (and that resolver's cache).
   */
  clients?: number;
  now?: () => number;
  onResult?: (result: WriteResult) => void;
}

export interface LoadGenerator {
  stats(): LoadStats;
  /** Acknowledged writes a second from the start until now (or until stop()). */
  achievedRate(): number;
  /** Epoch ms (the `now` clock) at which the generator started. */
  readonly startedAt: number;
  acked(): readonly AckedWrite[];
  /** Stops sending, waits for the requests in flight, and returns every acknowledged write. */
  stop(): Promise<LoadReport>;
}

/** The rate mode's timer: every request due is sent at each tick. */
const RATE_TICK_MS = 5;

/**
 * In flight at most, by default, for a rate: enough for answers of about 100 ms at that rate (a write waits
 * for its commit, and under synchronous replication for the standby), at least 4.
 */
export function defaultConcurrency(rate: number): number {
  return Math.max(4, Math.ceil(rate / 10));
}

export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  const rate = options.rate;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
    throw new RangeError(`rate must be a number of requests a second > 0, got ${rate}`);
  }
  const intervalMs = rate === undefined ? (options.intervalMs ?? 20) : RATE_TICK_MS;
  const concurrency = options.concurrency ?? (rate === undefined ? 2 : defaultConcurrency(rate));
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }
  const prefix = options.idPrefix ?? `w${randomBytes(3).toString('hex')}`;
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const clients = options.clients ?? 4;
  if (!Number.isInteger(clients) || clients < 1) {
    throw new RangeError(`clients must be a whole number ≥ 1, got ${clients}`);
  }
  const now = options.now ?? Date.now;
  const endpoint = new URL('/orders', options.url).toString();
  const acked: AckedWrite[] = [];
  const stats: LoadStats = { sent: 0, acked: 0, refused: 0, failed: 0, skipped: 0, inFlight: 0, byCode: {} };
  const pending = new Set<Promise<void>>();
  let seq = 0;

  const record = (r: WriteResult, outcome: 'acked' | 'refused' | 'failed') => {
    stats[outcome] += 1;
    stats.byCode[r.code] = (stats.byCode[r.code] ?? 0) + 1;
    options.onResult?.(r);
  };

  // node:http with a keep-alive agent, not fetch: at a few hundred writes a second in the drill's one process,
  // undici's fetch (WHATWG streams, a Response per answer) was the largest single CPU cost of the write path.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (id: string, client: string) =>
    new Promise<{ status: number; text: string; region: string | null }>((resolve, reject) => {
      const body = JSON.stringify({ id });
      const req = request(
        endpoint,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [CLIENT_HEADER]: client,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              region:
                typeof res.headers['x-cutover-region'] === 'string' ? res.headers['x-cutover-region'] : null,
            }),
          );
        },
      );
      const timer = setTimeout(() => {
        const err = new Error(`no answer within ${timeoutMs} ms`);
        err.name = 'TimeoutError';
        req.destroy(err);
      }, timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(body);
    });

  const send = async (id: string, client: string): Promise<void> => {
    const sentAt = now();
    let res: { status: number; text: string; region: string | null };
    try {
      res = await post(id, client);
    } catch (err) {
      const code = (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK_ERROR';
      record({ id, status: null, code, region: null, at: now(), sentAt }, 'failed');
      return;
    }
    const text = res.text;
    const at = now();
    const region = res.region;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a proxy's HTML error page, or a body cut short
    }
    if (res.status !== 201) {
      const code = typeof body.code === 'string' ? body.code : `HTTP_${res.status}`;
      record({ id, status: res.status, code, region, at, sentAt }, 'refused');
      return;
    }
    if (body.id !== id || typeof body.region !== 'string' || typeof body.epoch !== 'number') {
      record({ id, status: res.status, code: 'MALFORMED_ACK', region, at, sentAt }, 'failed');
      return;
    }
    acked.push({ id, region: body.region, epoch: body.epoch, at });
    record({ id, status: 201, code: 'ACKED', region: body.region, at, sentAt }, 'acked');
  };

  const startedAt = performance.now();
  const startedAtEpoch = now();
  let stoppedAt: number | null = null;
  /** Requests due so far (sent or skipped). */
  let due = 0;
  const sendOne = () => {
    if (stats.inFlight >= concurrency) {
      stats.skipped += 1;
      return;
    }
    seq += 1;
    stats.sent += 1;
    stats.inFlight += 1;
    const p = send(`${prefix}-${String(seq).padStart(6, '0')}`, `${prefix}-client-${seq % clients}`).finally(
      () => {
        stats.inFlight -= 1;
        pending.delete(p);
      },
    );
    pending.add(p);
  };
  const timer = setInterval(() => {
    if (rate === undefined) {
      sendOne();
      return;
    }
    // Every request due by now; a late tick (a busy event loop) catches up, bounded by the concurrency.
    const target = Math.floor(((performance.now() - startedAt) * rate) / 1_000);
    for (; due < target; due++) sendOne();
  }, intervalMs);

  const achievedRate = () => {
    const seconds = ((stoppedAt ?? performance.now()) - startedAt) / 1_000;
    return seconds > 0 ? Math.round((stats.acked / seconds) * 10) / 10 : 0;
  };

  return {
    stats: () => ({ ...stats, byCode: { ...stats.byCode } }),
    acked: () => acked,
    achievedRate,
    startedAt: startedAtEpoch,
    stop: async () => {
      clearInterval(timer);
      stoppedAt ??= performance.now();
      await Promise.allSettled([...pending]);
      agent.destroy();
      // Sorted by the time the client saw each acknowledgement, as acked.jsonl is read.
      return {
        acked: [...acked].sort((a, b) => a.at - b.at),
        stats: { ...stats, byCode: { ...stats.byCode } },
      };
    },
  };
}
