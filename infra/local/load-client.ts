/**
 * The drill's clients in a process of their own (spawnLoadClients in load-generator.ts forks this file): a load
 * generator started and stopped by the parent over IPC. Every RESULT_BATCH_MS the new acknowledged writes go to the
 * parent with the counters read after them; at stop, after the requests in flight are answered, the rest.
 */
import {
  type AckedWrite,
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

let load: LoadGenerator | null = null;
let handedOver = 0;
let results: WriteResult[] = [];
let timer: NodeJS.Timeout | undefined;

/** The acknowledgements not handed over yet, then the counters: read in this order, the counters never run ahead. */
function batch(gen: LoadGenerator): {
  acked: AckedWrite[];
  results: WriteResult[];
  stats: ReturnType<LoadGenerator['stats']>;
  cpu: NodeJS.CpuUsage;
} {
  const all = gen.acked();
  const acked = all.slice(handedOver);
  handedOver = all.length;
  const out = results;
  results = [];
  return { acked, results: out, stats: gen.stats(), cpu: process.cpuUsage() };
}

process.on('message', (raw) => {
  const cmd = raw as LoadClientCommand;
  if (cmd.type === 'start') {
    if (load) {
      send({ type: 'failed', error: 'a load generator is already running in this process' });
      return;
    }
    try {
      const gen = startLoadGenerator({
        ...cmd.options,
        ...(cmd.results ? { onResult: (r: WriteResult) => results.push(r) } : {}),
      });
      load = gen;
      timer = setInterval(() => {
        const b = batch(gen);
        if (b.acked.length || b.results.length) send({ type: 'results', ...b });
      }, RESULT_BATCH_MS);
    } catch (err) {
      send({ type: 'failed', error: String(err) });
    }
    return;
  }
  if (cmd.type === 'stop') {
    const gen = load;
    if (!gen) return;
    clearInterval(timer);
    void gen.stop().then(() => {
      // gen.acked() after stop holds every acknowledgement; the report's sorted copy is the parent's to make.
      send({ type: 'stopped', ...batch(gen), achievedRate: gen.achievedRate() });
      load = null;
      handedOver = 0;
    });
  }
});
// Orphaned (the drill died): nothing left to report to.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', cpu: process.cpuUsage() });
