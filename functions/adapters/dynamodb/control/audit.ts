import { z } from 'zod';
import type { AuditEntry, AuditStore } from '#core/ports.js';
import { type ControlTable, keys, parseItem } from './items.js';

const auditItem = z.object({
  at: z.number(),
  step: z.string().min(1),
  outcome: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The audit trail of an incident: one item per (time, step), so a retried step that writes the same entry
 * again overwrites it instead of doubling it, and a query returns them in time order.
 */
export class DynamoAuditStore implements AuditStore {
  constructor(private readonly table: ControlTable) {}

  async appendAudit(application: string, incidentId: string, entry: AuditEntry): Promise<void> {
    await this.table.put(
      { Item: { ...keys.audit(application, incidentId, entry.at, entry.step), incidentId, ...entry } },
      `audit ${entry.step} of incident ${incidentId}`,
    );
  }

  async listAudit(application: string, incidentId: string): Promise<AuditEntry[]> {
    const items = await this.table.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': application, ':prefix': keys.auditPrefix(incidentId) },
      },
      `list the audit of incident ${incidentId}`,
    );
    return items.map((item) => {
      const { detail, ...entry } = parseItem(auditItem, 'audit', item);
      return detail ? { ...entry, detail } : entry;
    });
  }
}
