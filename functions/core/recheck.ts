import type { Verdict, VerdictCode } from './decide.js';
import { MANUAL_VERDICT } from './manual-failover.js';

/**
 * The re-check before acting: if a quorum of fresh watchers sees the primary healthy again, the failover was a
 * false alarm and aborts before anything changes. An operator's failover was decided by a person, not by the
 * votes: `from` being healthy is no false alarm then (giving the lease back to a recovered primary while the
 * standby is up is one such case), so its votes are not read. Pure.
 */
export type RecheckInput =
  | { by: 'operator'; requestedBy: string }
  | { by: 'votes'; from: string; verdict: Pick<Verdict, 'code' | 'reason' | 'evidence'>; quorum: number };

export type Recheck =
  | { kind: 'manual'; code: typeof MANUAL_VERDICT.code; recovered: false; reason: string; healthyVoters: [] }
  | {
      kind: 'false-alarm';
      code: 'PRIMARY_RECOVERED';
      recovered: true;
      reason: string;
      healthyVoters: string[];
    }
  | { kind: 'proceed'; code: VerdictCode; recovered: false; reason: string; healthyVoters: string[] };

export function recheck(input: RecheckInput): Recheck {
  if (input.by === 'operator') {
    return {
      kind: 'manual',
      code: MANUAL_VERDICT.code,
      recovered: false,
      reason: `requested by ${input.requestedBy}: an operator decided, the votes are not rechecked`,
      healthyVoters: [],
    };
  }
  const { from, verdict, quorum } = input;
  const healthyVoters = verdict.evidence.fresh.filter((v) => v.healthy).map((v) => v.voter);
  if (healthyVoters.length >= quorum) {
    return {
      kind: 'false-alarm',
      code: 'PRIMARY_RECOVERED',
      recovered: true,
      reason: `false alarm: ${healthyVoters.length} fresh watchers (quorum ${quorum}) see ${from} healthy again (${healthyVoters.join(', ')})`,
      healthyVoters,
    };
  }
  return {
    kind: 'proceed',
    code: verdict.code,
    recovered: false,
    reason: `still failing over: ${verdict.reason}`,
    healthyVoters,
  };
}
