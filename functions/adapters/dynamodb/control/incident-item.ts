import { z } from 'zod';
import { type Incident, incidentId } from '#core/incident.js';
import { parseItem } from './items.js';

const count = z.number().int().nonnegative();

const incidentItem = z.object({
  application: z.string().min(1),
  kind: z.enum(['failover', 'failback']),
  epoch: count,
  attempt: z.number().int().positive(),
  status: z.enum(['requested', 'running', 'aborted', 'failed', 'completed']),
  from: z.string(),
  to: z.string(),
  verdictKind: z.enum(['healthy', 'suspect', 'failover', 'failover-needs-approval', 'manual']),
  verdictCode: z.string(),
  reason: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  needsApproval: z.boolean(),
  requestedAt: z.number(),
  requestedBy: z.string(),
  detectedAt: z.number().optional(),
  executionArn: z.string().optional(),
  claimedAt: z.number().optional(),
  closedAt: z.number().optional(),
  closeReason: z.string().optional(),
  reopenAfter: z.number().optional(),
  publishedAt: z.number().optional(),
  progressAt: z.number().optional(),
  progressStep: z.string().optional(),
  quietUntil: z.number().optional(),
  takenOverFrom: z.string().optional(),
  takenOverAt: z.number().optional(),
  takeovers: count.optional(),
});

// Zod drops the attributes a schema does not name: an Incident field missing here would vanish on every read,
// so the build fails instead, naming it.
type Unread = Exclude<keyof Omit<Incident, 'id'>, keyof z.infer<typeof incidentItem>>;
const everyFieldRead: [Unread] extends [never] ? true : Unread = true;
void everyFieldRead;

export function toIncident(item: Record<string, unknown>): Incident {
  const i = parseItem(incidentItem, 'incident', item);
  return { ...i, id: incidentId(i.application, i.epoch, i.attempt) };
}

// A closed incident's leftovers must not leak into a new attempt at the same epoch.
export const ATTEMPT_FIELDS = [
  'executionArn',
  'claimedAt',
  'closedAt',
  'closeReason',
  'reopenAfter',
  'publishedAt',
  'progressAt',
  'progressStep',
  'quietUntil',
  'takenOverFrom',
  'takenOverAt',
  'takeovers',
];
