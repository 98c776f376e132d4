import { createServer } from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import type { Incident } from '#core/incident.js';
import type { ControlStore, IncidentRequest } from '#core/ports.js';

const TABLE = 'cutover-orders-control';
const ARN = 'arn:aws:states:us-east-2:000000000000:execution:cutover-failover:a';
const KEY = { pk: 'orders', sk: 'incident#000000000003' };

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-2' }));
const ddb = mockClient(doc);
const store = new DynamoControlStore(doc, TABLE);
afterEach(() => ddb.reset());

const REQUEST: IncidentRequest = {
  application: 'orders',
  kind: 'failover',
  epoch: 3,
  from: 'us-east-1',
  to: 'us-west-2',
  verdictKind: 'failover',
  verdictCode: 'QUORUM_UNHEALTHY',
  reason: 'down',
  evidence: {},
  needsApproval: false,
  requestedAt: 100,
  requestedBy: 'us-east-2',
};
const SEEN: Incident = {
  ...REQUEST,
  id: 'orders:3:1',
  attempt: 1,
  status: 'running',
  executionArn: ARN,
  progressAt: 150,
};

type Command =
  | typeof GetCommand
  | typeof PutCommand
  | typeof UpdateCommand
  | typeof QueryCommand
  | typeof DeleteCommand;

/** Every method of the control store, with the one command it sends first, exactly. */
const METHODS: {
  name: string;
  part: string;
  call: (s: ControlStore) => Promise<unknown>;
  command: Command;
  input: object;
}[] = [
  {
    name: 'requestIncident',
    part: 'incidents',
    call: (s) => s.requestIncident(REQUEST, 100),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET attempt = if_not_exists(attempt, :zero) + :one, #application = :application, #kind = :kind, #epoch = :epoch, ' +
        '#from = :from, #to = :to, #verdictKind = :verdictKind, #verdictCode = :verdictCode, #reason = :reason, ' +
        '#evidence = :evidence, #needsApproval = :needsApproval, #requestedAt = :requestedAt, #requestedBy = :requestedBy, ' +
        '#status = :status REMOVE #executionArn, #claimedAt, #closedAt, #closeReason, #reopenAfter, #publishedAt, ' +
        '#progressAt, #progressStep, #quietUntil, #takenOverFrom, #takenOverAt, #takeovers',
      ConditionExpression:
        'attribute_not_exists(pk) OR (#status IN (:aborted, :failed) AND (attribute_not_exists(#reopenAfter) OR #reopenAfter <= :now))',
      ExpressionAttributeNames: Object.fromEntries(
        [
          'status',
          'reopenAfter',
          'application',
          'kind',
          'epoch',
          'from',
          'to',
          'verdictKind',
          'verdictCode',
          'reason',
          'evidence',
          'needsApproval',
          'requestedAt',
          'requestedBy',
          'executionArn',
          'claimedAt',
          'closedAt',
          'closeReason',
          'publishedAt',
          'progressAt',
          'progressStep',
          'quietUntil',
          'takenOverFrom',
          'takenOverAt',
          'takeovers',
        ].map((k) => [`#${k}`, k]),
      ),
      ExpressionAttributeValues: {
        ':one': 1,
        ':zero': 0,
        ':aborted': 'aborted',
        ':failed': 'failed',
        ':now': 100,
        ...Object.fromEntries(Object.entries(REQUEST).map(([k, v]) => [`:${k}`, v])),
        ':status': 'requested',
      },
      ReturnValues: 'ALL_NEW',
    },
  },
  {
    name: 'getIncident',
    part: 'incidents',
    call: (s) => s.getIncident('orders:3:1'),
    command: GetCommand,
    input: { TableName: TABLE, Key: KEY, ConsistentRead: true },
  },
  {
    name: 'claimIncident',
    part: 'incidents',
    call: (s) => s.claimIncident('orders:3:1', ARN, 200),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET #status = :running, executionArn = :arn, claimedAt = :now, progressAt = :now, progressStep = :claim REMOVE quietUntil',
      ConditionExpression:
        '#status = :requested AND attempt = :attempt AND attribute_not_exists(executionArn)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':requested': 'requested',
        ':arn': ARN,
        ':now': 200,
        ':attempt': 1,
        ':claim': 'claim',
      },
      ReturnValues: 'ALL_NEW',
    },
  },
  {
    name: 'recordProgress',
    part: 'incidents',
    call: (s) => s.recordProgress('orders:3:1', ARN, { at: 300, step: 'fence', quietUntil: 400 }),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET progressAt = :at, progressStep = :step, quietUntil = :quiet',
      ConditionExpression: 'attempt = :attempt AND executionArn = :arn',
      ExpressionAttributeValues: { ':at': 300, ':step': 'fence', ':attempt': 1, ':arn': ARN, ':quiet': 400 },
    },
  },
  {
    name: 'openIncident',
    part: 'incidents',
    call: (s) => s.openIncident('orders', -1, 3),
    command: QueryCommand,
    input: {
      TableName: TABLE,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': 'orders',
        ':from': 'incident#000000000000',
        ':to': 'incident#000000000003',
      },
      ScanIndexForward: false,
    },
  },
  {
    name: 'takeOverIncident',
    part: 'incidents',
    call: (s) => s.takeOverIncident(SEEN, 'eu-central-1', 500),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET #status = :requested, requestedBy = :by, takenOverFrom = :from, takenOverAt = :now, progressAt = :now, ' +
        'takeovers = if_not_exists(takeovers, :zero) + :one REMOVE executionArn, claimedAt, publishedAt, progressStep, quietUntil',
      ConditionExpression:
        '#status = :seenStatus AND attempt = :attempt AND executionArn = :seen_executionArn AND requestedBy = :seen_requestedBy ' +
        'AND progressAt = :seen_progressAt AND attribute_not_exists(takeovers)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':requested': 'requested',
        ':seenStatus': 'running',
        ':attempt': 1,
        ':by': 'eu-central-1',
        ':from': ARN,
        ':now': 500,
        ':zero': 0,
        ':one': 1,
        ':seen_executionArn': ARN,
        ':seen_requestedBy': 'us-east-2',
        ':seen_progressAt': 150,
      },
      ReturnValues: 'ALL_NEW',
    },
  },
  {
    name: 'closeIncident',
    part: 'incidents',
    call: (s) =>
      s.closeIncident({
        id: 'orders:3:1',
        status: 'failed',
        reason: 'r',
        now: 600,
        reopenAfter: 700,
        owner: { execution: ARN },
      }),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression:
        'SET #status = :status, closedAt = :now, closeReason = :reason, reopenAfter = :reopen',
      ConditionExpression:
        'attempt = :attempt AND #status IN (:requested, :running) AND executionArn = :owner',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': 'failed',
        ':now': 600,
        ':reason': 'r',
        ':attempt': 1,
        ':requested': 'requested',
        ':running': 'running',
        ':reopen': 700,
        ':owner': ARN,
      },
      ReturnValues: 'ALL_NEW',
    },
  },
  {
    name: 'lastCompletedFailover',
    part: 'incidents',
    call: (s) => s.lastCompletedFailover('orders'),
    command: QueryCommand,
    input: {
      TableName: TABLE,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'orders', ':prefix': 'incident#' },
      ScanIndexForward: false,
      Limit: 20,
    },
  },
  {
    name: 'lastClosedIncident',
    part: 'incidents',
    call: (s) => s.lastClosedIncident('orders', ['failed', 'aborted']),
    command: QueryCommand,
    input: {
      TableName: TABLE,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'orders', ':prefix': 'incident#' },
      ScanIndexForward: false,
      Limit: 20,
    },
  },
  {
    name: 'recordVerdict',
    part: 'verdicts',
    call: (s) => s.recordVerdict('orders', 'suspect', 'SOME_UNHEALTHY', 10),
    command: PutCommand,
    input: {
      TableName: TABLE,
      Item: { pk: 'orders', sk: 'verdict', kind: 'suspect', code: 'SOME_UNHEALTHY', since: 10 },
      ConditionExpression: 'attribute_not_exists(pk) OR kind <> :kind',
      ExpressionAttributeValues: { ':kind': 'suspect' },
      ReturnValues: 'ALL_OLD',
    },
  },
  {
    name: 'getVerdict',
    part: 'verdicts',
    call: (s) => s.getVerdict('orders'),
    command: GetCommand,
    input: { TableName: TABLE, Key: { pk: 'orders', sk: 'verdict' }, ConsistentRead: true },
  },
  {
    name: 'claimPublish',
    part: 'publication',
    call: (s) => s.claimPublish('orders:3:1', 20),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET publishedAt = :now',
      ConditionExpression:
        'attempt = :attempt AND #status = :requested AND attribute_not_exists(publishedAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': 20, ':attempt': 1, ':requested': 'requested' },
    },
  },
  {
    name: 'releasePublish',
    part: 'publication',
    call: (s) => s.releasePublish('orders:3:1', 20),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'REMOVE publishedAt',
      ConditionExpression: 'attempt = :attempt AND publishedAt = :at',
      ExpressionAttributeValues: { ':attempt': 1, ':at': 20 },
    },
  },
  {
    name: 'markPublished',
    part: 'publication',
    call: (s) => s.markPublished('orders:3:1', 30),
    command: UpdateCommand,
    input: {
      TableName: TABLE,
      Key: KEY,
      UpdateExpression: 'SET publishedAt = :now',
      ConditionExpression: 'attempt = :attempt',
      ExpressionAttributeValues: { ':now': 30, ':attempt': 1 },
    },
  },
  {
    name: 'getPause',
    part: 'pause',
    call: (s) => s.getPause('orders'),
    command: GetCommand,
    input: { TableName: TABLE, Key: { pk: 'orders', sk: 'pause' }, ConsistentRead: true },
  },
  {
    name: 'setPause',
    part: 'pause',
    call: (s) => s.setPause('orders', { pausedBy: 'alice', pausedAt: 1, reason: 'maintenance' }),
    command: PutCommand,
    input: {
      TableName: TABLE,
      Item: { pk: 'orders', sk: 'pause', pausedBy: 'alice', pausedAt: 1, reason: 'maintenance' },
    },
  },
  {
    name: 'clearPause',
    part: 'pause',
    call: (s) => s.clearPause('orders'),
    command: DeleteCommand,
    input: { TableName: TABLE, Key: { pk: 'orders', sk: 'pause' } },
  },
  {
    name: 'getRebuild',
    part: 'rebuilds',
    call: (s) => s.getRebuild('orders', 'us-east-1'),
    command: GetCommand,
    input: { TableName: TABLE, Key: { pk: 'orders', sk: 'rebuild#us-east-1' }, ConsistentRead: true },
  },
  {
    name: 'listRebuilds',
    part: 'rebuilds',
    call: (s) => s.listRebuilds('orders'),
    command: QueryCommand,
    input: {
      TableName: TABLE,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'orders', ':prefix': 'rebuild#' },
    },
  },
  {
    name: 'markRebuild',
    part: 'rebuilds',
    call: (s) =>
      s.markRebuild('orders', { region: 'us-east-1', since: 5, incidentId: 'orders:3:1', reason: 'left' }),
    command: PutCommand,
    input: {
      TableName: TABLE,
      Item: {
        pk: 'orders',
        sk: 'rebuild#us-east-1',
        region: 'us-east-1',
        since: 5,
        incidentId: 'orders:3:1',
        reason: 'left',
      },
      // The earliest divergence is the one a rebuild must cover: an existing mark is kept.
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  },
  {
    name: 'clearRebuild',
    part: 'rebuilds',
    call: (s) => s.clearRebuild('orders', 'us-east-1', 5),
    command: DeleteCommand,
    input: {
      TableName: TABLE,
      Key: { pk: 'orders', sk: 'rebuild#us-east-1' },
      ConditionExpression: 'since = :since',
      ExpressionAttributeValues: { ':since': 5 },
    },
  },
  {
    name: 'appendAudit',
    part: 'audit',
    call: (s) =>
      s.appendAudit('orders', 'orders:3:1', { at: 1_700_000_000_000, step: 'fence', outcome: 'revoked' }),
    command: PutCommand,
    input: {
      TableName: TABLE,
      Item: {
        pk: 'orders',
        sk: 'audit#orders:3:1#1700000000000#fence',
        incidentId: 'orders:3:1',
        at: 1_700_000_000_000,
        step: 'fence',
        outcome: 'revoked',
      },
    },
  },
  {
    name: 'listAudit',
    part: 'audit',
    call: (s) => s.listAudit('orders', 'orders:3:1'),
    command: QueryCommand,
    input: {
      TableName: TABLE,
      ConsistentRead: true,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'orders', ':prefix': 'audit#orders:3:1#' },
    },
  },
];

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    $metadata: {},
  });

describe('every control store method sends one exact command, and no raw SDK error leaves it', () => {
  it('covers all the methods of ControlStore', () => {
    const methods = Object.keys(store).filter(
      (k) => typeof (store as unknown as Record<string, unknown>)[k] === 'function',
    );
    expect(METHODS.map((m) => m.name).sort()).toEqual(methods.sort());
  });

  it.each(METHODS)(
    '$part.$name: throttled, it is a StoreError (retried by the state machines)',
    async (m) => {
      const sdkError = throttled();
      ddb.rejects(sdkError);
      const err = await m.call(store).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ name: 'StoreError', cause: sdkError });
      expect((err as Error).message).toMatch(
        /^could not .+: ProvisionedThroughputExceededException: Rate of requests/,
      );
      expect(ddb.calls()).toHaveLength(1);
      const sent = ddb.call(0).args[0];
      expect(sent).toBeInstanceOf(m.command);
      expect(sent.input).toEqual(m.input);
    },
  );

  it.each(METHODS)('$part.$name: a refusal that a retry will not fix is a StoreRefusedError', async (m) => {
    const sdkError = new ResourceNotFoundException({
      message: 'Requested resource not found',
      $metadata: {},
    });
    ddb.rejects(sdkError);
    await expect(m.call(store)).rejects.toMatchObject({ name: 'StoreRefusedError', cause: sdkError });
  });

  it('a throttled read-back after a lost condition is a StoreError too', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      )
      .on(GetCommand)
      .rejects(throttled());
    await expect(store.claimIncident('orders:3:1', ARN, 200)).rejects.toMatchObject({ name: 'StoreError' });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: KEY,
      ConsistentRead: true,
    });
  });

  it('a lost condition where the caller gives it no meaning of its own is a LostRaceError', async () => {
    const sdkError = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    ddb.on(UpdateCommand).rejects(sdkError);
    await expect(store.markPublished('orders:3:1', 30)).rejects.toMatchObject({
      name: 'LostRaceError',
      cause: sdkError,
    });
  });
});

describe('a network failure reaches every part as a StoreError', () => {
  it.each(['incidents', 'verdicts', 'publication', 'pause', 'audit'])('%s', async (part) => {
    // A port that was just free: nothing listens there, so every connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const closed = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-2',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      }),
    );
    const unreachable = new DynamoControlStore(closed, TABLE);
    for (const m of METHODS.filter((m) => m.part === part)) {
      const err = await m.call(unreachable).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, m.name).toMatchObject({ name: 'StoreError', cause: { code: 'ECONNREFUSED' } });
    }
  });
});

describe('a stored item that does not have its shape is refused, naming the item and the field', () => {
  it('verdicts: of the item a change replaced, only the kind is read, so a done write is not undone', async () => {
    ddb.on(PutCommand).resolves({ Attributes: { pk: 'orders', sk: 'verdict', kind: 'healthy', code: 7 } });
    expect(await store.recordVerdict('orders', 'suspect', 'SOME_UNHEALTHY', 10)).toEqual({
      changed: true,
      previous: 'healthy',
    });
  });

  it.each([
    {
      what: 'incident',
      call: (s: ControlStore) => s.getIncident('orders:3:1'),
      item: { ...KEY, ...REQUEST, attempt: 1, status: 'runing' },
      message: `malformed incident item ${JSON.stringify(KEY)}: status Invalid option`,
    },
    {
      what: 'incident',
      call: (s: ControlStore) => s.getIncident('orders:3:1'),
      item: { ...KEY, ...REQUEST, epoch: '3', attempt: 1, status: 'running' },
      message: `malformed incident item ${JSON.stringify(KEY)}: epoch Invalid input: expected number, received string`,
    },
    {
      what: 'verdict',
      call: (s: ControlStore) => s.getVerdict('orders'),
      item: { pk: 'orders', sk: 'verdict', kind: 'suspect', code: 'X' },
      message:
        'malformed verdict item {"pk":"orders","sk":"verdict"}: since Invalid input: expected number, received undefined',
    },
    {
      what: 'pause',
      call: (s: ControlStore) => s.getPause('orders'),
      item: { pk: 'orders', sk: 'pause', pausedBy: 'alice', pausedAt: '1', reason: 'r' },
      message:
        'malformed pause item {"pk":"orders","sk":"pause"}: pausedAt Invalid input: expected number, received string',
    },
  ])('$what: $message', async ({ call, item, message }) => {
    ddb.on(GetCommand).resolves({ Item: item });
    await expect(call(store)).rejects.toMatchObject({ name: 'MalformedItemError' });
    await expect(call(store)).rejects.toThrow(message);
  });

  it('audit: an entry without a step', async () => {
    const key = { pk: 'orders', sk: 'audit#orders:3:1#1700000000000#' };
    ddb.on(QueryCommand).resolves({ Items: [{ ...key, at: 1_700_000_000_000, outcome: 'ok' }] });
    await expect(store.listAudit('orders', 'orders:3:1')).rejects.toThrow(
      `malformed audit item ${JSON.stringify(key)}: step Invalid input: expected string, received undefined`,
    );
  });
});
