import { createServer, type Server, Socket } from 'node:net';
import { SetupError } from './dynamodb-local.js';

/**
 * A TCP proxy for one link between two "regions" of the drill (watcher → application, application → control
 * table, primary → replica, clients → front door). Faults are real network faults: reset connections,
 * a black hole, added latency, a thin pipe, slow responses.
 */

export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * `reset`: every connection, open or new, is reset at once (a dead host or a firewall that rejects).
 * `blackhole`: nothing moves in either direction and new connections never reach the target, but no socket
 * is closed (a partition): peers find out only through their own timeouts. Healing lets the held bytes
 * through, as TCP retransmission would after a short partition.
 */
export type CutMode = 'reset' | 'blackhole';

export interface SlowOptions {
  /** Bandwidth cap per direction and connection. */
  bytesPerSecond?: number;
  /** Extra delay before the first byte that the target sends after each request (a slow server). */
  firstByteDelayMs?: number;
}

export interface FaultProxyStats {
  name: string;
  state: 'open' | CutMode;
  target: ProxyTarget;
  latencyMs: number;
  slow: SlowOptions | null;
  connectionsTotal: number;
  connectionsActive: number;
  /** Connections that ended in a reset: a cut, a retarget, the target refusing, or a peer's reset. */
  connectionsReset: number;
  upstreamErrors: number;
  /** Client → target. */
  bytesUp: number;
  /** Target → client. */
  bytesDown: number;
}

export interface FaultProxy {
  readonly name: string;
  readonly port: number;
  readonly endpoint: ProxyTarget;
  /** http://127.0.0.1:port, for HTTP links. */
  readonly url: string;
  cut(mode?: CutMode): void;
  heal(): void;
  /** Delays every chunk by `ms` in both directions, so a round trip gains 2 × ms. */
  setLatency(ms: number): void;
  /** Null removes the slowness. */
  slow(options: SlowOptions | null): void;
  /** New connections go to `target`; `dropExisting` resets the open ones so that clients reconnect there too. */
  retarget(target: ProxyTarget, options?: { dropExisting?: boolean }): void;
  stats(): FaultProxyStats;
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  target: ProxyTarget;
  /** 0 or absent: a free port. */
  port?: number;
  name?: string;
}

const HOST = '127.0.0.1';

interface Queued {
  chunk: Buffer;
  due: number;
}

/** One direction of one connection: reads from `source`, writes to `dest` when each chunk is due. */
class Pipe {
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastDue = 0;
  private sourceEnded = false;
  private blocked = false;

  constructor(
    private readonly proxy: LocalFaultProxy,
    private readonly link: Link,
    private readonly direction: 'up' | 'down',
    private readonly source: Socket,
    private readonly dest: Socket,
  ) {
    source.on('data', (chunk: Buffer) => this.receive(chunk));
    source.on('end', () => {
      this.sourceEnded = true;
      this.pump();
    });
  }

  private receive(chunk: Buffer): void {
    const now = Date.now();
    const { latencyMs, slowOptions } = this.proxy;
    if (this.direction === 'up') {
      this.proxy.counters.bytesUp += chunk.length;
      this.link.awaitingResponse = true;
    } else {
      this.proxy.counters.bytesDown += chunk.length;
    }
    let extra = 0;
    if (this.direction === 'down' && this.link.awaitingResponse) {
      this.link.awaitingResponse = false;
      extra = slowOptions?.firstByteDelayMs ?? 0;
    }
    const bps = slowOptions?.bytesPerSecond;
    // Slices of 1/20 s worth of bytes keep a throttled stream smooth instead of bursty.
    const sliceSize = bps ? Math.max(1, Math.floor(bps / 20)) : chunk.length;
    for (let off = 0; off < chunk.length; off += sliceSize) {
      const slice = chunk.subarray(off, off + sliceSize);
      // Never earlier than the previous chunk: a shorter latency set mid-stream must not reorder bytes.
      let due = Math.max(now + latencyMs + extra, this.lastDue);
      if (bps) due = Math.max(due, this.lastDue) + (slice.length / bps) * 1000;
      this.lastDue = due;
      this.queue.push({ chunk: slice, due });
    }
    this.pump();
  }

  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.link.frozen || this.blocked || this.dest.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.due > now) {
        this.timer = setTimeout(() => this.pump(), head.due - now);
        return;
      }
      this.queue.shift();
      if (!this.dest.write(head.chunk)) {
        // Backpressure: stop reading so that the sender's TCP window closes instead of our memory filling.
        this.blocked = true;
        this.source.pause();
        this.dest.once('drain', () => {
          this.blocked = false;
          if (!this.link.frozen) this.source.resume();
          this.pump();
        });
        return;
      }
    }
    if (this.sourceEnded && !this.dest.writableEnded) this.dest.end();
  }

  freeze(): void {
    this.source.pause();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  thaw(): void {
    if (!this.blocked) this.source.resume();
    this.pump();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

class Link {
  upstream: Socket | null = null;
  frozen = false;
  awaitingResponse = false;
  private pipes: Pipe[] = [];
  private closed = false;

  constructor(
    private readonly proxy: LocalFaultProxy,
    readonly client: Socket,
  ) {
    client.on('error', () => this.reset());
    client.on('close', (hadError) => this.onClose(hadError));
  }

  connect(target: ProxyTarget): void {
    if (this.closed) return;
    const upstream = new Socket({ allowHalfOpen: true });
    this.upstream = upstream;
    upstream.on('error', () => {
      this.proxy.counters.upstreamErrors += 1;
      this.reset();
    });
    upstream.on('close', (hadError) => this.onClose(hadError));
    this.pipes = [
      new Pipe(this.proxy, this, 'up', this.client, upstream),
      new Pipe(this.proxy, this, 'down', upstream, this.client),
    ];
    upstream.connect(target.port, target.host);
    this.client.resume();
  }

  freeze(): void {
    this.frozen = true;
    if (this.pipes.length === 0) this.client.pause();
    for (const p of this.pipes) p.freeze();
  }

  thaw(target: ProxyTarget): void {
    this.frozen = false;
    if (!this.upstream) this.connect(target);
    else for (const p of this.pipes) p.thaw();
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.counters.connectionsReset += 1;
    for (const p of this.pipes) p.clear();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (this.upstream && !this.upstream.destroyed) {
      if (this.upstream.connecting) this.upstream.destroy();
      else this.upstream.resetAndDestroy();
    }
    this.proxy.links.delete(this);
  }

  private onClose(hadError: boolean): void {
    if (hadError) {
      this.reset();
      return;
    }
    // A clean close of one side ends the other side only after its queued bytes went out (Pipe.pump).
    const upstreamDone = this.upstream === null || this.upstream.destroyed;
    if (this.client.destroyed && upstreamDone) {
      this.closed = true;
      this.proxy.links.delete(this);
    }
  }
}

class LocalFaultProxy implements FaultProxy {
  readonly links = new Set<Link>();
  readonly counters = {
    connectionsTotal: 0,
    connectionsReset: 0,
    upstreamErrors: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  latencyMs = 0;
  slowOptions: SlowOptions | null = null;
  private state: 'open' | CutMode = 'open';
  private server: Server;
  port = 0;

  constructor(
    readonly name: string,
    private target: ProxyTarget,
  ) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
      this.accept(socket),
    );
  }

  get endpoint(): ProxyTarget {
    return { host: HOST, port: this.port };
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new SetupError(
                `fault proxy ${this.name}: port ${port} on ${HOST} is in use: free it or choose another`,
              )
            : err,
        );
      });
      this.server.listen(port, HOST, () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
  }

  private accept(socket: Socket): void {
    this.counters.connectionsTotal += 1;
    socket.setNoDelay(true);
    if (this.state === 'reset') {
      this.counters.connectionsReset += 1;
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    const link = new Link(this, socket);
    this.links.add(link);
    if (this.state === 'blackhole') link.freeze();
    else link.connect(this.target);
  }

  cut(mode: CutMode = 'reset'): void {
    this.state = mode;
    for (const link of [...this.links]) {
      if (mode === 'reset') link.reset();
      else link.freeze();
    }
  }

  heal(): void {
    this.state = 'open';
    for (const link of this.links) link.thaw(this.target);
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be ≥ 0 ms, got ${ms}`);
    this.latencyMs = ms;
  }

  slow(options: SlowOptions | null): void {
    if (options?.bytesPerSecond !== undefined && !(options.bytesPerSecond > 0)) {
      throw new RangeError(`bytesPerSecond must be > 0, got ${options.bytesPerSecond}`);
    }
    this.slowOptions = options;
  }

  retarget(target: ProxyTarget, options: { dropExisting?: boolean } = {}): void {
    this.target = { ...target };
    if (options.dropExisting) for (const link of [...this.links]) link.reset();
  }

  stats(): FaultProxyStats {
    return {
      name: this.name,
      state: this.state,
      target: { ...this.target },
      latencyMs: this.latencyMs,
      slow: this.slowOptions ? { ...this.slowOptions } : null,
      connectionsActive: this.links.size,
      ...this.counters,
    };
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const link of [...this.links]) link.reset();
    await closed;
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new LocalFaultProxy(options.name ?? `proxy→${options.target.port}`, { ...options.target });
  await proxy.listen(options.port ?? 0);
  return proxy;
}
