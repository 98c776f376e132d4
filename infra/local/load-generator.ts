import { randomBytes } from 'node:crypto';
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
}

export interface LoadStats {
  sent: number;
  acked: number;
  /** Answered, but not with 201. */
  refused: number;
  /** No usable answer: connection refused or reset, timeout, or a 201 without a valid body. */
  failed: number;
  /** Ticks at which `concurrency` requests were already in flight, so no request was sent. */
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
  /** One request every intervalMs, while fewer than `concurrency` are in flight. */
  intervalMs?: number;
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
  acked(): readonly AckedWrite[];
  /** Stops sending, waits for the requests in flight, and returns every acknowledged write. */
  stop(): Promise<LoadReport>;
}

export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  const intervalMs = options.intervalMs ?? 20;
  const concurrency = options.concurrency ?? 2;
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

  const send = async (id: string, client: string): Promise<void> => {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CLIENT_HEADER]: client },
        body: JSON.stringify({ id }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const code = (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK_ERROR';
      record({ id, status: null, code, region: null, at: now() }, 'failed');
      return;
    }
    const text = await res.text().catch(() => '');
    const at = now();
    const region = res.headers.get('x-cutover-region');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a proxy's HTML error page, or a body cut short
    }
    if (res.status !== 201) {
      const code = typeof body.code === 'string' ? body.code : `HTTP_${res.status}`;
      record({ id, status: res.status, code, region, at }, 'refused');
      return;
    }
    if (body.id !== id || typeof body.region !== 'string' || typeof body.epoch !== 'number') {
      record({ id, status: res.status, code: 'MALFORMED_ACK', region, at }, 'failed');
      return;
    }
    acked.push({ id, region: body.region, epoch: body.epoch, at });
    record({ id, status: 201, code: 'ACKED', region: body.region, at }, 'acked');
  };

  const timer = setInterval(() => {
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
  }, intervalMs);

  return {
    stats: () => ({ ...stats, byCode: { ...stats.byCode } }),
    acked: () => acked,
    stop: async () => {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
      // Sorted by the time the client saw each acknowledgement, as acked.jsonl is read.
      return {
        acked: [...acked].sort((a, b) => a.at - b.at),
        stats: { ...stats, byCode: { ...stats.byCode } },
      };
    },
  };
}
