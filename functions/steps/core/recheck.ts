import { decide } from '#core/decide.js';
import { isFenced } from '#core/incident.js';
import { MANUAL_VERDICT } from '#core/manual-failover.js';
import { recheck } from '#core/recheck.js';
import type { StepDeps } from './deps.js';
import { owned, recorded } from './record.js';
import { type IncidentState, parseIncidentState, type TaskEvent } from './state.js';

/**
 * Re-check: a quorum of fresh watchers sees the primary healthy again → a false alarm, abort before acting;
 * after a wait longer than the vote staleness, no fresh unhealthy quorum → abort (NO_FRESH_QUORUM). An
 * operator's failover is not rechecked against the votes, so they are not read then.
 */
export async function recheckVotes(ev: TaskEvent, deps: StepDeps) {
  const s = parseIncidentState(ev.state);
  return recorded(
    deps,
    owned(ev, s),
    'recheck',
    async () => {
      const d =
        ev.state.verdictKind === MANUAL_VERDICT.kind
          ? recheck({ by: 'operator', requestedBy: String(ev.state.requestedBy) })
          : await recheckTheVotes(s, deps);
      const { kind, ...result } = d;
      return { outcome: kind, decision: d, result };
    },
    { readsOnly: true },
  );
}

async function recheckTheVotes(s: IncidentState, deps: StepDeps) {
  const [votes, lease] = await Promise.all([
    deps.votes.list(s.application, s.from),
    deps.leases.read(s.application),
  ]);
  const now = deps.clock.now();
  const verdict = decide(votes, deps.config, now, { primary: s.from, standby: s.to });
  return recheck({
    by: 'votes',
    from: s.from,
    verdict,
    quorum: deps.config.quorum,
    decidedAt: s.requestedAt,
    now,
    voteStalenessMs: deps.config.voteStalenessMs,
    fenced: isFenced(lease, s.epoch),
  });
}
