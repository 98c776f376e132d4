import { describe, expect, it } from 'vitest';
import type { Incident } from '#core/incident.js';
import type { ControlStore, IncidentRequest } from '#core/ports.js';

const ARN_A = 'arn:aws:states:us-east-2:000000000000:execution:cutover-failover:a';
const ARN_B = 'arn:aws:states:eu-central-1:000000000000:execution:cutover-failover:b';

let apps = 0;
/** A fresh application per case, so that the cases can share one table. */
const newApp = () => `contract-${process.pid}-${++apps}`;

const request = (application: string, over: Partial<IncidentRequest> = {}): IncidentRequest => ({
  application,
  kind: 'failover',
  epoch: 3,
  from: 'us-east-1',
  to: 'us-west-2',
  verdictKind: 'failover',
  verdictCode: 'QUORUM_UNHEALTHY',
  reason: 'quorum of 3 watchers saw the primary down',
  evidence: { voters: 3 },
  needsApproval: false,
  requestedAt: 100,
  requestedBy: 'us-east-2',
  ...over,
});

async function requested(store: ControlStore, application: string, over: Partial<IncidentRequest> = {}) {
  const created = await store.requestIncident(request(application, over), 100);
  if (!created.created) throw new Error('the fixture incident was not created');
  return created.incident;
}

async function running(store: ControlStore, application: string, arn = ARN_A) {
  const incident = await requested(store, application);
  const claim = await store.claimIncident(incident.id, arn, 200);
  if (!claim.claimed) throw new Error(`the fixture incident was not claimed: ${claim.reason}`);
  return claim.incident;
}

/**
 * The conditional semantics every ControlStore must have. Run against the in-memory fake (test/unit) and the
 * DynamoDB store on DynamoDB Local (test/integration): where they disagree, one of them is wrong.
 */
export function controlStoreContract(name: string, makeStore: () => Promise<ControlStore>) {
  describe(`the control store contract: ${name}`, () => {
    describe('incidents', () => {
      it('gives one of many racing requests the incident; the others see the winner', async () => {
        const store = await makeStore();
        const app = newApp();
        const regions = ['us-east-2', 'eu-central-1', 'ap-south-1', 'us-east-2', 'eu-central-1'];
        const results = await Promise.all(
          regions.map((requestedBy) => store.requestIncident(request(app, { requestedBy }), 100)),
        );
        const winners = results.filter((r) => r.created);
        expect(winners).toHaveLength(1);
        const winner = winners[0]?.created ? winners[0].incident : null;
        expect(winner).toMatchObject({ id: `${app}:3:1`, status: 'requested', attempt: 1 });
        for (const r of results) if (!r.created) expect(r.existing).toEqual(winner);
        expect(await store.getIncident(`${app}:3:1`)).toEqual(winner);
        expect(await store.getIncident(`${app}:3:2`)).toBeNull();
        expect(await store.getIncident('Not An Id')).toBeNull();
      });

      it('is claimed once: a second claim, by any execution, is refused with why', async () => {
        const store = await makeStore();
        const app = newApp();
        const incident = await requested(store, app);
        const [a, b] = await Promise.all([
          store.claimIncident(incident.id, ARN_A, 200),
          store.claimIncident(incident.id, ARN_B, 200),
        ]);
        expect([a.claimed, b.claimed].filter(Boolean)).toHaveLength(1);
        const holder = a.claimed ? ARN_A : ARN_B;
        const claimed = a.claimed ? a.incident : b.claimed ? b.incident : null;
        expect(claimed).toMatchObject({
          status: 'running',
          executionArn: holder,
          claimedAt: 200,
          progressAt: 200,
          progressStep: 'claim',
        });
        expect(await store.claimIncident(incident.id, holder, 201)).toMatchObject({
          claimed: false,
          reason: `incident ${incident.id} is already claimed by this execution`,
        });
        expect(await store.claimIncident(incident.id, 'arn:other', 201)).toMatchObject({
          claimed: false,
          reason: `incident ${incident.id} is running and claimed by ${holder}`,
        });
        expect(await store.claimIncident(`${app}:9:1`, ARN_A, 201)).toEqual({
          claimed: false,
          incident: null,
          reason: `incident ${app}:9:1 does not exist`,
        });
        expect(await store.claimIncident('no', ARN_A, 201)).toMatchObject({ claimed: false, incident: null });
      });

      it('records progress only for the execution that holds it', async () => {
        const store = await makeStore();
        const app = newApp();
        const incident = await running(store, app, ARN_A);
        expect(
          await store.recordProgress(incident.id, ARN_A, { at: 300, step: 'fence', quietUntil: 900 }),
        ).toEqual({ owned: true });
        expect(await store.getIncident(incident.id)).toMatchObject({
          progressAt: 300,
          progressStep: 'fence',
          quietUntil: 900,
        });
        // Without quietUntil, the quiet period ends.
        await store.recordProgress(incident.id, ARN_A, { at: 310, step: 'promote' });
        expect((await store.getIncident(incident.id))?.quietUntil).toBeUndefined();

        const refused = await store.recordProgress(incident.id, ARN_B, { at: 320, step: 'promote' });
        expect(refused).toMatchObject({
          owned: false,
          reason: `incident ${incident.id} is running and bound to ${ARN_A}`,
        });
        expect(await store.getIncident(incident.id)).toMatchObject({
          progressAt: 310,
          progressStep: 'promote',
        });
        expect(await store.recordProgress(`${app}:3:7`, ARN_A, { at: 330, step: 'x' })).toMatchObject({
          owned: false,
          incident: null,
          reason: `incident ${app}:3:7 does not exist (any more)`,
        });
      });

      it('is taken over only while exactly as seen, by one of racing regions', async () => {
        const store = await makeStore();
        const app = newApp();
        const stale = await running(store, app, ARN_A);
        await store.recordProgress(stale.id, ARN_A, { at: 400, step: 'drain' });
        // Progress since it was judged stalled: the takeover is refused.
        expect(await store.takeOverIncident(stale, 'eu-central-1', 500)).toMatchObject({
          takenOver: false,
          reason: `incident ${stale.id} changed since it was judged stalled: now running, bound to ${ARN_A}, requested by us-east-2`,
        });
        const seen = (await store.getIncident(stale.id)) as Incident;
        const [a, b] = await Promise.all([
          store.takeOverIncident(seen, 'eu-central-1', 600),
          store.takeOverIncident(seen, 'ap-south-1', 600),
        ]);
        expect([a.takenOver, b.takenOver].filter(Boolean)).toHaveLength(1);
        const taken = (await store.getIncident(stale.id)) as Incident;
        expect(taken).toMatchObject({
          status: 'requested',
          takenOverFrom: ARN_A,
          takenOverAt: 600,
          progressAt: 600,
          takeovers: 1,
        });
        for (const gone of ['executionArn', 'claimedAt', 'publishedAt', 'progressStep', 'quietUntil']) {
          expect(taken).not.toHaveProperty(gone);
        }
        // The superseded execution's fence now refuses it, and says who took over.
        expect(await store.recordProgress(stale.id, ARN_A, { at: 700, step: 'promote' })).toMatchObject({
          owned: false,
          reason: `incident ${stale.id} is requested and bound to no execution, taken over by ${taken.requestedBy}`,
        });
        // A new execution claims it.
        expect((await store.claimIncident(stale.id, ARN_B, 800)).claimed).toBe(true);
      });

      it('is closed only as its owner allows: an execution, nobody, or anyone', async () => {
        const store = await makeStore();
        const app = newApp();
        const incident = await running(store, app, ARN_A);
        const close = { id: incident.id, status: 'failed' as const, reason: 'late', now: 900 };
        await expect(store.closeIncident({ ...close, owner: { execution: ARN_B } })).rejects.toMatchObject({
          name: 'LostRaceError',
          message: `incident ${incident.id} is held by ${ARN_A}, not ${ARN_B}: not closed`,
        });
        await expect(store.closeIncident({ ...close, owner: { unclaimed: true } })).rejects.toMatchObject({
          name: 'LostRaceError',
          message: `incident ${incident.id} is held by ${ARN_A}, not an unclaimed request: not closed`,
        });
        expect(await store.getIncident(incident.id)).toMatchObject({ status: 'running' });

        const closed = await store.closeIncident({
          ...close,
          status: 'completed',
          reason: 'verified',
          owner: { execution: ARN_A },
        });
        expect(closed).toMatchObject({ status: 'completed', closedAt: 900, closeReason: 'verified' });
        expect(closed).not.toHaveProperty('reopenAfter');
        // A retried close is a no-op that returns the first close.
        expect(
          await store.closeIncident({ ...close, status: 'completed', now: 950, owner: { execution: ARN_A } }),
        ).toEqual(closed);
        // Closed otherwise: not a race, an impossible change.
        await expect(store.closeIncident({ ...close, owner: { execution: ARN_A } })).rejects.toMatchObject({
          name: 'StoreError',
          message: `incident ${incident.id} cannot become failed: it is completed`,
        });
        await expect(
          store.closeIncident({ ...close, id: 'bad id', owner: { any: true } }),
        ).rejects.toMatchObject({
          name: 'StoreError',
        });

        const unclaimed = await requested(store, app, { epoch: 4 });
        await expect(
          store.closeIncident({ ...close, id: unclaimed.id, owner: { execution: ARN_A } }),
        ).rejects.toMatchObject({ name: 'LostRaceError' });
        expect(
          await store.closeIncident({
            ...close,
            id: unclaimed.id,
            reopenAfter: 1_000,
            owner: { unclaimed: true },
          }),
        ).toMatchObject({ status: 'failed', reopenAfter: 1_000 });

        const held = await requested(store, app, { epoch: 5 });
        await store.claimIncident(held.id, ARN_B, 200);
        expect(
          await store.closeIncident({ ...close, id: held.id, status: 'aborted', owner: { any: true } }),
        ).toMatchObject({ status: 'aborted', executionArn: ARN_B });
      });

      it('reopens a failed epoch as a new attempt only after its hold-off, without the old attempt’s leftovers', async () => {
        const store = await makeStore();
        const app = newApp();
        const first = await running(store, app, ARN_A);
        await store.closeIncident({
          id: first.id,
          status: 'failed',
          reason: 'promote failed',
          now: 300,
          reopenAfter: 1_000,
          owner: { execution: ARN_A },
        });
        const early = await store.requestIncident(request(app, { requestedBy: 'eu-central-1' }), 999);
        expect(early).toMatchObject({ created: false, existing: { id: first.id, status: 'failed' } });
        const [x, y] = await Promise.all([
          store.requestIncident(request(app, { requestedBy: 'eu-central-1' }), 1_000),
          store.requestIncident(request(app, { requestedBy: 'ap-south-1' }), 1_000),
        ]);
        expect([x.created, y.created].filter(Boolean)).toHaveLength(1);
        const second = (await store.getIncident(`${app}:3:2`)) as Incident;
        expect(second).toMatchObject({ status: 'requested', attempt: 2 });
        for (const gone of [
          'executionArn',
          'claimedAt',
          'closedAt',
          'closeReason',
          'reopenAfter',
          'progressAt',
        ]) {
          expect(second).not.toHaveProperty(gone);
        }
        expect(await store.getIncident(first.id)).toBeNull();
        // A running attempt is never reopened, whatever the time.
        await store.claimIncident(second.id, ARN_B, 1_100);
        expect((await store.requestIncident(request(app), 10_000)).created).toBe(false);
      });

      it('finds the newest open incident in an epoch window, and the last completed failover or failback', async () => {
        const store = await makeStore();
        const app = newApp();
        const old = await running(store, app, ARN_A);
        await store.closeIncident({
          id: old.id,
          status: 'completed',
          reason: 'done',
          now: 300,
          owner: { any: true },
        });
        const failback = await requested(store, app, { epoch: 5, kind: 'failback' });
        await store.closeIncident({
          id: failback.id,
          status: 'completed',
          reason: 'back',
          now: 400,
          owner: { any: true },
        });
        const open = await requested(store, app, { epoch: 7 });
        await requested(store, app, { epoch: 12 });
        expect((await store.openIncident(app, 5, 9))?.id).toBe(open.id);
        expect(await store.openIncident(app, -2, 6)).toBeNull();
        expect(await store.openIncident(newApp(), 0, 100)).toBeNull();
        // The cool-down counts from the newest move of the primary, a failback included.
        expect((await store.lastCompletedFailover(app))?.id).toBe(failback.id);
        expect(await store.lastCompletedFailover(newApp())).toBeNull();
        // `cutover status` asks for the newest failed or aborted one: none here, and an open one never counts.
        expect((await store.lastClosedIncident(app, ['completed', 'failed']))?.id).toBe(failback.id);
        expect(await store.lastClosedIncident(app, ['failed', 'aborted'])).toBeNull();
      });
    });

    describe('rebuild marks', () => {
      const mark = (since: number) => ({
        region: 'us-east-1',
        since,
        incidentId: 'x:1:1',
        reason: 'failover x:1:1 promoted us-west-2 in its place',
      });

      it('keeps the earliest mark, lists them, and clears only the mark that was read', async () => {
        const store = await makeStore();
        const app = newApp();
        expect(await store.getRebuild(app, 'us-east-1')).toBeNull();
        await store.markRebuild(app, mark(100));
        await store.markRebuild(app, mark(200));
        expect(await store.getRebuild(app, 'us-east-1')).toEqual(mark(100));
        expect(await store.listRebuilds(app)).toEqual([mark(100)]);
        expect(await store.listRebuilds(newApp())).toEqual([]);
        await store.clearRebuild(app, 'us-east-1', 200);
        expect(await store.getRebuild(app, 'us-east-1')).toEqual(mark(100));
        await store.clearRebuild(app, 'us-east-1', 100);
        expect(await store.getRebuild(app, 'us-east-1')).toBeNull();
        await store.clearRebuild(app, 'us-east-1', 100);
      });
    });

    describe('publication claims', () => {
      it('gives one of many callers the right to publish; release by the claimer hands it back', async () => {
        const store = await makeStore();
        const app = newApp();
        const incident = await requested(store, app);
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.claimPublish(incident.id, 100 + i)),
        );
        expect(claims.filter(Boolean)).toHaveLength(1);
        const claimedAt = 100 + claims.indexOf(true);
        await store.releasePublish(incident.id, claimedAt + 1); // someone else's claim: nothing changes
        expect(await store.claimPublish(incident.id, 200)).toBe(false);
        await store.releasePublish(incident.id, claimedAt);
        expect(await store.claimPublish(incident.id, 201)).toBe(true);
        expect((await store.getIncident(incident.id))?.publishedAt).toBe(201);
        expect(await store.claimPublish('bad id', 202)).toBe(false);
        await store.releasePublish('bad id', 202);
      });

      it('refuses a claim once the incident runs; marks published only at the same attempt', async () => {
        const store = await makeStore();
        const app = newApp();
        const incident = await running(store, app, ARN_A);
        expect(await store.claimPublish(incident.id, 300)).toBe(false);
        await store.markPublished(incident.id, 310);
        expect((await store.getIncident(incident.id))?.publishedAt).toBe(310);
        await expect(store.markPublished(`${app}:3:2`, 320)).rejects.toMatchObject({ name: 'LostRaceError' });
        await expect(store.markPublished(`${app}:8:1`, 320)).rejects.toMatchObject({ name: 'LostRaceError' });
      });
    });

    describe('verdicts', () => {
      it('is changed for exactly one caller per transition, and keeps when the kind began', async () => {
        const store = await makeStore();
        const app = newApp();
        expect(await store.getVerdict(app)).toBeNull();
        const first = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.recordVerdict(app, 'suspect', 'SOME_UNHEALTHY', 10 + i)),
        );
        expect(first.filter((c) => c.changed)).toEqual([{ changed: true, previous: null }]);
        expect(first.filter((c) => !c.changed)).toEqual(
          Array(4).fill({ changed: false, previous: 'suspect' }),
        );
        const since = (await store.getVerdict(app))?.since;
        expect(await store.recordVerdict(app, 'suspect', 'OTHER_CODE', 50)).toEqual({
          changed: false,
          previous: 'suspect',
        });
        expect(await store.getVerdict(app)).toEqual({ kind: 'suspect', code: 'SOME_UNHEALTHY', since });
        expect(await store.recordVerdict(app, 'failover', 'QUORUM_UNHEALTHY', 60)).toEqual({
          changed: true,
          previous: 'suspect',
        });
        expect(await store.getVerdict(app)).toEqual({
          kind: 'failover',
          code: 'QUORUM_UNHEALTHY',
          since: 60,
        });
      });
    });

    describe('pause', () => {
      it('is absent until set, keeps the latest, is per application, and is gone after clear', async () => {
        const store = await makeStore();
        const [app, other] = [newApp(), newApp()];
        expect(await store.getPause(app)).toBeNull();
        await store.setPause(app, { pausedBy: 'alice', pausedAt: 1, reason: 'first' });
        await store.setPause(app, { pausedBy: 'bob', pausedAt: 2, reason: 'second' });
        expect(await store.getPause(app)).toEqual({ pausedBy: 'bob', pausedAt: 2, reason: 'second' });
        expect(await store.getPause(other)).toBeNull();
        await store.clearPause(other);
        expect(await store.getPause(app)).not.toBeNull();
        await store.clearPause(app);
        await store.clearPause(app);
        expect(await store.getPause(app)).toBeNull();
      });
    });

    describe('audit', () => {
      it('lists one incident’s entries in time order, a rewrite of the same step and time once', async () => {
        const store = await makeStore();
        const app = newApp();
        const id = `${app}:3:1`;
        await store.appendAudit(app, id, { at: 1_700_000_000_300, step: 'promote', outcome: 'ok' });
        await store.appendAudit(app, id, {
          at: 1_700_000_000_100,
          step: 'claim',
          outcome: 'claimed',
          detail: { executionArn: ARN_A, nested: { n: 1 } },
        });
        await store.appendAudit(app, id, { at: 1_700_000_000_200, step: 'fence', outcome: 'revoked' });
        await store.appendAudit(app, id, { at: 1_700_000_000_200, step: 'fence', outcome: 'revoked again' });
        await store.appendAudit(app, `${app}:3:10`, {
          at: 1_700_000_000_150,
          step: 'claim',
          outcome: 'other',
        });
        expect(await store.listAudit(app, id)).toEqual([
          {
            at: 1_700_000_000_100,
            step: 'claim',
            outcome: 'claimed',
            detail: { executionArn: ARN_A, nested: { n: 1 } },
          },
          { at: 1_700_000_000_200, step: 'fence', outcome: 'revoked again' },
          { at: 1_700_000_000_300, step: 'promote', outcome: 'ok' },
        ]);
        expect(await store.listAudit(app, `${app}:9:9`)).toEqual([]);
      });
    });
  });
}
