import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Created once per cold start (STYLE rule 6); tests inject their own. */
export const dynamoDb = new DynamoDBClient({});
export const documentClient = DynamoDBDocumentClient.from(dynamoDb, {
  marshallOptions: { removeUndefinedValues: true },
});
export const eventBridge = new EventBridgeClient({});
