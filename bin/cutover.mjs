#!/usr/bin/env node
// The CLI is TypeScript. The operator commands, which a person types during an incident, run from the bundle
// that `npm install` prebuilds into dist/ (bin/build.mjs) while it is newer than every file it was built from;
// everything else, and any command when the bundle is missing or stale, runs through tsx, which compiles on the
// fly so that `cutover` works straight from a checkout.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';

// V8's compiled code for every module loaded, kept on disk between runs (Node 22.1+; in the OS temp directory
// unless NODE_COMPILE_CACHE says otherwise): the AWS SDK and zod are then not parsed again at every command.
module.enableCompileCache?.();

const BUNDLED = new Set([
  'status',
  'pause',
  'resume',
  'failover',
  'failback',
  'audit',
  '--version',
  'version',
]);

/** The bundle's entry when it may be used for this command, else null. */
function bundle(command) {
  if (!BUNDLED.has(command) || process.env.CUTOVER_NO_BUNDLE) return null;
  const root = new URL('../', import.meta.url);
  try {
    const { builtAt, inputs } = JSON.parse(readFileSync(new URL('dist/inputs.json', root), 'utf8'));
    for (const f of inputs) if (statSync(new URL(f, root)).mtimeMs > builtAt) return null;
    return new URL('dist/cli.js', root).href;
  } catch {
    return null;
  }
}

const argv = process.argv.slice(2);
let entry = bundle(argv[0]);
if (!entry) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = './cli.ts';
}
const { main } = await import(entry);
const code = await main(argv);
// Exit now: a drill leaves no work behind, and a stray handle must not keep the terminal waiting.
process.exit(code);
