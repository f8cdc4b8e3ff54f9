// Bundles the CLI into dist/cli.mjs (the entry `npx eks-endpoint-guard` and `node dist/cli.mjs` run) plus
// shared chunks in dist/chunks/. Code splitting keeps start-up short: each command imports its
// implementation when it runs, so `check`, `validate` and `triage` never load the AWS SDK, the emulator
// or the local state machine runner (`npm run bench:startup` measures it).
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const DIST = resolve('dist');
const CHUNKS = join(DIST, 'chunks');
const ENTRY = join(DIST, 'cli.mjs');
// A CLI started before a rebuild may still import chunks of the build it started from: keep those a while.
const STALE_AFTER_MS = 10 * 60 * 1000;

const { outputFiles } = await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: DIST,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  // ESM builds first, as serverless.yml bundles the functions: only they can be tree-shaken. With the CommonJS
  // builds, @aws-sdk/util-arn-parser (used by triage) drags ~350 KB of @smithy/core into the CLI.
  mainFields: ['module', 'main'],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
  // dynalite is loaded at run time with createRequire (src/emulator/dynamodb-store.ts), never bundled:
  // its native LevelDB binding cannot be. Listing it keeps a future static import from bundling it by accident.
  external: ['dynalite'],
  // Some CommonJS dependencies call require(); give every ESM chunk one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// Other processes may run the CLI while it is rebuilt (the test suites spawn it): every file is written
// whole (temporary file, then rename), chunks before the entry that imports them, so a CLI never sees a
// half-written file or an entry whose chunks are not there yet.
async function writeWhole(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, path);
}
await mkdir(CHUNKS, { recursive: true });
const byEntryLast = [...outputFiles].sort((a, b) => Number(a.path.startsWith(ENTRY)) - Number(b.path.startsWith(ENTRY)));
for (const file of byEntryLast) {
  await mkdir(dirname(file.path), { recursive: true });
  await writeWhole(file.path, file.contents);
}

// Chunks of earlier builds go once nothing started before this build can still need them.
const current = new Set(outputFiles.map((f) => relative(CHUNKS, f.path)));
for (const name of await readdir(CHUNKS)) {
  if (current.has(name)) continue;
  const path = join(CHUNKS, name);
  if (Date.now() - (await stat(path)).mtimeMs > STALE_AFTER_MS) await rm(path, { force: true });
}
