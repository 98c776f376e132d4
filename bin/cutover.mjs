#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so that `cutover` runs straight from a checkout.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
