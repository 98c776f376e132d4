import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  type PutCommandOutput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { MalformedItemError } from '#core/errors.js';
import { storeError } from '../store-errors.js';

export interface ItemKey {
  pk: string;
  sk: string;
}

// Twelve digits keep epochs in numeric order as strings; millisecond timestamps have thirteen (until 2286).
const pad = (n: number) => String(n).padStart(12, '0');

/** The sort keys of the control table's items, each partitioned by application. */
export const keys = {
  incident: (application: string, epoch: number): ItemKey => ({
    pk: application,
    sk: `incident#${pad(Math.max(0, epoch))}`,
  }),
  incidentPrefix: 'incident#',
  verdict: (application: string): ItemKey => ({ pk: application, sk: 'verdict' }),
  pause: (application: string): ItemKey => ({ pk: application, sk: 'pause' }),
  rebuild: (application: string, region: string): ItemKey => ({ pk: application, sk: `rebuild#${region}` }),
  rebuildPrefix: 'rebuild#',
  audit: (application: string, incidentId: string, at: number, step: string): ItemKey => ({
    pk: application,
    sk: `audit#${incidentId}#${pad(at)}#${step}`,
  }),
  auditPrefix: (incidentId: string) => `audit#${incidentId}#`,
};

type Input<T> = Omit<T, 'TableName'>;

/**
 * The control table as its parts use it: every command goes through here, so every SDK error leaves as a
 * domain error (storeError), and every item read is checked against its schema.
 */
export class ControlTable {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  async get(key: ItemKey, what: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.send(
      () => this.client.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true })),
      what,
    );
    return res.Item;
  }

  put(input: Input<PutCommandInput>, what: string): Promise<PutCommandOutput> {
    return this.send(() => this.client.send(new PutCommand({ TableName: this.name, ...input })), what);
  }

  update(input: Input<UpdateCommandInput>, what: string): Promise<UpdateCommandOutput> {
    return this.send(() => this.client.send(new UpdateCommand({ TableName: this.name, ...input })), what);
  }

  async delete(input: Input<DeleteCommandInput>, what: string): Promise<void> {
    await this.send(() => this.client.send(new DeleteCommand({ TableName: this.name, ...input })), what);
  }

  async query(input: Input<QueryCommandInput>, what: string): Promise<Record<string, unknown>[]> {
    const res = await this.send(
      () => this.client.send(new QueryCommand({ TableName: this.name, ConsistentRead: true, ...input })),
      what,
    );
    return res.Items ?? [];
  }

  private async send<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw storeError(err, what);
    }
  }
}

/** Parses a stored item, or fails naming the item's key and every field at fault. */
export function parseItem<S extends z.ZodType>(
  schema: S,
  what: string,
  item: Record<string, unknown>,
): z.infer<S> {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  throw new MalformedItemError(
    what,
    { pk: item.pk, sk: item.sk },
    parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(item)', message: i.message })),
  );
}
