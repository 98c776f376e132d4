import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { controlStoreContract } from '../support/control-store-contract.js';
import { freshTables } from '../support/dynamodb.js';

// One table for the file: every case uses applications of its own.
let table: Promise<Awaited<ReturnType<typeof freshTables>>> | undefined;

controlStoreContract('DynamoDB Local', async () => {
  table ??= freshTables('contract');
  const t = await table;
  return new DynamoControlStore(t.doc, t.names.control);
});
