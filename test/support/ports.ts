import { freePort, SetupError } from '../../infra/local/dynamodb-local.js';

/**
 * Starts a server that listens on a port of the caller's choosing (PostgreSQL), on a free port, and again
 * on another one when that port was taken before the server bound it: freePort() can only say that the port
 * was free when it looked, and another process (a parallel test file, a connection's ephemeral port) may
 * take it in between. The listener reports that as a SetupError "… is in use"; anything else is thrown.
 * `start` gets a fresh port each attempt and must not reuse what a failed attempt left (a data directory).
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      const taken = err instanceof SetupError && /is in use/.test(err.message);
      if (!taken || attempt >= attempts) throw err;
    }
  }
}
