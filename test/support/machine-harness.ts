import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeDBInstancesCommand,
  type DescribeDBInstancesCommandOutput,
  PromoteReadReplicaCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '#adapters/aws/eventbridge-publisher.js';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import type { CutoverConfig } from '#core/config.js';
import type {
  ApprovalChannel,
  ApprovalDecision,
  HealthCheck,
  HealthVerifier,
  HolderCheckReader,
} from '#core/failover-ports.js';
import type { HolderReading } from '#core/holder.js';
import type { LeaseStore } from '#core/ports.js';
import { systemClock } from '#core/ports.js';
import { HOLDER_CHECK_PATH, serveHolderCheck } from '#guard/holder-check.js';
import { LeaseGuard } from '#guard/lease-guard.js';
import { partPorts } from '#steps/aws-deps.js';
import type { StepDeps } from '#steps/core/deps.js';

/**
 * Step dependencies for running the state machines locally in tests: the stores on DynamoDB Local, the
 * AWS adapters over aws-sdk-client-mock'ed clients. Every call that matters for ordering goes to one log.
 */
/**
 * One answer of the new primary's health endpoint to Verify: healthy (200), unhealthy (503), an error the
 * check throws, or a verifier that answers itself (the real HttpHealthVerifier against a silent socket).
 */
export type HealthAnswer = 'healthy' | 'unhealthy' | Error | HealthVerifier;

export interface Harness {
  deps: StepDeps;
  log: string[];
  route53: AwsClientStub<Route53Client>;
  rds: AwsClientStub<RDSClient>;
  cloudWatch: AwsClientStub<CloudWatchClient>;
  eventBridge: AwsClientStub<EventBridgeClient>;
  published: { detailType: string; detail: Record<string, unknown> }[];
  notifications: string[];
  /** The RDS instance state the mock reports; PromoteReadReplica flips it after `promoteAfterPolls` describes. */
  db: { promoted: boolean; describesAfterPromote: number; promoteAfterPolls: number; failPromote?: Error };
  lagSeconds: { value: number | null };
  /** The time of the lag datapoint, epoch ms; null (the default) means the time of the read. */
  lagAt: { value: number | null };
  setApproval(
    answer: (req: Parameters<ApprovalChannel['requestApproval']>[0]) => Promise<ApprovalDecision>,
  ): void;
  /** The answers to Verify's checks, in order; the last one repeats. Healthy until a test says otherwise. */
  setHealth(...answers: [HealthAnswer, ...HealthAnswer[]]): void;
  /**
   * Each application region's holder check: a real HTTP server answering `/cutover/holder` from a real
   * LeaseGuard over the lease on DynamoDB Local (re-read on every request). `reads` lists every reading the
   * steps took, in order; `override` makes a region's server answer something else (a guard that has not
   * re-read yet, a forged 200) for as long as it returns a status.
   */
  holder: {
    reads: HolderReading[];
    override: Record<string, (() => 200 | 503 | null) | undefined>;
  };
  restore(): void;
}

export function record(region: string, setIdentifier: string, weight: number): ResourceRecordSet {
  return {
    Name: 'orders.example.com.',
    Type: 'CNAME',
    SetIdentifier: setIdentifier,
    Weight: weight,
    TTL: 60,
    ResourceRecords: [{ Value: `orders-${region}.example.com` }],
  };
}

export function makeHarness(
  doc: DynamoDBDocumentClient,
  control: string,
  votes: string,
  config: CutoverConfig,
): Harness {
  const log: string[] = [];
  const published: Harness['published'] = [];
  const notifications: string[] = [];
  const db: Harness['db'] = { promoted: false, describesAfterPromote: 0, promoteAfterPolls: 1 };
  const lagSeconds = { value: 1 as number | null };
  const lagAt = { value: null as number | null };

  const route53 = mockClient(Route53Client);
  const weights: Record<string, number> = { 'orders-us-east-1': 100, 'orders-us-west-2': 0 };
  route53.on(ListResourceRecordSetsCommand).callsFake(() => ({
    ResourceRecordSets: [
      record('us-east-1', 'orders-us-east-1', weights['orders-us-east-1']!),
      record('us-west-2', 'orders-us-west-2', weights['orders-us-west-2']!),
    ],
    IsTruncated: false,
    MaxItems: 100,
  }));
  let changes = 0;
  route53.on(ChangeResourceRecordSetsCommand).callsFake((input) => {
    const w = (input.ChangeBatch?.Changes ?? []).map(
      (c: { ResourceRecordSet: ResourceRecordSet }) =>
        `${c.ResourceRecordSet.SetIdentifier}=${c.ResourceRecordSet.Weight}`,
    );
    for (const c of input.ChangeBatch?.Changes ?? []) {
      weights[c.ResourceRecordSet.SetIdentifier] = c.ResourceRecordSet.Weight;
    }
    log.push(`Route53.ChangeResourceRecordSets ${w.join(' ')}`);
    changes += 1;
    return { ChangeInfo: { Id: `/change/C${changes}`, Status: 'PENDING', SubmittedAt: new Date() } };
  });
  const polled = new Map<string, number>();
  route53.on(GetChangeCommand).callsFake((input) => {
    const n = (polled.get(input.Id) ?? 0) + 1;
    polled.set(input.Id, n);
    return { ChangeInfo: { Id: input.Id, Status: n >= 2 ? 'INSYNC' : 'PENDING', SubmittedAt: new Date() } };
  });

  const rds = mockClient(RDSClient);
  rds.on(DescribeDBInstancesCommand).callsFake((input): DescribeDBInstancesCommandOutput => {
    const id = input.DBInstanceIdentifier as string;
    log.push(`RDS.DescribeDBInstances ${id}`);
    if (db.promoted) db.describesAfterPromote += 1;
    const writable = db.promoted && db.describesAfterPromote >= db.promoteAfterPolls;
    return {
      $metadata: {},
      DBInstances: [
        writable
          ? { DBInstanceIdentifier: id, DBInstanceStatus: 'available' }
          : {
              DBInstanceIdentifier: id,
              DBInstanceStatus: db.promoted ? 'modifying' : 'available',
              ReadReplicaSourceDBInstanceIdentifier: 'arn:aws:rds:us-east-1:123456789012:db:orders-db-use1',
            },
      ],
    };
  });
  rds.on(PromoteReadReplicaCommand).callsFake((input) => {
    log.push(`RDS.PromoteReadReplica ${input.DBInstanceIdentifier}`);
    if (db.failPromote) throw db.failPromote;
    db.promoted = true;
    return {
      DBInstance: { DBInstanceIdentifier: input.DBInstanceIdentifier, DBInstanceStatus: 'modifying' },
    };
  });

  const cloudWatch = mockClient(CloudWatchClient);
  cloudWatch.on(GetMetricDataCommand).callsFake(() => {
    log.push(`CloudWatch.GetMetricData ${lagSeconds.value}`);
    return {
      MetricDataResults: [
        {
          Id: 'lag',
          Values: lagSeconds.value === null ? [] : [lagSeconds.value],
          // Measured now on the steps' clock (a test may move it), unless the test says when.
          Timestamps: [new Date(lagAt.value ?? deps.clock.now())],
        },
      ],
    };
  });

  const eventBridge = mockClient(EventBridgeClient);
  eventBridge.on(PutEventsCommand).callsFake((input) => {
    for (const e of input.Entries ?? []) {
      log.push(`EventBridge.PutEvents ${e.DetailType}`);
      published.push({ detailType: e.DetailType as string, detail: JSON.parse(e.Detail as string) });
    }
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
  });

  const realLeases = new DynamoLeaseStore(doc, control, config.lease, systemClock);
  // Logs every lease change, so that tests can check what came before what.
  const leases: LeaseStore = {
    read: (app) => realLeases.read(app),
    acquire: async (app, region, e) => {
      const r = await realLeases.acquire(app, region, e);
      log.push(`lease.acquire ${region} ${r.ok ? `epoch ${r.lease.epoch}` : r.code}`);
      return r;
    },
    renew: (app, region, e) => realLeases.renew(app, region, e),
    revoke: async (app, e) => {
      const r = await realLeases.revoke(app, e);
      log.push(`lease.revoke ${r.ok ? `epoch ${r.lease.epoch}` : r.code}`);
      return r;
    },
    grant: async (app, region, e) => {
      const r = await realLeases.grant(app, region, e);
      log.push(`lease.grant ${region} ${r.ok ? `epoch ${r.lease.epoch}` : r.code}`);
      return r;
    },
  };

  let answer: (req: Parameters<ApprovalChannel['requestApproval']>[0]) => Promise<ApprovalDecision> =
    async () => {
      throw new Error('no approval expected in this test');
    };
  let answers: HealthAnswer[] = ['healthy'];
  let checks = 0;
  const health: HealthVerifier = {
    check: async (url): Promise<HealthCheck> => {
      log.push(`health ${url}`);
      const a = answers[Math.min(checks, answers.length - 1)]!;
      checks += 1;
      if (a === 'healthy') return { healthy: true, detail: 'ok 200' };
      if (a === 'unhealthy') return { healthy: false, detail: 'status 503' };
      if (a instanceof Error) throw a;
      return a.check(url);
    },
  };
  const holder = holderChecks(leases, config, [config.primary.region, config.standby.region]);
  const deps: StepDeps = {
    config,
    clock: systemClock,
    leases,
    control: new DynamoControlStore(doc, control),
    votes: new DynamoVoteStore(doc, votes, config.watchers),
    events: new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-2' }), 'cutover-bus'),
    // The parts chosen exactly as on AWS: a configuration without traffic or database gets their no-op ports.
    ...partPorts(
      config,
      {
        route53: new Route53Client({ region: 'us-east-1' }),
        rdsFor: (region) => new RDSClient({ region }),
        cloudWatchFor: (region) => new CloudWatchClient({ region }),
        holderReader: holder.reader,
      },
      systemClock,
    ),
    health,
    notifier: {
      notify: async (message) => {
        notifications.push(message);
      },
    },
    approval: {
      requestApproval: (req) => {
        log.push(`approval ${req.kind}`);
        return answer(req);
      },
    },
  };
  return {
    deps,
    log,
    route53,
    rds,
    cloudWatch,
    eventBridge,
    published,
    notifications,
    db,
    lagSeconds,
    lagAt,
    setApproval: (fn) => {
      answer = fn;
    },
    setHealth: (...a) => {
      answers = a;
      checks = 0;
    },
    holder: { reads: holder.reads, override: holder.override },
    restore: () => {
      holder.close();
      route53.restore();
      rds.restore();
      cloudWatch.restore();
      eventBridge.restore();
    },
  };
}

/** The application's holder checks in both regions, served over HTTP from each region's own LeaseGuard. */
function holderChecks(leases: LeaseStore, config: CutoverConfig, regions: string[]) {
  const reads: HolderReading[] = [];
  const override: Harness['holder']['override'] = {};
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  const ready = Promise.all(
    regions.map(async (region) => {
      const guard = new LeaseGuard({
        store: leases,
        application: config.application,
        region,
        timing: config.lease,
      });
      const serve = serveHolderCheck(guard, region);
      const server = createServer((req, res) => {
        const forced = override[region]?.();
        if (forced !== undefined && forced !== null) {
          res.writeHead(forced, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              region,
              holding: forced === 200,
              holder: forced === 200 ? region : null,
              epoch: null,
            }),
          );
          return;
        }
        guard.refresh().then(() => {
          if (!serve(req, res)) res.writeHead(404).end();
        });
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      urls[region] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOLDER_CHECK_PATH}`;
    }),
  );
  const http = new HttpHolderCheckReader(urls, 2_000);
  const reader: HolderCheckReader = {
    read: async (region) => {
      await ready;
      const r = await http.read(region);
      reads.push(r);
      return r;
    },
  };
  const close = () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  };
  return { reader, reads, override, close };
}

/** The position of the first log line that starts with prefix; fails loudly when there is none. */
export function at(log: string[], prefix: string): number {
  const i = log.findIndex((l) => l.startsWith(prefix));
  if (i < 0) throw new Error(`no "${prefix}" in:\n${log.join('\n')}`);
  return i;
}

/**
 * A primary that stopped renewing its lease two minutes ago (so the fence's wait is already over), and its
 * incident created exactly as the aggregator creates it, from events/failover-requested.sample.json with
 * `overrides` applied. Returns the request as sent (with the new incident id) and the stored incident.
 */
export async function seedStalledPrimary(
  t: { doc: DynamoDBDocumentClient; names: { control: string } },
  config: CutoverConfig,
  overrides: Record<string, unknown> = {},
) {
  const past = new DynamoLeaseStore(t.doc, t.names.control, config.lease, {
    now: () => Date.now() - 120_000,
  });
  const held = await past.acquire('orders', 'us-east-1', null);
  if (!held.ok) throw new Error('could not seed the lease');
  const now = Date.now();
  const sample = JSON.parse(
    readFileSync(new URL('../../events/failover-requested.sample.json', import.meta.url), 'utf8'),
  );
  const request = { ...sample, detectedAt: now - 31_000, requestedAt: now - 1_000, ...overrides };
  const control = new DynamoControlStore(t.doc, t.names.control);
  const { incidentId: _i, attempt: _a, ...req } = request;
  const created = await control.requestIncident(req, now);
  if (!created.created) throw new Error('could not seed the incident');
  return { control, request: { ...request, incidentId: created.incident.id }, incident: created.incident };
}
