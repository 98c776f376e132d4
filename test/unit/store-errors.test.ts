import { describe, expect, it } from 'vitest';
import { storeError } from '#adapters/dynamodb/store-errors.js';

const sdk = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $fault: 'client', $metadata: {}, ...extra });

describe('the one translation of DynamoDB SDK errors', () => {
  it.each([
    ['ConditionalCheckFailedException', 'LostRaceError', sdk('ConditionalCheckFailedException')],
    ['throttled writes', 'StoreError', sdk('ProvisionedThroughputExceededException')],
    ['throttled account', 'StoreError', sdk('RequestLimitExceeded')],
    ['on-demand throttling', 'StoreError', sdk('ThrottlingException')],
    ['an MRSC write conflict', 'StoreError', sdk('ReplicatedWriteConflictException')],
    ['a transaction conflict', 'StoreError', sdk('TransactionConflictException')],
    [
      'a 500',
      'StoreError',
      sdk('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } }),
    ],
    ['a 503 of unknown name', 'StoreError', sdk('Unknown', { $metadata: { httpStatusCode: 503 } })],
    ['a request timeout', 'StoreError', sdk('TimeoutError')],
    ['a reset connection', 'StoreError', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a refused connection', 'StoreError', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })],
    ['a missing table', 'StoreRefusedError', sdk('ResourceNotFoundException')],
    ['a bad expression', 'StoreRefusedError', sdk('ValidationException')],
    ['denied access', 'StoreRefusedError', sdk('AccessDeniedException')],
    ['something thrown that is not an Error', 'StoreRefusedError', 'boom'],
  ])('%s becomes a %s with the SDK error as its cause', (_, name, err) => {
    const mapped = storeError(err, 'read the verdict of orders');
    expect(mapped.name).toBe(name);
    expect(mapped.cause).toBe(err);
    expect(mapped.message).toMatch(/^could not read the verdict of orders: /);
  });

  it('leaves a domain error that is already mapped as it is', () => {
    const once = storeError(sdk('ProvisionedThroughputExceededException'), 'audit');
    expect(storeError(once, 'audit again')).toBe(once);
  });
});
