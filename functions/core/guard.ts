import type { GuardDecision } from './lease.js';

/**
 * What the application's write path asks before a write. `check()` must not do I/O once warm; the epoch it
 * returns is the fencing token to store with the write.
 */
export interface WriteGuard {
  check(): GuardDecision;
}
