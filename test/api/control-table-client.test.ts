import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { vote } from '../support/fixtures.js';

// Arbiter mode: the control table lives in us-east-2 only; this function runs in eu-central-1.
const LOCAL = 'eu-central-1';
const CONTROL_REGION = 'us-east-2';
const CONTROL_TABLE = 'cutover-payments-control';
const VOTES_TABLE = 'cutover-payments-votes';
const WATCHERS = ['eu-west-1', 'ap-southeast-2', 'ca-central-1', 'sa-east-1', 'ap-northeast-1'];
/** The votes about one target: one key per configured watcher, read consistently in one BatchGetItem. */
const votesRead = (target: string) => ({
  RequestItems: {
    [VOTES_TABLE]: {
      Keys: WATCHERS.map((w) => ({ pk: `payments#${target}#${w}`, sk: w })),
      ConsistentRead: true,
    },
  },
});
const tableOf = (input: { TableName?: string; RequestItems?: Record<string, unknown> }) =>
  input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? '(none)';

const ddb = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);

beforeEach(() => {
  vi.resetModules();
  vi.stubEnv('AWS_REGION', LOCAL);
  vi.stubEnv('LEASE_TABLE_REGION', CONTROL_REGION);
  vi.stubEnv('CONTROL_TABLE', CONTROL_TABLE);
  vi.stubEnv('VOTES_TABLE', VOTES_TABLE);
  vi.stubEnv('EVENT_BUS_NAME', 'cutover-payments');
  vi.stubEnv(
    'CUTOVER_CONFIG',
    readFileSync(new URL('../../examples/cutover.arbiter.json', import.meta.url), 'utf8'),
  );
});
afterEach(() => {
  ddb.reset();
  eventBridge.reset();
});
afterAll(() => {
  ddb.restore();
  eventBridge.restore();
  vi.unstubAllEnvs();
});

/** The region of the client that sent each command, by table: read from the client's resolved config. */
async function regionsByTable(): Promise<Record<string, string[]>> {
  const out: Record<string, Set<string>> = {};
  for (const call of ddb.calls()) {
    const table = tableOf(call.args[0].input as Parameters<typeof tableOf>[0]);
    const client = call.thisValue as DynamoDBDocumentClient;
    out[table] = (out[table] ?? new Set()).add(await client.config.region());
  }
  return Object.fromEntries(Object.entries(out).map(([table, regions]) => [table, [...regions]]));
}

describe('the control-table client', () => {
  it('is built for LEASE_TABLE_REGION, once, while the votes client stays in the local region', async () => {
    const clients = await import('#commons/clients.js');
    expect(await clients.controlTableClient.config.region()).toBe(CONTROL_REGION);
    expect(await clients.documentClient.config.region()).toBe(LOCAL);
    const again = await import('#commons/clients.js');
    expect(again.controlTableClient).toBe(clients.controlTableClient);
  });

  it('is the local client when LEASE_TABLE_REGION is not set', async () => {
    const clients = await import('#commons/clients.js');
    expect(clients.controlTableDocumentClient({ AWS_REGION: LOCAL })).toBe(clients.documentClient);
  });

  it('serves the step functions’ lease and control stores; their votes store reads locally', async () => {
    ddb
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'lease' } })
      .resolves({
        Item: { pk: 'payments', sk: 'lease', holder: 'us-east-1', epoch: 4, expiresAt: 9, updatedAt: 1 },
      })
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'pause' } })
      .resolves({
        Item: { pk: 'payments', sk: 'pause', pausedBy: 'alice', pausedAt: 1, reason: 'maintenance' },
      })
      .on(BatchGetCommand, votesRead('us-east-1'))
      .resolves({ Responses: { [VOTES_TABLE]: [] } });
    const { awsStepDeps } = await import('#steps/aws-deps.js');
    const deps = awsStepDeps();
    expect(await deps.leases.read('payments')).toMatchObject({ holder: 'us-east-1', epoch: 4 });
    expect(await deps.control.getPause('payments')).toEqual({
      pausedBy: 'alice',
      pausedAt: 1,
      reason: 'maintenance',
    });
    expect(await deps.votes.list('payments', 'us-east-1')).toEqual([]);
    expect(ddb.calls().map((c) => c.args[0].input)).toEqual([
      { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'lease' }, ConsistentRead: true },
      { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'pause' }, ConsistentRead: true },
      votesRead('us-east-1'),
    ]);
    expect(await regionsByTable()).toEqual({ [CONTROL_TABLE]: [CONTROL_REGION], [VOTES_TABLE]: [LOCAL] });
  });

  it('serves the aggregator’s lease and control reads and writes; its votes reads stay local', async () => {
    const now = Date.now();
    const item = {
      pk: 'payments#us-east-1#eu-west-1',
      sk: 'eu-west-1',
      ...vote({ voter: 'eu-west-1', target: 'us-east-1', application: 'payments' }, now),
    };
    // Only the commands that the aggregator is expected to send are answered: any other one fails the batch.
    ddb
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'lease' } })
      .resolves({})
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'pause' } })
      .resolves({})
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'rebuild#us-west-2' } })
      .resolves({})
      .on(GetCommand, { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'verdict' } })
      .resolves({})
      .on(QueryCommand, { TableName: CONTROL_TABLE })
      .resolves({ Items: [] })
      .on(BatchGetCommand, votesRead('us-east-1'))
      .resolves({ Responses: { [VOTES_TABLE]: [] } })
      .on(BatchGetCommand, votesRead('us-west-2'))
      .resolves({ Responses: { [VOTES_TABLE]: [] } })
      .on(PutCommand, { TableName: CONTROL_TABLE, Item: { pk: 'payments', sk: 'verdict' } })
      .resolves({});
    const { handler } = await import('../../functions/aggregator.js');
    const event = {
      Records: [
        { eventID: '1', eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: marshall(item) } },
      ],
    } as unknown as DynamoDBStreamEvent;
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    expect(await handler(event, {} as never)).toEqual({ batchItemFailures: [] });

    const controlReads = ddb
      .calls()
      .map((c) => c.args[0])
      .filter((command) => !(command instanceof PutCommand))
      .map((command) => command.input as { TableName?: string })
      .filter((input) => tableOf(input) === CONTROL_TABLE);
    const sorted = (inputs: object[]) => inputs.map((i) => JSON.stringify(i)).sort();
    // No incident, and no fresh votes in the table: the aggregator reads, and only records the new verdict.
    expect(sorted(controlReads)).toEqual(
      sorted([
        { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'lease' }, ConsistentRead: true },
        { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'pause' }, ConsistentRead: true },
        // The standby's rebuild mark: a target a failover left is never promoted automatically.
        { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'rebuild#us-west-2' }, ConsistentRead: true },
        // The stored verdict: a verdict is written only when it changes (one write fewer per batch).
        { TableName: CONTROL_TABLE, Key: { pk: 'payments', sk: 'verdict' }, ConsistentRead: true },
        {
          TableName: CONTROL_TABLE,
          ConsistentRead: true,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': 'payments',
            ':from': 'incident#000000000000',
            ':to': 'incident#000000000000',
          },
          ScanIndexForward: false,
        },
        {
          TableName: CONTROL_TABLE,
          ConsistentRead: true,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': 'payments', ':prefix': 'incident#' },
          ScanIndexForward: false,
          Limit: 20,
        },
      ]),
    );
    const verdict = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(verdict).toEqual({
      TableName: CONTROL_TABLE,
      Item: {
        pk: 'payments',
        sk: 'verdict',
        kind: 'suspect',
        code: 'NO_FRESH_VOTES',
        since: expect.any(Number),
      },
      // One author per transition across regions: only a change of kind is written.
      ConditionExpression: 'attribute_not_exists(pk) OR kind <> :kind',
      ExpressionAttributeValues: { ':kind': 'suspect' },
      ReturnValues: 'ALL_OLD',
    });
    expect(verdict?.Item?.since).toBeGreaterThanOrEqual(now);
    expect(ddb.commandCalls(UpdateCommand)).toEqual([]);
    expect(await regionsByTable()).toEqual({ [CONTROL_TABLE]: [CONTROL_REGION], [VOTES_TABLE]: [LOCAL] });
  });
});
