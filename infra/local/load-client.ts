/**
 * The drill's clients in a process of their own (spawnLoadClients in load-generator.ts forks this file): load
 * generators started and stopped by the parent over IPC, each under the parent's id (the clients behind the front
 * door, a region's local clients). Every RESULT_BATCH_MS each generator's new acknowledged writes go to the parent
 * with its counters read after them; at stop, after its requests in flight are answered, the rest.
 */
import {
  type LoadClientCommand,
  type LoadClientMessage,
  type LoadGenerator,
  RESULT_BATCH_MS,
  startLoadGenerator,
  type WriteResult,
} from './load-generator.js';

if (!process.send)
  throw new Error('load-client.ts runs as a forked child (spawnLoadClients), not on its own');
const send = (m: LoadClientMessage) => process.send?.(m);

interface Running {
  gen: LoadGenerator;
  /** How many of gen.acked() the parent has. */
  handedOver: number;
  results: WriteResult[];
  /** Answers and skips counted at the last hand-over: a refusal changes the counters without an acknowledgement. */
  counted: number;
}
const running = new Map<number, Running>();

/** The acknowledgements not handed over yet, then the counters: read in this order, the counters never run ahead. */
function batch(r: Running) {
  const all = r.gen.acked();
  const acked = all.slice(r.handedOver);
  r.handedOver = all.length;
  const results = r.results;
  r.results = [];
  const stats = r.gen.stats();
  const counted = stats.acked + stats.refused + stats.failed + stats.skipped;
  const changed = counted !== r.counted;
  r.counted = counted;
  return { changed, message: { acked, results, stats, cpu: process.cpuUsage() } };
}

const timer = setInterval(() => {
  for (const [id, r] of running) {
    const b = batch(r);
    if (b.changed) send({ type: 'results', id, ...b.message });
  }
}, RESULT_BATCH_MS);

process.on('message', (raw) => {
  const cmd = raw as LoadClientCommand;
  if (cmd.type === 'start') {
    try {
      const r: Running = { gen: null as unknown as LoadGenerator, handedOver: 0, results: [], counted: 0 };
      r.gen = startLoadGenerator({
        ...cmd.options,
        ...(cmd.results ? { onResult: (w: WriteResult) => r.results.push(w) } : {}),
      });
      running.set(cmd.id, r);
    } catch (err) {
      send({ type: 'failed', id: cmd.id, error: String(err) });
    }
    return;
  }
  if (cmd.type === 'stop') {
    const r = running.get(cmd.id);
    if (!r) return;
    void r.gen.stop().then(() => {
      // gen.acked() after stop holds every acknowledgement; the report's sorted copy is the parent's to make.
      running.delete(cmd.id);
      send({ type: 'stopped', id: cmd.id, ...batch(r).message, achievedRate: r.gen.achievedRate() });
    });
  }
});
// Orphaned (the drill died): nothing left to report to.
process.on('disconnect', () => {
  clearInterval(timer);
  process.exit(0);
});
send({ type: 'ready', cpu: process.cpuUsage() });
