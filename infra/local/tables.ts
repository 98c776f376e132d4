import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { boundedRequests } from '#commons/request-timeouts.js';

export interface TableNames {
  votes: string;
  control: string;
}

/** Clients for DynamoDB Local: any credentials work, the region only names the "account". */
export function localClients(
  endpoint: string,
  region = 'us-east-1',
  opts: { requestTimeoutMs?: number } = {},
) {
  const raw = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    // Without a request timeout a call into a partition hangs forever, and so would a lease renewal.
    ...(opts.requestTimeoutMs
      ? {
          requestHandler: boundedRequests(opts.requestTimeoutMs),
        }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { raw, doc };
}

/**
 * The same key design as the CDK stacks: votes (pk = application#target#voter, sk = voter: `voteKey`) with a stream of new
 * images, and the control table (pk = application, sk = lease | pause | incident#… | approval#… | audit#…).
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  const keys = {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
  const create = async (input: ConstructorParameters<typeof CreateTableCommand>[0]) => {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  };
  await create({
    TableName: names.votes,
    ...keys,
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  });
  await create({ TableName: names.control, ...keys });
  for (const t of [names.votes, names.control]) {
    for (;;) {
      const d = await client.send(new DescribeTableCommand({ TableName: t }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
