import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { howFarItGot, type ProgressEvidence } from '#core/progress.js';

const nothing = {
  fence: false,
  promoteStarted: false,
  promoteDone: false,
  leaseGranted: false,
  trafficStarted: false,
};
const base: ProgressEvidence = {
  epoch: 4,
  to: 'us-west-2',
  lease: { epoch: 4, holder: 'us-east-1' },
  reached: nothing,
  targetWritable: null,
};

describe('howFarItGot', () => {
  it('reports nothing done before the fence', () => {
    expect(howFarItGot(base)).toEqual({
      fenced: false,
      promoted: false,
      leaseGranted: false,
      trafficMoved: false,
    });
  });

  it('reads a fence whose answer was lost from the lease epoch', () => {
    expect(howFarItGot({ ...base, lease: { epoch: 5, holder: null } }).fenced).toBe(true);
  });

  it('reads a grant whose answer was lost from the lease, and counts it as promoted', () => {
    const p = howFarItGot({ ...base, lease: { epoch: 6, holder: 'us-west-2' } });
    expect(p).toEqual({ fenced: true, promoted: true, leaseGranted: true, trafficMoved: false });
  });

  it('does not count a lease at epoch + 2 held by another region as granted to the target', () => {
    expect(howFarItGot({ ...base, lease: { epoch: 6, holder: 'eu-west-1' } }).leaseGranted).toBe(false);
  });

  it('counts a started promotion as done unless the target is known not to be writable', () => {
    const started = { ...nothing, fence: true, promoteStarted: true };
    expect(howFarItGot({ ...base, reached: started, targetWritable: null }).promoted).toBe(true);
    expect(howFarItGot({ ...base, reached: started, targetWritable: true }).promoted).toBe(true);
    expect(howFarItGot({ ...base, reached: started, targetWritable: false }).promoted).toBe(false);
  });

  it('never reports less than the execution remembers (property)', () => {
    const flags = fc.record({
      fence: fc.boolean(),
      promoteStarted: fc.boolean(),
      promoteDone: fc.boolean(),
      leaseGranted: fc.boolean(),
      trafficStarted: fc.boolean(),
    });
    const lease = fc.option(
      fc.record({ epoch: fc.nat(10), holder: fc.constantFrom(null, 'us-east-1', 'us-west-2') }),
      { nil: null },
    );
    fc.assert(
      fc.property(flags, lease, fc.option(fc.boolean(), { nil: null }), (reached, l, writable) => {
        const p = howFarItGot({ ...base, reached, lease: l, targetWritable: writable });
        if (reached.fence) expect(p.fenced).toBe(true);
        if (reached.leaseGranted) expect(p.leaseGranted && p.promoted).toBe(true);
        if (reached.promoteDone) expect(p.promoted).toBe(true);
        expect(p.trafficMoved).toBe(reached.trafficStarted);
        // A granted lease means the fence happened: the page never says "granted" without "fenced" from the lease.
        if (p.leaseGranted && !reached.leaseGranted) expect(p.fenced).toBe(true);
      }),
    );
  });
});
