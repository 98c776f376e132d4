import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CutoverConfig } from '#core/config.js';
import { describeError, StoreError } from '#core/errors.js';
import type { Lease } from '#core/lease.js';
import { leaseReplicaOrder, replicaAttemptMs } from '#core/lease-replicas.js';
import type { Clock, LeaseResult, LeaseStore } from '#core/ports.js';
import { DynamoLeaseStore, type LeaseCall } from './lease-store.js';

/** A lease store whose every call can be ended by an AbortSignal (DynamoLeaseStore is one). */
export interface AbortableLeaseStore {
  read(application: string, call?: LeaseCall): Promise<Lease | null>;
  acquire(
    application: string,
    region: string,
    expectedEpoch: number | null,
    call?: LeaseCall,
  ): Promise<LeaseResult>;
  renew(application: string, region: string, epoch: number, call?: LeaseCall): Promise<LeaseResult>;
  revoke(application: string, expectedEpoch: number): Promise<LeaseResult>;
  grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult>;
}

export interface LeaseReplica {
  region: string;
  store: AbortableLeaseStore;
}

export interface ReplicaLeaseStoreOptions {
  /** In order of preference: the local replica first. */
  replicas: LeaseReplica[];
  /** The whole call, every replica tried, ends within this (the lease's retryTimeoutMs). */
  budgetMs: number;
  /** A monotonic clock for the budget; performance.now by default. */
  elapsed?: () => number;
  /** Told when a replica failed and the next one is tried. */
  onFallback?: (from: string, to: string, error: unknown) => void;
}

/**
 * Reads and renews the lease through any replica of the lease authority: the local one first, then the others,
 * each with its share of the time left, every attempt aborted when its share runs out. On MRSC every replica
 * sees the latest version and checks a condition against it, so a refusal from any replica is the answer; only
 * an error (unreachable, timed out, throttled) moves on to the next. A renewal that timed out may still have
 * been applied: the next replica's renewal is conditional on the same holder and epoch, so it extends the same
 * lease or is refused with the lease as it stands.
 */
export class ReplicaLeaseStore implements LeaseStore {
  private readonly elapsed: () => number;

  constructor(private readonly options: ReplicaLeaseStoreOptions) {
    if (options.replicas.length === 0) throw new RangeError('replicas must name at least one lease replica');
    if (!(options.budgetMs > 0)) throw new RangeError('budgetMs must be a positive number of milliseconds');
    this.elapsed = options.elapsed ?? (() => performance.now());
  }

  get regions(): string[] {
    return this.options.replicas.map((r) => r.region);
  }

  read(application: string): Promise<Lease | null> {
    return this.route(`read the lease of ${application}`, (s, call) => s.read(application, call));
  }

  acquire(application: string, region: string, expectedEpoch: number | null): Promise<LeaseResult> {
    return this.route(`acquire the lease of ${application} for ${region}`, (s, call) =>
      s.acquire(application, region, expectedEpoch, call),
    );
  }

  renew(application: string, region: string, epoch: number): Promise<LeaseResult> {
    return this.route(`renew the lease of ${application} for ${region}`, (s, call) =>
      s.renew(application, region, epoch, call),
    );
  }

  // The fence and the grant belong to the failover, which has its own client and retries: the first replica.
  revoke(application: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.options.replicas[0]!.store.revoke(application, expectedEpoch);
  }

  grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.options.replicas[0]!.store.grant(application, region, expectedEpoch);
  }

  private async route<T>(
    what: string,
    fn: (s: AbortableLeaseStore, call: LeaseCall) => Promise<T>,
  ): Promise<T> {
    const { replicas, budgetMs } = this.options;
    const start = this.elapsed();
    const failures: string[] = [];
    let lastError: unknown;
    for (let i = 0; i < replicas.length; i++) {
      const replica = replicas[i]!;
      const share = replicaAttemptMs(budgetMs - (this.elapsed() - start), replicas.length - i);
      if (share <= 0) {
        failures.push(`${replica.region}: not tried, the ${budgetMs} ms budget is spent`);
        continue;
      }
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new StoreError(`no answer from ${replica.region} within ${share} ms`)),
        share,
      );
      timer.unref?.();
      try {
        return await fn(replica.store, { signal: controller.signal });
      } catch (err) {
        lastError = err;
        failures.push(
          `${replica.region}: ${controller.signal.aborted ? `no answer within ${share} ms` : describeError(err)}`,
        );
        const next = replicas[i + 1];
        if (next) this.options.onFallback?.(replica.region, next.region, err);
      } finally {
        clearTimeout(timer);
      }
    }
    throw new StoreError(`could not ${what} through any lease replica (${failures.join('; ')})`, {
      cause: lastError,
    });
  }
}

export interface ReplicaClientsOptions {
  config: Pick<CutoverConfig, 'leaseAuthority' | 'lease'>;
  /** The application region the caller runs in: its own replica is tried first. */
  region: string;
  tableName: string;
  clock: Clock;
  /**
   * One document client per replica region, each request bounded by retryTimeoutMs with the handler's
   * throwOnRequestTimeout (boundedRequests in #commons/request-timeouts.js).
   */
  clientFor: (region: string) => DynamoDBDocumentClient;
  onFallback?: ReplicaLeaseStoreOptions['onFallback'];
}

/**
 * The lease store an application region renews through: one DynamoDB client per lease-authority region (the
 * MRSC replicas, or the arbiter alone), the local replica first, each attempt aborted when its share of
 * retryTimeoutMs runs out.
 */
export function replicaLeaseStore(o: ReplicaClientsOptions): ReplicaLeaseStore {
  const lease = o.config.lease;
  return new ReplicaLeaseStore({
    replicas: leaseReplicaOrder(o.config.leaseAuthority, o.region).map((region) => ({
      region,
      store: new DynamoLeaseStore(o.clientFor(region), o.tableName, lease, o.clock),
    })),
    budgetMs: lease.retryTimeoutMs,
    ...(o.onFallback ? { onFallback: o.onFallback } : {}),
  });
}
