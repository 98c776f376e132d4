import type { Verdict, VerdictCode } from './decide.js';
import { MANUAL_VERDICT } from './manual-failover.js';

/**
 * Whether a quorum of fresh watchers sees `from` unhealthy over the whole debounce window right now: what any
 * automatic failover needs (I3), and what going on needs once the votes that decided may have gone stale (a
 * long approval wait, an approval that timed out). The one place of that rule. Pure.
 */
export type FreshQuorum =
  | { met: true; code: 'FRESH_QUORUM'; reason: string }
  | { met: false; code: 'NO_FRESH_QUORUM'; reason: string };

export function freshUnhealthyQuorum(sustainedUnhealthy: number, quorum: number, from: string): FreshQuorum {
  const seen = `${sustainedUnhealthy} fresh watchers see ${from} unhealthy over the debounce window (quorum ${quorum})`;
  return sustainedUnhealthy >= quorum
    ? { met: true, code: 'FRESH_QUORUM', reason: seen }
    : { met: false, code: 'NO_FRESH_QUORUM', reason: `only ${seen}` };
}

/**
 * The re-check before acting: if a quorum of fresh watchers sees the primary healthy again, the failover was a
 * false alarm and aborts before anything changes. An operator's failover was decided by a person, not by the
 * votes: `from` being healthy is no false alarm then (giving the lease back to a recovered primary while the
 * standby is up is one such case), so its votes are not read. Pure.
 *
 * Once more time has passed since the decision than a vote stays fresh (an approval wait, a takeover), the
 * votes that decided say nothing any more: going on then needs a fresh quorum of sustained unhealthy votes,
 * as a new automatic decision would, and without one the failover aborts (NO_FRESH_QUORUM). Stale and
 * abstaining watchers never carry a failover across a long wait.
 *
 * An incident already fenced (the lease was revoked at its epoch, by this execution or by the one it took the
 * incident over from) is finished whatever the votes say: the old primary can no longer write, so stopping
 * there would leave no writer at all.
 */
export type RecheckInput =
  | { by: 'operator'; requestedBy: string }
  | {
      by: 'votes';
      from: string;
      verdict: Pick<Verdict, 'code' | 'reason' | 'evidence'>;
      quorum: number;
      /** When the failover was decided (the incident's requestedAt), and now, on the same clock. */
      decidedAt: number;
      now: number;
      voteStalenessMs: number;
      /** The lease epoch is past the incident's: its fence has happened. */
      fenced: boolean;
    };

type Outcome = { recovered: false; proceed: true; healthyVoters: string[] };

export type Recheck =
  | ({ kind: 'manual'; code: typeof MANUAL_VERDICT.code; reason: string } & Outcome & { healthyVoters: [] })
  | {
      kind: 'false-alarm';
      code: 'PRIMARY_RECOVERED';
      recovered: true;
      proceed: false;
      reason: string;
      healthyVoters: string[];
    }
  | {
      kind: 'abort';
      code: 'NO_FRESH_QUORUM';
      recovered: false;
      proceed: false;
      reason: string;
      healthyVoters: string[];
    }
  | ({ kind: 'proceed'; code: VerdictCode | 'ALREADY_FENCED'; reason: string } & Outcome);

export function recheck(input: RecheckInput): Recheck {
  if (input.by === 'operator') {
    return {
      kind: 'manual',
      code: MANUAL_VERDICT.code,
      recovered: false,
      proceed: true,
      reason: `requested by ${input.requestedBy}: an operator decided, the votes are not rechecked`,
      healthyVoters: [],
    };
  }
  const { from, verdict, quorum } = input;
  const healthyVoters = verdict.evidence.fresh.filter((v) => v.healthy).map((v) => v.voter);
  if (input.fenced) {
    return {
      kind: 'proceed',
      code: 'ALREADY_FENCED',
      recovered: false,
      proceed: true,
      reason: `finishing: the lease was already revoked for this incident, so ${from} cannot write and stopping here would leave no writer (now: ${verdict.reason})`,
      healthyVoters,
    };
  }
  if (healthyVoters.length >= quorum) {
    return {
      kind: 'false-alarm',
      code: 'PRIMARY_RECOVERED',
      recovered: true,
      proceed: false,
      reason: `false alarm: ${healthyVoters.length} fresh watchers (quorum ${quorum}) see ${from} healthy again (${healthyVoters.join(', ')})`,
      healthyVoters,
    };
  }
  const waitedMs = input.now - input.decidedAt;
  let why = `still failing over: ${verdict.reason}`;
  if (waitedMs > input.voteStalenessMs) {
    const fresh = freshUnhealthyQuorum(verdict.evidence.sustainedUnhealthy.length, quorum, from);
    if (!fresh.met) {
      return {
        kind: 'abort',
        code: fresh.code,
        recovered: false,
        proceed: false,
        reason: `no fresh quorum: ${waitedMs} ms since the decision, longer than a vote stays fresh (${input.voteStalenessMs} ms), and ${fresh.reason}`,
        healthyVoters,
      };
    }
    why = `still failing over after ${waitedMs} ms: ${fresh.reason}`;
  }
  return { kind: 'proceed', code: verdict.code, recovered: false, proceed: true, reason: why, healthyVoters };
}
