import type { Lease } from '#core/lease.js';
import type { LeaseResult, LeaseStore } from '#core/ports.js';
import type { Timeline } from '../timeline.js';

/** Records every lease change on the timeline; the grants are what split-brain writes are measured against. */
export class RecordingLeaseStore implements LeaseStore {
  constructor(
    private readonly inner: LeaseStore,
    private readonly timeline: Timeline,
    private readonly source: string,
  ) {}
  read(application: string): Promise<Lease | null> {
    return this.inner.read(application);
  }
  async acquire(application: string, region: string, expectedEpoch: number | null): Promise<LeaseResult> {
    return this.note(await this.inner.acquire(application, region, expectedEpoch), 'lease_granted');
  }
  renew(application: string, region: string, epoch: number): Promise<LeaseResult> {
    return this.inner.renew(application, region, epoch);
  }
  async revoke(application: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.note(await this.inner.revoke(application, expectedEpoch), 'lease_revoked');
  }
  async grant(application: string, region: string, expectedEpoch: number): Promise<LeaseResult> {
    return this.note(await this.inner.grant(application, region, expectedEpoch), 'lease_granted');
  }
  private note(result: LeaseResult, type: string): LeaseResult {
    if (result.ok) {
      this.timeline.record(this.source, type, {
        region: result.lease.holder ?? undefined,
        epoch: result.lease.epoch,
        expiresAt: result.lease.expiresAt,
      });
    }
    return result;
  }
}
