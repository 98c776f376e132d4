import type { Incident } from './incident.js';

/**
 * What a claim's conditional write means for the execution that made it. Step Functions retries a Task whose
 * answer was lost, so a refused claim whose incident is running under this very execution landed before: it
 * is ours. Anything else refused is another execution's incident, and this one ends as a duplicate (I4). Pure.
 */
export type Claim =
  | { code: 'CLAIMED' | 'ALREADY_OURS'; claimed: true; reason: string }
  | { code: 'DUPLICATE'; claimed: false; reason: string };

/** The answer of the claim's conditional write (ControlStore.claimIncident), as far as the decision reads it. */
export type ClaimAnswer =
  | { claimed: true; incident: Pick<Incident, 'takenOverFrom'> }
  | { claimed: false; incident: Pick<Incident, 'status' | 'executionArn'> | null; reason: string };

export function claimOutcome(res: ClaimAnswer, executionArn: string): Claim {
  if (res.claimed) {
    const taken = res.incident.takenOverFrom;
    return {
      code: 'CLAIMED',
      claimed: true,
      reason: `claimed by ${executionArn}${taken ? ` (taken over from ${taken})` : ''}`,
    };
  }
  if (res.incident?.status === 'running' && res.incident.executionArn === executionArn) {
    return { code: 'ALREADY_OURS', claimed: true, reason: res.reason };
  }
  return { code: 'DUPLICATE', claimed: false, reason: res.reason };
}
