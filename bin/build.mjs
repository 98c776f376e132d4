#!/usr/bin/env node
// Prebuilds the CLI into dist/ with esbuild, so that the operator commands start without compiling TypeScript
// (bin/cutover.mjs uses the bundle when it is newer than every file it was built from, tsx otherwise). Run by
// npm's `prepare` on `npm install` in a checkout; without esbuild (an install without dev dependencies) it says
// so and exits 0, and the CLI runs through tsx as before.
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('cutover: esbuild is not installed; the CLI runs through tsx (slower start-up)\n');
  process.exit(0);
}

rmSync(out, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['bin/cli.ts'],
    bundle: true,
    // The packages are bundled too: resolving the SDK's hundreds of small modules in node_modules cost more than
    // parsing them (bench/cli-startup.ts). Chunks keep each command's imports lazy, as in the sources.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outdir: out,
    metafile: true,
    // The ESM builds of the packages where they have one; the CommonJS ones that remain get a `require`.
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
} catch (err) {
  // A failed build must not fail `npm install`: without dist/inputs.json the CLI runs through tsx.
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`cutover: could not prebuild the CLI (${err.message}); it runs through tsx\n`);
  process.exit(0);
}
// What the bundle was built from, with the build time: bin/cutover.mjs falls back to tsx when any of these is
// newer or gone. package.json too, since its "imports" map decides what `#core/*` means.
const inputs = [...Object.keys(result.metafile.inputs), 'package.json'].filter(
  (f) => !f.includes('node_modules/'),
);
const builtAt = Math.max(...inputs.map((f) => statSync(join(root, f)).mtimeMs));
writeFileSync(join(out, 'inputs.json'), JSON.stringify({ builtAt, inputs }));
process.stdout.write(
  `cutover: built ${relative(root, join(out, 'cli.js'))} from ${inputs.length} files (bin/cutover.mjs uses it while none is newer)\n`,
);
