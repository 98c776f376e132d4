import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const marshallOptions = { removeUndefinedValues: true };

/** Created once per cold start (STYLE rule 6); tests inject their own. */
export const dynamoDb = new DynamoDBClient({});
/** The function's own region: the votes table has a replica in every region that reads or writes votes. */
export const documentClient = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions });
export const eventBridge = new EventBridgeClient({});

/**
 * The client for the control table (lease, incidents, approvals, pause flag, audit). That table is not always
 * local: in arbiter mode, or in a control region without an MRSC replica, the CDK app sets LEASE_TABLE_REGION
 * to the region that holds it, and grants on that table only. Without the variable the local client serves.
 */
export function controlTableDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const region = env.LEASE_TABLE_REGION;
  if (!region) return documentClient;
  return DynamoDBDocumentClient.from(new DynamoDBClient({ region }), { marshallOptions });
}

export const controlTableClient = controlTableDocumentClient();
