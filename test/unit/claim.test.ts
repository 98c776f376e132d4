import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimOutcome } from '#core/claim.js';
import type { IncidentStatus } from '#core/incident.js';

const ARN = 'arn:aws:states:us-east-2:111111111111:execution:cutover-failover:a';
const OTHER = 'arn:aws:states:eu-central-1:111111111111:execution:cutover-failover:b';
const held = (executionArn: string | undefined, status: IncidentStatus = 'running') => ({
  status,
  executionArn,
});

describe('claimOutcome', () => {
  it('CLAIMED when the conditional write landed, naming the execution it was taken over from', () => {
    expect(claimOutcome({ claimed: true, incident: {} }, ARN)).toEqual({
      code: 'CLAIMED',
      claimed: true,
      reason: `claimed by ${ARN}`,
    });
    expect(claimOutcome({ claimed: true, incident: { takenOverFrom: OTHER } }, ARN).reason).toBe(
      `claimed by ${ARN} (taken over from ${OTHER})`,
    );
  });

  it('ALREADY_OURS when a retried claim finds the incident running under this execution', () => {
    expect(claimOutcome({ claimed: false, incident: held(ARN), reason: 'already running' }, ARN)).toEqual({
      code: 'ALREADY_OURS',
      claimed: true,
      reason: 'already running',
    });
  });

  it('DUPLICATE when another execution holds it, or it is no longer running', () => {
    expect(claimOutcome({ claimed: false, incident: held(OTHER), reason: 'held by b' }, ARN)).toEqual({
      code: 'DUPLICATE',
      claimed: false,
      reason: 'held by b',
    });
    expect(claimOutcome({ claimed: false, incident: null, reason: 'no such incident' }, ARN).code).toBe(
      'DUPLICATE',
    );
  });

  it('never lets an execution run an incident that another execution holds or that is not running', () => {
    const statuses: IncidentStatus[] = ['requested', 'running', 'aborted', 'failed', 'completed'];
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.constantFrom(ARN, OTHER, undefined), (status, holder) => {
        const d = claimOutcome({ claimed: false, incident: held(holder, status), reason: 'refused' }, ARN);
        expect(d.claimed).toBe(status === 'running' && holder === ARN);
        expect(d.reason).toBe('refused');
      }),
    );
  });
});
