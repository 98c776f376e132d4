import { describe, expect, it } from 'vitest';
import { gamedayMarkerKey } from '#adapters/dynamodb/gameday-marker-store.js';
import { CONFIGS, configOf, synth } from './support.js';

/**
 * The health contract's gameday check reads the game-day marker with the application's own role, which attaches
 * the application stack's lease-keeper policy. That policy allows GetItem on the control table's replicas for the
 * items whose partition key is the application (dynamodb:LeadingKeys); the marker's key is (application,
 * gameday#<region>), so the read is allowed, with no new grant, and nothing beyond the policy's lease access.
 */
describe('the application role may read the game-day marker, and only through the lease-keeper policy', () => {
  for (const source of [CONFIGS.example, CONFIGS.arbiter, CONFIGS.witness]) {
    it(`${source}: GetItem on the control table, partition key ${configOf(source).application}`, () => {
      const config = configOf(source);
      const { stacks, template } = synth(source);
      for (const stack of stacks.applications) {
        const policies = Object.values(template(stack).findResources('AWS::IAM::ManagedPolicy')) as {
          Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } };
        }[];
        expect(policies).toHaveLength(1);
        const reads = policies[0]!.Properties.PolicyDocument.Statement.filter((s) =>
          [s.Action].flat().includes('dynamodb:GetItem'),
        );
        expect(reads).toHaveLength(1);
        const read = reads[0]!;
        expect(read.Effect).toBe('Allow');
        expect(read.Action).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
        const key = gamedayMarkerKey(config.application, stack.region);
        expect(read.Condition).toEqual({
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [key.pk] },
        });
        // Every resource is the control table (a replica of it), never another table or an index.
        const resources = JSON.stringify(read.Resource);
        expect(resources).toContain(`table/cutover-${config.application}-control`);
        expect(resources).not.toMatch(/index\//);
      }
    });
  }
});
