import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.js';
import { eligibility } from '#core/eligibility.js';
import { preconditions } from '#core/failback.js';
import type { DatabaseStatus } from '#core/failover-ports.js';
import { planPromote } from '#core/promote.js';
import { rpo } from '#core/rpo.js';
import { exampleConfigJson } from '../support/fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON, edited freely before validation
type Raw = Record<string, any>;

/** The example with its data in DynamoDB global tables, edited further by `mutate`. */
function dynamo(mutate: (raw: Raw) => void = () => {}) {
  const raw = exampleConfigJson() as Raw;
  delete raw.primary.databaseId;
  delete raw.standby.databaseId;
  raw.database = { engine: 'dynamodb', tables: ['orders-items'] };
  mutate(raw);
  return parseConfig(raw);
}
const problems = (r: ReturnType<typeof parseConfig>) =>
  r.ok ? [] : r.issues.map((i) => `${i.field}: ${i.message}`);

describe('database.engine "dynamodb"', () => {
  it('validates with the global tables named, and the example file validates', () => {
    expect(problems(dynamo())).toEqual([]);
    expect(problems(parseConfig(JSON.parse(readFileSync('examples/cutover.dynamodb.json', 'utf8'))))).toEqual(
      [],
    );
  });

  it('refuses it without tables, with no tables, with a bad or repeated name', () => {
    expect(problems(dynamo((r) => delete r.database.tables))).toEqual([
      'database.tables: is required when database.engine is "dynamodb": name the global tables',
    ]);
    expect(problems(dynamo((r) => (r.database.tables = [])))).toEqual([
      'database.tables: needs at least one table; got []',
    ]);
    expect(problems(dynamo((r) => (r.database.tables = ['ok-table', 'a b'])))).toEqual([
      'database.tables[1]: must be a DynamoDB table name: 3-255 letters, digits, _ . or -; got "a b"',
    ]);
    expect(problems(dynamo((r) => (r.database.tables = ['orders-items', 'orders-items'])))).toEqual([
      'database.tables: lists orders-items twice',
    ]);
  });

  it('refuses the settings of the other engines, by field', () => {
    expect(
      problems(
        dynamo((r) => {
          r.primary.databaseId = 'orders-db-use1';
          r.database.globalClusterId = 'orders-global';
        }),
      ),
    ).toEqual([
      'primary.databaseId: must be omitted when database.engine is "dynamodb": global tables have the same names in every region (database.tables)',
      'database.globalClusterId: is for engine "aurora" only',
    ]);
    const raw = exampleConfigJson() as Raw;
    raw.database.tables = ['orders-items'];
    expect(problems(parseConfig(raw))).toEqual(['database.tables: is for engine "dynamodb" only']);
  });

  it('still requires the database ids of RDS and Aurora', () => {
    const raw = exampleConfigJson() as Raw;
    delete raw.standby.databaseId;
    expect(problems(parseConfig(raw))).toEqual([
      'standby.databaseId: is required when database is configured',
    ]);
  });
});

describe('global tables through the failover decisions', () => {
  const status: DatabaseStatus = {
    writable: true,
    everyRegionWritable: true,
    detail: 'DynamoDB global tables orders-items: every replica takes writes',
  };
  const target = eligibility({
    to: 'us-west-2',
    primary: 'us-east-1',
    mark: null,
    database: status,
    lag: null,
    promotedByThisIncident: false,
  });

  it('a writable global table replica is an eligible replica, never a standalone database', () => {
    expect(target).toEqual({
      eligible: true,
      code: 'REPLICA',
      reason:
        'the database in us-west-2 takes writes in every region and replicates from us-east-1 (DynamoDB global tables orders-items: every replica takes writes)',
      clearMark: true,
    });
    // Without the flag, the same writable status is a standalone database that loses data.
    expect(
      eligibility({
        to: 'us-west-2',
        primary: 'us-east-1',
        mark: null,
        database: { writable: true, detail: 'x' },
        lag: null,
        promotedByThisIncident: false,
      }).code,
    ).toBe('NOT_A_REPLICA');
  });

  it('the RPO guard reads its lag: unknown is never zero, a fresh reading within budget promotes', () => {
    const guard = (lag: { lagMs: number | null; at: number | null }) =>
      rpo({
        lag,
        fencedAt: 1_000,
        budgetMs: 5_000,
        attempt: 6,
        maxAttempts: 6,
        policy: 'ask',
        to: 'us-west-2',
        target,
        dataLossAccepted: false,
      });
    expect(guard({ lagMs: null, at: null })).toMatchObject({ action: 'ask', code: 'OVER_BUDGET_POLICY' });
    expect(guard({ lagMs: 800, at: 2_000 })).toMatchObject({ action: 'promote', code: 'WITHIN_BUDGET' });
  });

  it('the promote step promotes nothing and says why', () => {
    expect(
      planPromote({ kind: 'failover', to: 'us-west-2', database: status, target, dataLossApproved: false }),
    ).toEqual({
      code: 'ALREADY_WRITABLE',
      mode: 'unplanned',
      reason:
        'the database in us-west-2 is writable already (DynamoDB global tables orders-items: every replica takes writes): nothing to promote',
    });
  });

  it('a failback judges the global tables by their lag, not by their being writable', () => {
    const snapshot = {
      from: 'us-west-2',
      to: 'us-east-1',
      epoch: 4,
      quorum: 1,
      minHealthyMinutes: 0,
      maxLagMs: 1_000,
      now: 10_000,
      lease: { holder: 'us-west-2', epoch: 4 },
      fresh: [{ voter: 'eu-west-1', healthy: true, since: 0, observedAt: 9_000, detail: '200' }],
      database: status,
      target,
    };
    expect(preconditions({ ...snapshot, lagMs: 300 })).toMatchObject({ met: true });
    expect(preconditions({ ...snapshot, lagMs: null }).unmet.map((u) => u.code)).toEqual([
      'LAG_OVER_THRESHOLD',
    ]);
  });
});
