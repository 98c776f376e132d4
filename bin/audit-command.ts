import { parseArgs } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Incident, parseIncidentId } from '#core/incident.js';
import type { AuditEntry, Clock } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { loadConfig } from './config-file.js';
import {
  type ControlTable,
  type Io,
  iso,
  openControlTable,
  processIo,
  required,
  tableError,
  tableFlags,
  UsageError,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

export interface AuditCommandDeps {
  io?: Io;
  clock?: Clock;
  client?: (table: ControlTable) => DynamoDBDocumentClient;
}

/**
 * `cutover audit INCIDENT`: an incident and its audit trail (I5), one line a step with its time, how long it
 * took, its outcome and the decision it acted on. Exit codes: 0 shown, 1 a refused configuration, an unknown
 * incident or a failed read, 2 a usage problem.
 */
export async function auditCommand(argv: string[], deps: AuditCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const clock = deps.clock ?? systemClock;
  return withUsage(io, usageOf('audit'), async () => {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'name the incident, e.g. orders:3:1'
          : `one incident at a time, got ${positionals.join(' ')}`,
      );
    }
    const id = positionals[0]!;
    const parts = parseIncidentId(id);
    if (!parts)
      throw new UsageError(
        `${JSON.stringify(id)} is not an incident id: application:epoch:attempt, e.g. orders:3:1`,
      );
    const config = loadConfig(required(values.config, '--config'), io);
    if (!config) return 1;
    if (parts.application !== config.application) {
      io.err(
        `incident ${id} belongs to ${parts.application}, not to ${config.application} (the configuration's application)\n`,
      );
      return 1;
    }
    const { table, control } = openControlTable(config, values, clock, deps.client);
    let incident: Incident | null;
    let trail: AuditEntry[];
    try {
      [incident, trail] = await Promise.all([
        control.getIncident(id),
        control.listAudit(config.application, id),
      ]);
    } catch (err) {
      io.err(tableError(table, err));
      return 1;
    }
    if (!incident) {
      io.err(
        `no incident ${id} in ${table.name} (${table.region}); \`cutover status\` lists the open and the last ones\n`,
      );
      return 1;
    }
    io.out(values.json ? `${JSON.stringify({ incident, trail })}\n` : formatAudit(incident, trail));
    return 0;
  });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...tableFlags,
    },
    strict: true,
    allowPositionals: true,
  });
}

/** The incident's header, then one line a step: offset from the request, duration, step, outcome, decision. */
export function formatAudit(incident: Incident, trail: AuditEntry[]): string {
  const t0 = incident.detectedAt ?? incident.requestedAt;
  const offset = (at: number) => `+${((at - t0) / 1000).toFixed(3)} s`;
  const head = [
    `incident ${incident.id}: ${incident.kind} ${incident.from} → ${incident.to}, ${incident.status}${incident.closeReason ? ` (${incident.closeReason})` : ''}`,
    `  requested ${iso(incident.requestedAt)} by ${incident.requestedBy}: ${incident.verdictCode}: ${incident.reason}`,
    ...(incident.detectedAt !== undefined
      ? [`  detected  ${iso(incident.detectedAt)} (offsets below are from here)`]
      : []),
    ...(incident.executionArn ? [`  execution ${incident.executionArn}`] : []),
    ...(incident.takenOverFrom
      ? [`  taken over from ${incident.takenOverFrom} at ${iso(incident.takenOverAt ?? 0)}`]
      : []),
  ];
  if (trail.length === 0) return `${[...head, '  no audit entries yet (no step has run)'].join('\n')}\n`;
  const lines = trail.map((e) => {
    const d = e.detail ?? {};
    const took = typeof d.durationMs === 'number' ? `${d.durationMs} ms` : '';
    const decision = d.decision as { code?: string; reason?: string } | undefined;
    const why = decision?.code
      ? `${decision.code}: ${decision.reason ?? ''}`
      : typeof d.message === 'string'
        ? `${String(d.error ?? 'error')}: ${d.message}`
        : '';
    return `  ${offset(e.at).padStart(11)}  ${took.padStart(8)}  ${e.step.padEnd(22)} ${e.outcome.padEnd(14)} ${why}`.trimEnd();
  });
  const span = trail.at(-1)!.at - t0;
  return `${[...head, `  ${'at'.padStart(11)}  ${'took'.padStart(8)}  ${'step'.padEnd(22)} ${'outcome'.padEnd(14)} decision`, ...lines, `  ${trail.length} entries over ${(span / 1000).toFixed(3)} s`].join('\n')}\n`;
}
