import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ControlStore } from '#core/ports.js';
import { DynamoAuditStore } from './control/audit.js';
import { DynamoIncidentStore } from './control/incidents.js';
import { ControlTable } from './control/items.js';
import { DynamoPauseStore } from './control/pause.js';
import { DynamoPublicationClaims } from './control/publication.js';
import { DynamoRebuildStore } from './control/rebuild.js';
import { DynamoVerdictStore } from './control/verdicts.js';

type Args<K extends keyof ControlStore> = Parameters<ControlStore[K]>;

/**
 * The control table's incidents, verdicts, publication claims, pause, audit and rebuild marks, as one ControlStore. Each part
 * lives in control/ and can be used alone; every one maps SDK errors the same way (store-errors.ts).
 */
export class DynamoControlStore implements ControlStore {
  readonly incidents: DynamoIncidentStore;
  readonly verdicts: DynamoVerdictStore;
  readonly publication: DynamoPublicationClaims;
  readonly pause: DynamoPauseStore;
  readonly audit: DynamoAuditStore;
  readonly rebuilds: DynamoRebuildStore;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    const table = new ControlTable(client, tableName);
    this.incidents = new DynamoIncidentStore(table);
    this.verdicts = new DynamoVerdictStore(table);
    this.publication = new DynamoPublicationClaims(table);
    this.pause = new DynamoPauseStore(table);
    this.audit = new DynamoAuditStore(table);
    this.rebuilds = new DynamoRebuildStore(table);
  }

  requestIncident = (...a: Args<'requestIncident'>) => this.incidents.requestIncident(...a);
  getIncident = (...a: Args<'getIncident'>) => this.incidents.getIncident(...a);
  claimIncident = (...a: Args<'claimIncident'>) => this.incidents.claimIncident(...a);
  recordProgress = (...a: Args<'recordProgress'>) => this.incidents.recordProgress(...a);
  openIncident = (...a: Args<'openIncident'>) => this.incidents.openIncident(...a);
  takeOverIncident = (...a: Args<'takeOverIncident'>) => this.incidents.takeOverIncident(...a);
  closeIncident = (...a: Args<'closeIncident'>) => this.incidents.closeIncident(...a);
  lastCompletedFailover = (...a: Args<'lastCompletedFailover'>) => this.incidents.lastCompletedFailover(...a);
  lastClosedIncident = (...a: Args<'lastClosedIncident'>) => this.incidents.lastClosedIncident(...a);
  recordVerdict = (...a: Args<'recordVerdict'>) => this.verdicts.recordVerdict(...a);
  getVerdict = (...a: Args<'getVerdict'>) => this.verdicts.getVerdict(...a);
  claimPublish = (...a: Args<'claimPublish'>) => this.publication.claimPublish(...a);
  releasePublish = (...a: Args<'releasePublish'>) => this.publication.releasePublish(...a);
  markPublished = (...a: Args<'markPublished'>) => this.publication.markPublished(...a);
  getPause = (...a: Args<'getPause'>) => this.pause.getPause(...a);
  setPause = (...a: Args<'setPause'>) => this.pause.setPause(...a);
  clearPause = (...a: Args<'clearPause'>) => this.pause.clearPause(...a);
  appendAudit = (...a: Args<'appendAudit'>) => this.audit.appendAudit(...a);
  listAudit = (...a: Args<'listAudit'>) => this.audit.listAudit(...a);
  getRebuild = (...a: Args<'getRebuild'>) => this.rebuilds.getRebuild(...a);
  listRebuilds = (...a: Args<'listRebuilds'>) => this.rebuilds.listRebuilds(...a);
  markRebuild = (...a: Args<'markRebuild'>) => this.rebuilds.markRebuild(...a);
  clearRebuild = (...a: Args<'clearRebuild'>) => this.rebuilds.clearRebuild(...a);
}
