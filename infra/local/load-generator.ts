import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The drill's clients: POST /orders through the front door at a steady rate for the whole drill, each with a
 * new id, recording every acknowledgement as the client saw it. These records are the drill's acked.jsonl.
 */

/**
 * The request header naming the client, so that the front door can send it through its resolver. Defined here, with
 * the clients, so that a clients' process loads no more than this module.
 */
export const CLIENT_HEADER = 'x-cutover-client';

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
 * In flight at most, by default, for a rate: enough to keep the rate while answers take up to 500 ms (Little's law:
 * in flight = rate × latency). A write waits for its commit, under synchronous replication for the standby too, and
 * on a loaded 2-core machine for a busy event loop: with room for only 100 ms, a slow second skipped a third of the
 * writes due in it, and the window before a fault came out short of writes. At least 4.
 */
export function defaultConcurrency(rate: number): number {
  return Math.max(4, Math.ceil(rate / 2));
}

/** The options' checked values; a bad one throws a RangeError that names it. */
function settings(options: Omit<LoadGeneratorOptions, 'url'>) {
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
  const clients = options.clients ?? 4;
  if (!Number.isInteger(clients) || clients < 1) {
    throw new RangeError(`clients must be a whole number ≥ 1, got ${clients}`);
  }
  return { rate, intervalMs, concurrency, clients };
}

export function startLoadGenerator(options: LoadGeneratorOptions): LoadGenerator {
  const { rate, intervalMs, concurrency, clients } = settings(options);
  const prefix = options.idPrefix ?? `w${randomBytes(3).toString('hex')}`;
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const now = options.now ?? Date.now;
  // Parsed once: request(url) would parse it again for every write.
  const endpoint = new URL('/orders', options.url);
  const target = { host: endpoint.hostname, port: endpoint.port, path: endpoint.pathname };
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
        {
          ...target,
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

/** What a clients' process is asked to run: the options that cross a process boundary (no clock, no callback). */
export type RemoteLoadOptions = Omit<LoadGeneratorOptions, 'now' | 'onResult'>;

/** Parent → clients' process; `id` names one generator. */
export type LoadClientCommand =
  | { type: 'start'; id: number; options: RemoteLoadOptions; results: boolean }
  | { type: 'stop'; id: number };

/**
 * Clients' process → parent. Every `results` message carries one generator's acknowledged writes not sent before
 * and its counters read after them, so the counters never count an acknowledgement the parent has not got.
 */
export type LoadClientMessage =
  | { type: 'ready'; cpu: NodeJS.CpuUsage }
  | { type: 'failed'; id: number; error: string }
  | {
      type: 'results';
      id: number;
      acked: AckedWrite[];
      results: WriteResult[];
      stats: LoadStats;
      cpu: NodeJS.CpuUsage;
    }
  | {
      type: 'stopped';
      id: number;
      acked: AckedWrite[];
      results: WriteResult[];
      stats: LoadStats;
      cpu: NodeJS.CpuUsage;
      achievedRate: number;
    };

/** The clients' process ended, or broke its protocol, before handing over every acknowledged write. */
export class LoadClientsLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoadClientsLostError';
  }
}

/** The clients' process: load generators beside the drill's process, on the machine's other core. */
export interface LoadClientProcess {
  readonly pid: number | undefined;
  /**
   * Starts a generator in the process. The returned generator's acked() and stats() follow the process's with a
   * delay of one batch (RESULT_BATCH_MS); stop() resolves only with every acknowledgement the process recorded, or
   * rejects with LoadClientsLostError.
   */
  start(options: RemoteLoadOptions & { onResult?: (result: WriteResult) => void }): LoadGenerator;
  /** CPU the process has used since it started (user and system, µs), as its last message reported it. */
  cpuUsage(): NodeJS.CpuUsage;
  /** Ends the process (its generators, if running, are abandoned). */
  kill(): Promise<void>;
}

/** How often the clients' process hands its new results to the parent. */
export const RESULT_BATCH_MS = 20;

/**
 * Forks infra/local/load-client.ts (through tsx's loader, as the drill itself runs) and waits until it is ready. The
 * drill's clients then run beside, not inside, the process that serves the front door, the apps and the control
 * plane: on a 2-core machine the writes' two ends use both cores (bench/load.bench.ts measures it).
 */
export async function spawnLoadClients(): Promise<LoadClientProcess> {
  const require = createRequire(import.meta.url);
  const entry = fileURLToPath(new URL('./load-client.ts', import.meta.url));
  const child = fork(entry, [], {
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)),
  );
  const spawnFailed = new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
  const ready = new Promise<LoadClientMessage>((resolve) =>
    child.once('message', (m) => resolve(m as LoadClientMessage)),
  );
  const first = await Promise.race([
    ready.then((m) => (m.type === 'ready' ? m : `its first message was ${m.type}`)),
    exited.then((why) => `it ended (${why})`),
    spawnFailed,
    new Promise<string>((resolve) => setTimeout(() => resolve('not ready within 30 s'), 30_000).unref()),
  ]);
  if (typeof first === 'string') {
    child.kill('SIGKILL');
    throw new LoadClientsLostError(`the clients' process did not start: ${first}`);
  }
  return new ForkedLoadClients(child, exited, first.cpu);
}

class ForkedLoadClients implements LoadClientProcess {
  private nextId = 0;

  constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<string>,
    private cpu: NodeJS.CpuUsage,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  cpuUsage(): NodeJS.CpuUsage {
    return this.cpu;
  }

  start(options: RemoteLoadOptions & { onResult?: (result: WriteResult) => void }): LoadGenerator {
    const { onResult, ...remote } = options;
    // The same checks as in the process, so that a bad option is refused here, at once, with the same message.
    settings(remote);
    const id = ++this.nextId;
    const child = this.child;
    const acked: AckedWrite[] = [];
    let stats: LoadStats = { sent: 0, acked: 0, refused: 0, failed: 0, skipped: 0, inFlight: 0, byCode: {} };
    let broken: string | null = null;
    let final: Extract<LoadClientMessage, { type: 'stopped' }> | null = null;
    const startedAt = Date.now();
    const startedPerf = performance.now();
    let stoppedPerf: number | null = null;

    const take = (m: {
      acked: AckedWrite[];
      results: WriteResult[];
      stats: LoadStats;
      cpu: NodeJS.CpuUsage;
    }) => {
      this.cpu = m.cpu;
      // Recorded before counted: the acknowledgements first, then the counters that include them.
      for (const a of m.acked) acked.push(a);
      stats = m.stats;
      if (stats.acked !== acked.length && broken === null) {
        broken = `the clients' process counted ${stats.acked} acknowledged writes but handed over ${acked.length}`;
      }
      if (onResult) for (const r of m.results) onResult(r);
    };
    let settle: ((m: Extract<LoadClientMessage, { type: 'stopped' }> | null) => void) | undefined;
    const stopped = new Promise<Extract<LoadClientMessage, { type: 'stopped' }> | null>((resolve) => {
      settle = resolve;
    });
    const onMessage = (raw: unknown) => {
      const m = raw as LoadClientMessage;
      if (m.type === 'ready' || m.id !== id) return;
      if (m.type === 'results') take(m);
      else if (m.type === 'stopped') {
        take(m);
        final = m;
        settle?.(m);
      } else if (m.type === 'failed') broken ??= m.error;
    };
    child.on('message', onMessage);
    const ended = this.exited.then((why) => {
      settle?.(null);
      return why;
    });
    child.send({
      type: 'start',
      id,
      options: remote,
      results: onResult !== undefined,
    } satisfies LoadClientCommand);

    let stopping: Promise<LoadReport> | null = null;
    const stop = async (): Promise<LoadReport> => {
      stoppedPerf ??= performance.now();
      if (child.connected) child.send({ type: 'stop', id } satisfies LoadClientCommand);
      const last = await stopped;
      child.off('message', onMessage);
      if (last === null) {
        throw new LoadClientsLostError(
          `the clients' process ended (${await ended}) before handing over every acknowledged write: ` +
            `${acked.length} received, an unknown number missing, so lost writes cannot be counted`,
        );
      }
      if (broken !== null) throw new LoadClientsLostError(broken);
      return {
        acked: [...acked].sort((a, b) => a.at - b.at),
        stats: { ...stats, byCode: { ...stats.byCode } },
      };
    };
    return {
      startedAt,
      acked: () => acked,
      stats: () => ({ ...stats, byCode: { ...stats.byCode } }),
      achievedRate: () => {
        if (final) return final.achievedRate;
        const seconds = ((stoppedPerf ?? performance.now()) - startedPerf) / 1_000;
        return seconds > 0 ? Math.round((acked.length / seconds) * 10) / 10 : 0;
      },
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
    };
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}
