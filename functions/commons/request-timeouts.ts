import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The HTTP handler settings of a client whose call must end within `timeoutMs`. The Node handler of the AWS SDK
 * only logs a warning when `requestTimeout` passes unless `throwOnRequestTimeout` is set
 * (@smithy/types HttpHandlerInitialization: "If exceeded, a warning will be emitted unless
 * throwOnRequestTimeout=true"); every timeout Cutover relies on (a lease renewal, a callback's answer) needs the
 * error.
 */
export function boundedRequests(timeoutMs: number) {
  return { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true };
}

/**
 * A document client for the lease table in `region` whose every request ends within the lease's retry timeout:
 * one attempt (the caller decides whether to try another replica), a timeout that throws.
 */
export function boundedLeaseClient(
  region: string,
  retryTimeoutMs: number,
  /** A local endpoint and its credentials (DynamoDB Local, a stand-in); nothing in AWS. */
  local: Pick<DynamoDBClientConfig, 'endpoint' | 'credentials'> = {},
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ region, maxAttempts: 1, requestHandler: boundedRequests(retryTimeoutMs), ...local }),
  );
}
