import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type Vote, voteKey, voteSchema } from '#core/vote.js';

/** The part of a DynamoDB stream record the aggregator reads (aws-lambda's DynamoDBRecord shape). */
export interface StreamRecord {
  eventID?: string;
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, unknown>; SequenceNumber?: string; Keys?: Record<string, unknown> };
}

export type SkipRule = 'NOT_A_VOTE_EVENT' | 'MALFORMED' | 'OTHER_APPLICATION';

export type ParsedRecord =
  | { ok: true; id: string; vote: Vote }
  | { ok: false; id: string; rule: Exclude<SkipRule, 'OTHER_APPLICATION'>; reason: string };

/**
 * A record that is not a valid vote is never counted. It is skipped by an explicit rule rather than failed,
 * because redelivering it cannot make it valid; the skip is logged and reported. Never throws.
 */
export function parseStreamRecord(record: unknown, index: number): ParsedRecord {
  const r = (record ?? {}) as StreamRecord;
  const id = r.dynamodb?.SequenceNumber ?? r.eventID ?? `#${index}`;
  if (r.eventName === 'REMOVE') {
    return {
      ok: false,
      id,
      rule: 'NOT_A_VOTE_EVENT',
      reason: 'REMOVE (TTL expiry or delete) carries no vote',
    };
  }
  if (r.eventName !== 'INSERT' && r.eventName !== 'MODIFY') {
    return { ok: false, id, rule: 'MALFORMED', reason: `unknown eventName ${JSON.stringify(r.eventName)}` };
  }
  const image = r.dynamodb?.NewImage;
  if (!image || typeof image !== 'object') return { ok: false, id, rule: 'MALFORMED', reason: 'no NewImage' };
  let item: Record<string, unknown>;
  try {
    item = unmarshall(image as never);
  } catch (err) {
    return {
      ok: false,
      id,
      rule: 'MALFORMED',
      reason: `NewImage is not DynamoDB JSON: ${(err as Error).message}`,
    };
  }
  const { pk, sk, ...rest } = item;
  const parsed = voteSchema.safeParse(rest);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'} ${i.message}`).join('; ');
    return { ok: false, id, rule: 'MALFORMED', reason: `not a vote: ${why}` };
  }
  const vote = parsed.data;
  const key = voteKey(vote.application, vote.target, vote.voter);
  if (pk !== key.pk || sk !== key.sk) {
    return {
      ok: false,
      id,
      rule: 'MALFORMED',
      reason: `key ${String(pk)}/${String(sk)} does not match the vote`,
    };
  }
  return { ok: true, id, vote };
}

export type Skip = { id: string; rule: SkipRule; reason: string };

/**
 * Sorts a batch into the records that make the aggregator look again (their ids become the batch item failures
 * if the decision fails, so that they are redelivered) and the ones skipped by rule. Every record lands in
 * exactly one of the two: nothing is lost.
 */
export function sortBatch(
  records: readonly unknown[],
  application: string,
): { counted: string[]; skipped: Skip[] } {
  const counted: string[] = [];
  const skipped: Skip[] = [];
  for (const [i, record] of records.entries()) {
    const parsed = parseStreamRecord(record, i);
    if (!parsed.ok) skipped.push({ id: parsed.id, rule: parsed.rule, reason: parsed.reason });
    else if (parsed.vote.application !== application) {
      skipped.push({ id: parsed.id, rule: 'OTHER_APPLICATION', reason: parsed.vote.application });
    } else counted.push(parsed.id);
  }
  return { counted, skipped };
}
