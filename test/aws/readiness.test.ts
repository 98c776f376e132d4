import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  IAMClient,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { loadConfig } from '#core/config.js';
import { systemClock } from '#core/ports.js';
import type { Readiness } from '#core/readiness.js';
import { readinessCommand } from '../../bin/readiness-command.js';
import { createTables } from '../../infra/local/tables.js';
import { expectedDefinition, resolvedPlan } from '../../infra/readiness-plan.js';
import { topology } from '../../infra/topology.js';
import { exampleConfigJson } from '../support/fixtures.js';
import { motoClient, motoQuery, unique } from '../support/moto-clients.js';

/**
 * `cutover readiness` end to end on moto_server: the step functions and their role (Lambda, IAM), the standby
 * replica (RDS) and its ReplicaLag (CloudWatch), the lease on the control table (DynamoDB), the deployed machines
 * (Step Functions); the holder checks and Slack's Web API are local HTTP servers answering as they do. moto does
 * not serve IAM's SimulatePrincipalPolicy: that one client is aws-sdk-client-mock, and its exact commands are
 * asserted.
 */

const E1 = 'us-east-1';
const W2 = 'us-west-2';
const ACCOUNT = '123456789012';

interface Holder {
  status: number;
}

function holderServer(region: string, state: Holder): Promise<Server> {
  const server = createServer((req, res) => {
    const holding = state.status === 200;
    res.writeHead(req.url === '/cutover/holder' ? state.status : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ holding, holder: holding ? region : E1, epoch: 1 }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** Answers Slack's auth.test and conversations.info as the Web API does (https://api.slack.com/methods). */
function slackServer(token: string): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${token}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    if (!ok) return res.end(JSON.stringify({ ok: false, error: 'invalid_auth' }));
    if (req.url?.startsWith('/api/auth.test')) {
      return res.end(
        JSON.stringify({ ok: true, team: 'Acme', user: 'cutover', team_id: 'T1', user_id: 'U1' }),
      );
    }
    if (req.url?.startsWith('/api/conversations.info')) {
      return res.end(
        JSON.stringify({ ok: true, channel: { id: 'C0123456789', name: 'failover', is_member: true } }),
      );
    }
    res.end(JSON.stringify({ ok: false, error: 'unknown_method' }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const url = (s: Server, path: string) => `http://127.0.0.1:${(s.address() as AddressInfo).port}${path}`;

let servers: Server[] = [];
const saved = { ...process.env };

afterAll(() => {
  for (const s of servers) s.close();
  process.env = saved;
});

describe('cutover readiness on moto', () => {
  const application = unique('rd').replace('-', '');
  const primary: Holder = { status: 200 };
  const standby: Holder = { status: 503 };
  let file: string;
  let slackApiUrl: string;
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    const [p, s, slack] = await Promise.all([
      holderServer(E1, primary),
      holderServer(W2, standby),
      slackServer('xoxb-test'),
    ]);
    servers = [p, s, slack];
    slackApiUrl = url(slack, '/api/');
    // Every AWS client the command makes goes to moto (the SDK's AWS_ENDPOINT_URL), with moto's dummy credentials.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: inject('motoEndpoint'),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_MAX_ATTEMPTS: '1',
    });

    // The standby: a cross-region read replica of the primary, 2 s behind.
    const source = unique('src');
    const replica = unique('rep');
    const created = await motoClient(RDSClient, E1).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: source,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'cutover',
        MasterUserPassword: 'not-a-secret',
      }),
    );
    await motoClient(RDSClient, W2).send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: replica,
        SourceDBInstanceIdentifier: created.DBInstance!.DBInstanceArn,
      }),
    );
    await motoClient(CloudWatchClient, W2).send(
      new PutMetricDataCommand({
        Namespace: 'AWS/RDS',
        MetricData: [
          {
            MetricName: 'ReplicaLag',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: replica }],
            Timestamp: new Date(Date.now() - 30_000),
            Value: 2,
          },
        ],
      }),
    );

    // biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited before validation
    const raw = exampleConfigJson() as Record<string, any>;
    raw.application = application;
    raw.primary.healthUrl = url(p, '/health');
    raw.primary.databaseId = source;
    raw.standby.healthUrl = url(s, '/health');
    raw.standby.databaseId = replica;
    config = loadConfig(raw);
    const dir = mkdtempSync(join(tmpdir(), 'ladder-readiness-'));
    file = join(dir, 'cutover.json');
    writeFileSync(file, JSON.stringify(raw));

    // The control table, with the primary's lease taken now (its keeper would renew it).
    const names = topology(config).names;
    const home = topology(config).control.home;
    const ddb = motoClient(DynamoDBClient, home);
    await createTables(ddb, { votes: names.votesTable, control: names.controlTable });
    const leases = new DynamoLeaseStore(
      DynamoDBDocumentClient.from(ddb),
      names.controlTable,
      config.lease,
      systemClock,
    );
    expect((await leases.acquire(application, E1, null)).ok).toBe(true);

    // The step functions with their role, and the machines: failover as this configuration builds it.
    const region = config.controlRegions[0]!;
    const role = unique('step-role');
    await motoQuery('iam', E1, {
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: role,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    const lambda = motoClient(LambdaClient, region);
    for (const plan of resolvedPlan(config, { account: ACCOUNT, partition: 'aws', region })) {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: plan.functionName,
          Runtime: 'nodejs22.x',
          Role: `arn:aws:iam::${ACCOUNT}:role/${role}`,
          Handler: 'index.handler',
          Code: { ZipFile: new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]) },
        }),
      );
    }
    const where = { account: ACCOUNT, partition: 'aws', region };
    const sfn = motoClient(SFNClient, region);
    const machineRole = `arn:aws:iam::${ACCOUNT}:role/${role}`;
    await sfn.send(
      new CreateStateMachineCommand({
        name: names.stateMachine('failover'),
        roleArn: machineRole,
        definition: expectedDefinition(config, 'failover', where),
      }),
    );
    // The failback machine as an older deployment left it: one state's timeout differs.
    const failback = JSON.parse(expectedDefinition(config, 'failback', where));
    const first = Object.keys(failback.States)[0]!;
    failback.States[first].TimeoutSeconds = 7;
    await sfn.send(
      new CreateStateMachineCommand({
        name: names.stateMachine('failback'),
        roleArn: machineRole,
        definition: JSON.stringify(failback),
      }),
    );
  });

  function simulator(denied: Set<string>) {
    const iam = mockClient(IAMClient);
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input: SimulatePrincipalPolicyCommandInput) => ({
      EvaluationResults: input.ActionNames!.map((action) => ({
        EvalActionName: action,
        EvalResourceName: input.ResourceArns![0],
        EvalDecision: denied.has(action) ? 'implicitDeny' : 'allowed',
        ResourceSpecificResults: input.ResourceArns!.map((r) => ({
          EvalResourceName: r,
          EvalResourceDecision: denied.has(action) ? 'implicitDeny' : 'allowed',
        })),
      })),
    }));
    return iam;
  }

  async function run(denied: Set<string>, extra: string[] = []) {
    const iam = simulator(denied);
    const out: string[] = [];
    const err: string[] = [];
    const code = await readinessCommand(['--config', file, '--json', '--lease-wait-ms', '0', ...extra], {
      io: { out: (s) => out.push(s), err: (s) => err.push(s) },
      env: { SLACK_BOT_TOKEN: 'xoxb-test' },
      slackApiUrl,
      iam: new IAMClient({ region: E1 }),
    });
    iam.restore();
    return {
      code,
      iam,
      err: err.join(''),
      result: out.length ? (JSON.parse(out.join('')) as Readiness) : null,
    };
  }

  it('reads everything, changes nothing, and fails on a denied action and a drifted machine', async () => {
    const { code, result, err, iam } = await run(new Set(['rds:PromoteReadReplica']));
    expect(err).toBe('');
    expect(code).toBe(1);
    const by = Object.fromEntries(result!.results.map((r) => [r.check, r]));
    expect(by['permissions:promote']).toMatchObject({ pass: false, code: 'PERMISSION_DENIED' });
    expect(by['permissions:promote']!.reason).toContain(
      'rds:PromoteReadReplica on arn:aws:rds:us-east-1:123456789012:db:',
    );
    expect(by['permissions:stop-traffic']).toMatchObject({ pass: true, code: 'PERMISSIONS_OK' });
    expect(by['database:replica']).toMatchObject({ pass: true, code: 'STANDBY_IS_REPLICA' });
    expect(by['database:lag']).toMatchObject({ pass: true, code: 'LAG_WITHIN_BUDGET' });
    expect(by['database:lag']!.reason).toBe('replication lag 2000 ms is within the RPO budget of 5000 ms');
    expect(by['lease:renewed']).toMatchObject({ pass: true, code: 'LEASE_RENEWED' });
    expect(by[`holder-check:${E1}`]).toMatchObject({ pass: true, code: 'HOLDER_CHECK_OK' });
    expect(by[`holder-check:${W2}`]).toMatchObject({ pass: true, code: 'HOLDER_CHECK_OK' });
    expect(by.slack).toMatchObject({ pass: true, code: 'SLACK_OK' });
    expect(by['state-machine:failover']).toMatchObject({ pass: true, code: 'MACHINE_MATCHES' });
    expect(by['state-machine:failback']).toMatchObject({ pass: false, code: 'MACHINE_DRIFT' });
    expect(result!.failed).toBe(2);

    // Exactly one simulation per needed statement, on the step's own role, with the Route 53 condition values.
    const calls = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    const plan = resolvedPlan(config, {
      account: ACCOUNT,
      partition: 'aws',
      region: config.controlRegions[0]!,
    });
    expect(calls).toHaveLength(plan.flatMap((p) => p.statements).length);
    for (const c of calls) expect(c.PolicySourceArn).toMatch(/^arn:aws:iam::123456789012:role\/step-role-/);
    const change = calls.find((c) => c.ActionNames?.[0] === 'route53:ChangeResourceRecordSets');
    expect(change).toMatchObject({
      ResourceArns: ['arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ'],
      ContextEntries: expect.arrayContaining([
        {
          ContextKeyName: 'route53:ChangeResourceRecordSetsNormalizedRecordNames',
          ContextKeyValues: ['orders.example.com'],
          ContextKeyType: 'stringList',
        },
      ]),
    });
  });

  it("fails the standby's holder check when it answers 200 while the primary holds the lease", async () => {
    standby.status = 200;
    const both = await run(new Set());
    expect(both.result!.results.find((r) => r.check === `holder-check:${W2}`)).toMatchObject({
      pass: false,
      code: 'HOLDER_CHECK_UNEXPECTED',
    });
    standby.status = 503;
  });

  it('refuses a machine region that is not a control region, reading nothing', async () => {
    const { code, err, result } = await run(new Set(), ['--machine-region', 'eu-west-1']);
    expect(code).toBe(2);
    expect(result).toBeNull();
    expect(err).toContain(
      '--machine-region must be a control region (us-east-2, eu-central-1), got "eu-west-1"',
    );
  });
});
