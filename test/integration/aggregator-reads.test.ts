import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type ServiceInputTypes,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { RecordingPublisher } from '#adapters/local/recording-publisher.js';
import { type AggregatorDeps, aggregate } from '#commons/aggregate.js';
import { AGGREGATOR_CONTROL_READS } from '#core/cost-model.js';
import { voteKey } from '#core/vote.js';
import { freshTables } from '../support/dynamodb.js';
import { exampleConfig, vote } from '../support/fixtures.js';

const NOW = 1_800_000_000_000;
const clock = { now: () => NOW };

/**
 * What `cutover cost` prices for one aggregator invocation in the steady state (AGGREGATOR_CONTROL_READS control
 * table reads, no verdict write) against what the real aggregate() sends to DynamoDB Local: the requests on the
 * control table, counted on the wire.
 */
describe('the aggregator’s steady state, as the cost model prices it', () => {
  let t: Awaited<ReturnType<typeof freshTables>>;
  beforeEach(async () => {
    t = await freshTables('aggreads');
  });

  it('reads the control table as many times as the model counts, and writes nothing there', async () => {
    const config = exampleConfig();
    const sent: { name: string; table: string | undefined }[] = [];
    const counting = {
      send: (command: { constructor: { name: string }; input: ServiceInputTypes }) => {
        sent.push({
          name: command.constructor.name,
          table: (command.input as { TableName?: string }).TableName,
        });
        return t.doc.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const deps: AggregatorDeps = {
      config,
      region: config.controlRegions[0]!,
      votes: new DynamoVoteStore(counting, t.names.votes, config.watchers),
      leases: new DynamoLeaseStore(counting, t.names.control, config.lease, clock),
      control: new DynamoControlStore(counting, t.names.control),
      events: new RecordingPublisher(clock.now),
      clock,
    };
    // A healthy primary holding its lease, every watcher's vote fresh, and the verdict already recorded.
    const acquired = await new DynamoLeaseStore(t.doc, t.names.control, config.lease, clock).acquire(
      'orders',
      config.primary.region,
      null,
    );
    expect(acquired.ok).toBe(true);
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    for (const voter of config.watchers) {
      await votes.put(vote({ voter, target: config.primary.region, seq: 1 }, NOW));
      await votes.put(vote({ voter, target: config.standby.region, seq: 1 }, NOW));
    }
    // The stream record of one of those votes, as the aggregator's trigger delivers it.
    const v = vote({ voter: config.watchers[0]!, target: config.primary.region, seq: 1 }, NOW);
    const image = { ...voteKey(v.application, v.target, v.voter), ...v };
    const record = {
      eventName: 'MODIFY',
      dynamodb: { SequenceNumber: '1', NewImage: marshall(image, { removeUndefinedValues: true }) },
    };
    const first = await aggregate([record], deps);
    expect(first.decisions[0]?.verdict?.kind).toBe('healthy');

    sent.length = 0;
    const steady = await aggregate([record], deps);
    expect(steady.batchItemFailures).toEqual([]);
    expect(steady.decisions[0]?.verdict?.kind).toBe('healthy');
    const onControl = sent.filter((s) => s.table === t.names.control);
    expect(onControl.filter((s) => s.name !== GetCommand.name && s.name !== QueryCommand.name)).toEqual([]);
    expect(onControl).toHaveLength(AGGREGATOR_CONTROL_READS);
  });
});

describe('the aggregator’s failover request', () => {
  it('goes out alongside the verdict’s record; a record that fails fails the batch, and its retry puts no second event', async () => {
    const t = await freshTables('aggreq');
    const config = exampleConfig();
    const control = new DynamoControlStore(t.doc, t.names.control);
    let failVerdict = true;
    const calls: string[] = [];
    // The real store, with its verdict write failing once (a throttle) after the request was sent.
    const flaky = Object.assign(Object.create(control) as DynamoControlStore, {
      recordVerdict: async (...args: Parameters<DynamoControlStore['recordVerdict']>) => {
        calls.push('recordVerdict');
        if (failVerdict) {
          failVerdict = false;
          throw new Error('ProvisionedThroughputExceededException');
        }
        return control.recordVerdict(...args);
      },
      requestIncident: async (...args: Parameters<DynamoControlStore['requestIncident']>) => {
        calls.push('requestIncident');
        return control.requestIncident(...args);
      },
    });
    const events = new RecordingPublisher(clock.now);
    const deps: AggregatorDeps = {
      config,
      region: config.controlRegions[0]!,
      votes: new DynamoVoteStore(t.doc, t.names.votes, config.watchers),
      leases: new DynamoLeaseStore(t.doc, t.names.control, config.lease, clock),
      control: flaky,
      events,
      clock,
    };
    const lease = new DynamoLeaseStore(t.doc, t.names.control, config.lease, { now: () => NOW - 1_000 });
    expect((await lease.acquire('orders', config.primary.region, null)).ok).toBe(true);
    // Every watcher has seen the primary down for longer than the debounce window; the standby is healthy.
    const votes = new DynamoVoteStore(t.doc, t.names.votes, config.watchers);
    for (const voter of config.watchers) {
      await votes.put(
        vote(
          {
            voter,
            target: config.primary.region,
            healthy: false,
            consecutiveFailures: 9,
            consecutiveSuccesses: 0,
            observedAt: NOW - 100,
            streakSince: NOW - 100 - config.debounceMs - 1_000,
            detail: 'connect timeout',
          },
          NOW,
        ),
      );
      await votes.put(vote({ voter, target: config.standby.region, observedAt: NOW - 100 }, NOW));
    }
    const v = vote({ voter: config.watchers[0]!, target: config.primary.region, seq: 1 }, NOW);
    const record = {
      eventName: 'MODIFY',
      dynamodb: {
        SequenceNumber: '1',
        NewImage: marshall(
          { ...voteKey(v.application, v.target, v.voter), ...v },
          { removeUndefinedValues: true },
        ),
      },
    };
    const first = await aggregate([record], deps);
    // Both writes were sent: the request did not wait for the verdict's record.
    expect(calls).toEqual(['recordVerdict', 'requestIncident']);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
    const requested = events.events.filter((e) => e.detailType === 'Failover Requested');
    expect(requested).toHaveLength(1);

    const retry = await aggregate([record], deps);
    expect(retry.batchItemFailures).toEqual([]);
    expect(events.events.filter((e) => e.detailType === 'Failover Requested')).toHaveLength(1);
    expect(await control.getIncident(String(requested[0]!.detail.incidentId))).toMatchObject({
      status: 'requested',
    });
  });
});
