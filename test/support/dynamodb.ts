import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createTables, localClients, type TableNames } from '../../infra/local/tables.js';

/** Fresh tables with unique names for one test file, on the shared DynamoDB Local. */
export async function freshTables(prefix = 't') {
  const endpoint = inject('dynamodbEndpoint');
  const { raw, doc } = localClients(endpoint);
  const id = randomUUID().slice(0, 8);
  const names: TableNames = { votes: `${prefix}-votes-${id}`, control: `${prefix}-control-${id}` };
  await createTables(raw, names);
  return { endpoint, raw, doc, names };
}
