import { ATTEMPT_FIELDS, toIncident } from '#adapters/dynamodb/control/incident-item.js';
import { keys } from '#adapters/dynamodb/control/items.js';
import {
  claimRefusal,
  closeRefusal,
  malformedId,
  progressRefusal,
  takeoverRefusal,
} from '#adapters/dynamodb/control/refusals.js';
import type { RebuildMark } from '#core/eligibility.js';
import { LostRaceError, StoreError } from '#core/errors.js';
import { type Incident, parseIncidentId } from '#core/incident.js';
import type {
  AuditEntry,
  ControlStore,
  IncidentClaim,
  IncidentClose,
  IncidentCreate,
  IncidentProgress,
  IncidentRequest,
  IncidentTakeover,
  PauseRecord,
  VerdictChange,
  VerdictRecord,
} from '#core/ports.js';

type Item = Record<string, unknown>;

/**
 * The control store in memory, for fast tests: the same keys, the same conditions and the same refusals as the
 * DynamoDB store, checked and applied in one synchronous step as DynamoDB applies one conditional write.
 * test/support/control-store-contract.ts runs the same cases against both.
 */
export class MemoryControlStore implements ControlStore {
  /** pk → sk → item, as the control table holds them (without undefined attributes). */
  readonly items = new Map<string, Map<string, Item>>();

  async requestIncident(request: IncidentRequest, now: number): Promise<IncidentCreate> {
    const key = keys.incident(request.application, request.epoch);
    const old = this.item(key.pk, key.sk);
    const reopenable =
      old !== undefined &&
      (old.status === 'aborted' || old.status === 'failed') &&
      (old.reopenAfter === undefined || Number(old.reopenAfter) <= now);
    if (old && !reopenable) return { created: false, existing: toIncident(old) };
    const next: Item = { ...old, ...key };
    for (const k of ATTEMPT_FIELDS) if (!(k in request)) delete next[k];
    for (const [k, v] of Object.entries(request)) if (v !== undefined) next[k] = structuredClone(v);
    next.status = 'requested';
    next.attempt = Number(old?.attempt ?? 0) + 1;
    return { created: true, incident: toIncident(this.write(next)) };
  }

  async getIncident(id: string): Promise<Incident | null> {
    const parsed = parseIncidentId(id);
    if (!parsed) return null;
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    return item && item.attempt === parsed.attempt ? toIncident(item) : null;
  }

  async claimIncident(id: string, executionArn: string, now: number): Promise<IncidentClaim> {
    const parsed = parseIncidentId(id);
    if (!parsed) return { claimed: false, incident: null, reason: malformedId(id) };
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    if (item?.status !== 'requested' || item.attempt !== parsed.attempt || item.executionArn !== undefined) {
      const incident = await this.getIncident(id);
      return { claimed: false, incident, reason: claimRefusal(id, executionArn, incident) };
    }
    const { quietUntil: _, ...rest } = item;
    const next = {
      ...rest,
      status: 'running',
      executionArn,
      claimedAt: now,
      progressAt: now,
      progressStep: 'claim',
    };
    return { claimed: true, incident: toIncident(this.write(next)) };
  }

  async recordProgress(
    id: string,
    executionArn: string,
    progress: { at: number; step: string; quietUntil?: number },
  ): Promise<IncidentProgress> {
    const parsed = parseIncidentId(id);
    if (!parsed) return { owned: false, incident: null, reason: malformedId(id) };
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    if (!item || item.attempt !== parsed.attempt || item.executionArn !== executionArn) {
      const incident = await this.getIncident(id);
      return { owned: false, incident, reason: progressRefusal(id, executionArn, incident) };
    }
    const { quietUntil: _, ...rest } = item;
    this.write({
      ...rest,
      progressAt: progress.at,
      progressStep: progress.step,
      ...(progress.quietUntil === undefined ? {} : { quietUntil: progress.quietUntil }),
    });
    return { owned: true };
  }

  async openIncident(application: string, fromEpoch: number, toEpoch: number): Promise<Incident | null> {
    const from = keys.incident(application, fromEpoch).sk;
    const to = keys.incident(application, toEpoch).sk;
    const open = this.query(application, (sk) => sk >= from && sk <= to, 'descending')
      .map(toIncident)
      .find((i) => i.status === 'requested' || i.status === 'running');
    return open ?? null;
  }

  async takeOverIncident(seen: Incident, by: string, now: number): Promise<IncidentTakeover> {
    const item = this.item(...pkSk(keys.incident(seen.application, seen.epoch)));
    const asSeen =
      item !== undefined &&
      item.status === seen.status &&
      item.attempt === seen.attempt &&
      item.executionArn === seen.executionArn &&
      item.requestedBy === seen.requestedBy &&
      item.progressAt === seen.progressAt &&
      item.takeovers === seen.takeovers;
    if (!asSeen) {
      const incident = await this.getIncident(seen.id);
      return { takenOver: false, incident, reason: takeoverRefusal(seen.id, incident) };
    }
    const {
      executionArn: _arn,
      claimedAt: _claimed,
      publishedAt: _published,
      progressStep: _step,
      quietUntil: _quiet,
      ...rest
    } = item;
    const next = {
      ...rest,
      status: 'requested',
      requestedBy: by,
      takenOverFrom: seen.executionArn ?? seen.requestedBy,
      takenOverAt: now,
      progressAt: now,
      takeovers: Number(item.takeovers ?? 0) + 1,
    };
    return { takenOver: true, incident: toIncident(this.write(next)) };
  }

  async closeIncident(close: IncidentClose): Promise<Incident> {
    const { id, status, reason, now, reopenAfter, owner } = close;
    const parsed = parseIncidentId(id);
    if (!parsed) throw new StoreError(malformedId(id));
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    const ownerMatches =
      'any' in owner
        ? true
        : 'unclaimed' in owner
          ? item?.executionArn === undefined
          : item?.executionArn === owner.execution;
    if (
      !item ||
      item.attempt !== parsed.attempt ||
      (item.status !== 'requested' && item.status !== 'running') ||
      !ownerMatches
    ) {
      return closeRefusal(close, await this.getIncident(id));
    }
    const next = {
      ...item,
      status,
      closedAt: now,
      closeReason: reason,
      ...(reopenAfter === undefined ? {} : { reopenAfter }),
    };
    return toIncident(this.write(next));
  }

  async lastCompletedFailover(application: string): Promise<Incident | null> {
    return this.lastClosedIncident(application, ['completed']);
  }

  async lastClosedIncident(application: string, statuses: readonly string[]): Promise<Incident | null> {
    // Like the DynamoDB query, only the newest 20 incidents are looked at.
    const found = this.query(application, (sk) => sk.startsWith(keys.incidentPrefix), 'descending')
      .slice(0, 20)
      .map(toIncident)
      .find((i) => statuses.includes(i.status));
    return found ?? null;
  }

  async recordVerdict(application: string, kind: string, code: string, now: number): Promise<VerdictChange> {
    const key = keys.verdict(application);
    const old = this.item(key.pk, key.sk);
    if (old && old.kind === kind) return { changed: false, previous: kind };
    this.write({ ...key, kind, code, since: now });
    return { changed: true, previous: old ? String(old.kind) : null };
  }

  async getVerdict(application: string): Promise<VerdictRecord | null> {
    const item = this.item(...pkSk(keys.verdict(application)));
    return item ? { kind: String(item.kind), code: String(item.code), since: Number(item.since) } : null;
  }

  async claimPublish(id: string, now: number): Promise<boolean> {
    const parsed = parseIncidentId(id);
    if (!parsed) return false;
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    if (
      !item ||
      item.attempt !== parsed.attempt ||
      item.status !== 'requested' ||
      item.publishedAt !== undefined
    ) {
      return false;
    }
    this.write({ ...item, publishedAt: now });
    return true;
  }

  async releasePublish(id: string, claimedAt: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    if (!item || item.attempt !== parsed.attempt || item.publishedAt !== claimedAt) return;
    const { publishedAt: _, ...rest } = item;
    this.write(rest);
  }

  async markPublished(id: string, now: number): Promise<void> {
    const parsed = parseIncidentId(id);
    if (!parsed) return;
    const item = this.item(...pkSk(keys.incident(parsed.application, parsed.epoch)));
    if (!item || item.attempt !== parsed.attempt) {
      throw new LostRaceError(`could not mark incident ${id} published: ConditionalCheckFailedException`);
    }
    this.write({ ...item, publishedAt: now });
  }

  async getPause(application: string): Promise<PauseRecord | null> {
    const item = this.item(...pkSk(keys.pause(application)));
    if (!item) return null;
    return { pausedBy: String(item.pausedBy), pausedAt: Number(item.pausedAt), reason: String(item.reason) };
  }

  async setPause(application: string, record: PauseRecord): Promise<void> {
    this.write({ ...keys.pause(application), ...record });
  }

  async clearPause(application: string): Promise<void> {
    const key = keys.pause(application);
    this.items.get(key.pk)?.delete(key.sk);
  }

  async appendAudit(application: string, incidentId: string, entry: AuditEntry): Promise<void> {
    this.write({ ...keys.audit(application, incidentId, entry.at, entry.step), incidentId, ...entry });
  }

  async listAudit(application: string, incidentId: string): Promise<AuditEntry[]> {
    const prefix = keys.auditPrefix(incidentId);
    return this.query(application, (sk) => sk.startsWith(prefix), 'ascending').map((i) => ({
      at: Number(i.at),
      step: String(i.step),
      outcome: String(i.outcome),
      ...(i.detail ? { detail: i.detail as Record<string, unknown> } : {}),
    }));
  }

  async getRebuild(application: string, region: string): Promise<RebuildMark | null> {
    const item = this.item(...pkSk(keys.rebuild(application, region)));
    return item ? toMark(item) : null;
  }

  async listRebuilds(application: string): Promise<RebuildMark[]> {
    return this.query(application, (sk) => sk.startsWith(keys.rebuildPrefix), 'ascending').map(toMark);
  }

  async markRebuild(application: string, mark: RebuildMark): Promise<void> {
    const key = keys.rebuild(application, mark.region);
    if (this.item(key.pk, key.sk)) return;
    this.write({ ...key, ...mark });
  }

  async clearRebuild(application: string, region: string, since: number): Promise<void> {
    const key = keys.rebuild(application, region);
    if (this.item(key.pk, key.sk)?.since === since) this.items.get(key.pk)?.delete(key.sk);
  }

  private item(pk: string, sk: string): Item | undefined {
    const item = this.items.get(pk)?.get(sk);
    return item ? structuredClone(item) : undefined;
  }

  /** Stores a copy without undefined attributes, as DynamoDB would, and returns the stored item. */
  private write(item: Item): Item {
    const stored = structuredClone(
      Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)),
    );
    const pk = String(stored.pk);
    const partition = this.items.get(pk) ?? new Map<string, Item>();
    partition.set(String(stored.sk), stored);
    this.items.set(pk, partition);
    return structuredClone(stored);
  }

  private query(pk: string, match: (sk: string) => boolean, order: 'ascending' | 'descending'): Item[] {
    const found = [...(this.items.get(pk) ?? new Map<string, Item>()).entries()]
      .filter(([sk]) => match(sk))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => structuredClone(item));
    return order === 'ascending' ? found : found.reverse();
  }
}

const toMark = (i: Item): RebuildMark => ({
  region: String(i.region),
  since: Number(i.since),
  incidentId: String(i.incidentId),
  reason: String(i.reason),
});

const pkSk = (key: { pk: string; sk: string }): [string, string] => [key.pk, key.sk];
