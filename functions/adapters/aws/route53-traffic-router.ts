import {
  type Change,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { CutoverConfig } from '#core/config.js';
import { TrafficError } from '#core/failover-errors.js';
import type { ChangeStatus, TrafficChange, TrafficRouter } from '#core/failover-ports.js';
import { assertSomeWeight, planRecordStop } from '#core/traffic.js';
import { mapAwsError } from './aws-errors.js';

type TrafficConfig = NonNullable<CutoverConfig['traffic']>;
type Regions = Pick<CutoverConfig, 'primary' | 'standby'>;

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/**
 * Moves traffic with the application's two Route 53 records (weighted or failover routing, one record per
 * region by SetIdentifier). Each change reads the current records first and changes only the routing field,
 * so the values, alias targets, TTLs and health checks that the operator set stay as they are.
 */
export class Route53TrafficRouter implements TrafficRouter {
  private readonly traffic: TrafficConfig;

  constructor(
    private readonly client: Route53Client,
    config: Regions & { traffic?: CutoverConfig['traffic'] },
  ) {
    if (!config.traffic) throw new TrafficError('traffic is not configured');
    if (!config.primary.setIdentifier || !config.standby.setIdentifier) {
      throw new TrafficError('primary.setIdentifier and standby.setIdentifier are required');
    }
    this.traffic = config.traffic;
    this.ids = {
      [config.primary.region]: config.primary.setIdentifier,
      [config.standby.region]: config.standby.setIdentifier,
    };
  }

  private readonly ids: Record<string, string>;

  async stopTraffic(region: string): Promise<TrafficChange> {
    if (this.traffic.routing === 'failover') {
      // Failover records have no "off": the primary's health check already steers resolvers away from it,
      // and the only other move would send traffic to the standby before its lease. Roles swap at routeTo.
      return { changeId: null, detail: 'failover routing: nothing to stop; the health check steers away' };
    }
    const { own, other } = await this.records(region);
    const plan = planRecordStop(
      { [region]: own.Weight ?? 0, [this.otherRegion(region)]: other.Weight ?? 0 },
      region,
    );
    // Never every weight at 0: Route 53 would then answer all records evenly, the standby's before its lease.
    if (plan.code === 'WOULD_ZERO_ALL') return { changeId: null, detail: plan.reason };
    return this.change(
      [{ Action: 'UPSERT', ResourceRecordSet: { ...own, Weight: 0 } }],
      `weight 0 for ${region}`,
    );
  }

  async routeTo(region: string, weightPercent: number): Promise<TrafficChange> {
    if (!Number.isInteger(weightPercent) || weightPercent < 1 || weightPercent > 100) {
      throw new TrafficError(`weightPercent must be a whole number from 1 to 100, got ${weightPercent}`);
    }
    const { own, other } = await this.records(region);
    if (this.traffic.routing === 'failover') {
      if (weightPercent !== 100)
        throw new TrafficError(`failover routing cannot send ${weightPercent}% to ${region}`);
      if (own.Failover === 'PRIMARY') return { changeId: null, detail: `${region} is already PRIMARY` };
      // A change batch is all-or-nothing, so deleting and recreating both records never leaves two PRIMARYs.
      return this.change(
        [
          { Action: 'DELETE', ResourceRecordSet: own },
          { Action: 'DELETE', ResourceRecordSet: other },
          { Action: 'CREATE', ResourceRecordSet: { ...own, Failover: 'PRIMARY' } },
          { Action: 'CREATE', ResourceRecordSet: { ...other, Failover: 'SECONDARY' } },
        ],
        `${region} PRIMARY`,
      );
    }
    assertSomeWeight({ [region]: weightPercent, [this.otherRegion(region)]: 100 - weightPercent });
    return this.change(
      [
        { Action: 'UPSERT', ResourceRecordSet: { ...own, Weight: weightPercent } },
        { Action: 'UPSERT', ResourceRecordSet: { ...other, Weight: 100 - weightPercent } },
      ],
      `weight ${weightPercent} for ${region}, ${100 - weightPercent} for the other`,
    );
  }

  async changeStatus(changeId: string): Promise<ChangeStatus> {
    try {
      const res = await this.client.send(new GetChangeCommand({ Id: changeId }));
      const status = res.ChangeInfo?.Status;
      if (status !== 'PENDING' && status !== 'INSYNC')
        throw new TrafficError(`change ${changeId} has status ${status}`);
      return status;
    } catch (err) {
      if (err instanceof TrafficError) throw err;
      throw mapAwsError(err, `get change ${changeId}`, TrafficError);
    }
  }

  private otherRegion(region: string): string {
    return Object.keys(this.ids).find((r) => r !== region)!;
  }

  private async records(region: string): Promise<{ own: ResourceRecordSet; other: ResourceRecordSet }> {
    const id = this.ids[region];
    if (!id) throw new TrafficError(`${region} is not an application region`);
    const otherId = Object.values(this.ids).find((v) => v !== id)!;
    let sets: ResourceRecordSet[];
    try {
      const res = await this.client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: this.traffic.hostedZoneId,
          StartRecordName: this.traffic.recordName,
          StartRecordType: this.traffic.recordType,
          MaxItems: 100,
        }),
      );
      sets = res.ResourceRecordSets ?? [];
    } catch (err) {
      throw mapAwsError(err, `list the records of ${this.traffic.recordName}`, TrafficError);
    }
    const name = fqdn(this.traffic.recordName);
    const mine = sets.filter((s) => fqdn(s.Name ?? '') === name && s.Type === this.traffic.recordType);
    const own = mine.find((s) => s.SetIdentifier === id);
    const other = mine.find((s) => s.SetIdentifier === otherId);
    if (!own || !other) {
      throw new TrafficError(
        `${this.traffic.recordName} ${this.traffic.recordType} needs records with set identifiers ${id} and ${otherId} in ${this.traffic.hostedZoneId}`,
      );
    }
    return { own, other };
  }

  private async change(changes: Change[], detail: string): Promise<TrafficChange> {
    try {
      const res = await this.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: this.traffic.hostedZoneId,
          ChangeBatch: { Comment: `cutover: ${detail}`, Changes: changes },
        }),
      );
      const changeId = res.ChangeInfo?.Id;
      if (!changeId) throw new TrafficError('ChangeResourceRecordSets returned no change id');
      return { changeId, detail };
    } catch (err) {
      if (err instanceof TrafficError) throw err;
      throw mapAwsError(err, `change ${this.traffic.recordName} (${detail})`, TrafficError);
    }
  }
}
