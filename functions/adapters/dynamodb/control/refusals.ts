import { LostRaceError, StoreError } from '#core/errors.js';
import type { Incident } from '#core/incident.js';
import type { IncidentClose } from '#core/ports.js';

// Why a conditional write on an incident was refused, from the incident read back after it. The in-memory
// store gives the same sentences, so tests and logs read the same whichever store answered.

export const malformedId = (id: string) => `malformed incident id ${JSON.stringify(id)}`;

export function claimRefusal(id: string, executionArn: string, incident: Incident | null): string {
  if (!incident) return `incident ${id} does not exist`;
  if (incident.executionArn === executionArn) return `incident ${id} is already claimed by this execution`;
  return `incident ${id} is ${incident.status}${incident.executionArn ? ` and claimed by ${incident.executionArn}` : ''}`;
}

export function progressRefusal(id: string, executionArn: string, incident: Incident | null): string {
  if (!incident) return `incident ${id} does not exist (any more)`;
  return `incident ${id} is ${incident.status} and bound to ${incident.executionArn ?? 'no execution'}${
    incident.takenOverFrom === executionArn ? `, taken over by ${incident.requestedBy}` : ''
  }`;
}

export function takeoverRefusal(id: string, incident: Incident | null): string {
  return `incident ${id} changed since it was judged stalled: now ${incident?.status ?? 'missing'}, bound to ${incident?.executionArn ?? 'no execution'}, requested by ${incident?.requestedBy ?? '-'}`;
}

/**
 * A refused close: a retried close with the same status returns the incident as closed (a no-op); an open
 * incident held by another owner is a LostRaceError; anything else cannot be closed (StoreError).
 */
export function closeRefusal(
  close: Pick<IncidentClose, 'id' | 'status' | 'owner'>,
  current: Incident | null,
  cause?: unknown,
): Incident {
  const { id, status, owner } = close;
  if (current && current.status === status) return current;
  if (current && (current.status === 'requested' || current.status === 'running')) {
    const wanted =
      'execution' in owner ? owner.execution : 'unclaimed' in owner ? 'an unclaimed request' : 'anyone';
    throw new LostRaceError(
      `incident ${id} is held by ${current.executionArn ?? 'no execution'}, not ${wanted}: not closed`,
      { cause },
    );
  }
  throw new StoreError(`incident ${id} cannot become ${status}: it is ${current?.status ?? 'missing'}`, {
    cause,
  });
}
