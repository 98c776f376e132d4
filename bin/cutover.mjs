#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so that `cutover` runs straight from a checkout.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
const code = await main(process.argv.slice(2));
// Exit now: a drill leaves no work behind, and a stray handle must not keep the terminal waiting.
process.exit(code);
