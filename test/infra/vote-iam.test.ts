import { describe, expect, it } from 'vitest';
import { voteKey } from '#core/vote.js';
import { actionsOf, CONFIGS, functionStatements, statements, synth } from './support.js';

/** Whether a statement's resource names the votes table (the regional replica's ARN). */
const onVotes = (s: Record<string, unknown>) =>
  JSON.stringify(s.Resource).includes(':table/cutover-orders-votes');

describe('a watcher writes only its own votes (IAM fine-grained access control on dynamodb:LeadingKeys)', () => {
  it('pins each prober to the partition keys that name its own region, for writes and reads alike', () => {
    const { stacks, template } = synth(CONFIGS.example);
    expect(stacks.watchers.length).toBeGreaterThanOrEqual(3);
    for (const stack of stacks.watchers) {
      const voter = stack.region;
      const votes = functionStatements(template(stack), 'prober').filter(onVotes);
      expect(votes, voter).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: expect.anything(),
          Condition: {
            'ForAllValues:StringEquals': {
              'dynamodb:LeadingKeys': [
                voteKey('orders', 'us-east-1', voter).pk,
                voteKey('orders', 'us-west-2', voter).pk,
              ],
            },
          },
        },
      ]);
      expect(JSON.stringify(votes[0]!.Resource)).toContain(`:dynamodb:${voter}:`);
    }
  });

  it('grants no other access to the votes table in a watcher stack: no table-wide write, no Query, Scan or batch', () => {
    const { stacks, template } = synth(CONFIGS.example);
    for (const stack of stacks.watchers) {
      const onTable = statements(template(stack)).filter(
        (s) => onVotes(s) && actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      for (const s of onTable) {
        expect(s.Condition, stack.region).toBeDefined();
        expect(actionsOf(s).filter((a) => !/^dynamodb:(GetItem|PutItem|UpdateItem)$/.test(a))).toEqual([]);
      }
      // Other watchers' keys are never among this one's.
      const keys = JSON.stringify(onTable.map((s) => s.Condition));
      for (const other of stacks.watchers.filter((w) => w.region !== stack.region)) {
        expect(keys).not.toContain(`#${other.region}"`);
      }
    }
  });
});
