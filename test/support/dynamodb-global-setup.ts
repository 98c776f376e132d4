import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** One DynamoDB Local for the integration tier: free port, in memory, stopped at the end. */
export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal({ heapMb: 256 });
  project.provide('dynamodbEndpoint', ddb.endpoint);
  return async () => {
    const failed = project.vitest.state.getCountOfFailedTests?.() ?? 0;
    if (failed > 0) {
      console.error(`--- DynamoDB Local log (tests failed) ---\n${ddb.log().slice(-5000)}`);
    }
    await ddb.stop();
  };
}
