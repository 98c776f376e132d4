import type { Io } from '../../bin/options.js';

/** An Io that keeps what a command printed, so a test reads exactly what an operator would see. */
export function captureIo(): Io & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdout: () => out,
    stderr: () => err,
  };
}
