// Bundles the CLI into dist/cli.mjs (the entry `npx eks-endpoint-guard` and `node dist/cli.mjs` run) plus
// shared chunks in dist/chunks/. Two bundles, because start-up is most of what a quick command costs
// (`npm run bench:startup` measures it):
//   - the quick commands (check, validate, triage, scp: src/cli/quick.ts), one CommonJS file that the entry
//     compiles with V8's code cache (src/cli/compile-cache.ts; Node 20 has a code cache for vm scripts only);
//   - the whole CLI (src/cli/full.ts) as ES modules with code splitting: each command imports its
//     implementation when it runs, so `--help` loads commander and the commands' options only.
// Neither loads the AWS SDK, the emulator or the local state machine runner for the quick commands.
import { isBuiltin } from 'node:module';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { zodWithoutLocales } from './esbuild-plugins.mjs';

const DIST = resolve('dist');
const CHUNKS = join(DIST, 'chunks');
const ENTRY = join(DIST, 'cli.mjs');
// A CLI started before a rebuild may still import chunks of the build it started from: keep those a while.
const STALE_AFTER_MS = 10 * 60 * 1000;

const common = {
  outdir: DIST,
  bundle: true,
  // ESM builds first, as serverless.yml bundles the functions: only they can be tree-shaken. With the CommonJS
  // builds, @aws-sdk/util-arn-parser (used by triage) drags ~350 KB of @smithy/core into the CLI.
  mainFields: ['module', 'main'],
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
  metafile: true,
  plugins: [zodWithoutLocales],
};

// The quick bundle: named after its content (a code cache is checked against the source's length only).
const quick = await build({
  ...common,
  entryPoints: { quick: 'src/cli/quick.ts' },
  entryNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
});
// The code cache runs it as a vm script, which can neither import() nor find a package outside the bundle.
const leaks = Object.values(quick.metafile.outputs)
  .flatMap((o) => o.imports)
  .filter((i) => i.kind === 'dynamic-import' || (i.external && !isBuiltin(i.path)));
if (leaks.length > 0) throw new Error(`the quick bundle must be self-contained, yet imports ${leaks.map((i) => `${i.path} (${i.kind})`).join(', ')}`);
const quickFile = quick.outputFiles.find((f) => f.path.endsWith('.cjs'));

const cli = await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  format: 'esm',
  define: { __QUICK_BUNDLE__: JSON.stringify(`./${relative(DIST, quickFile.path)}`) },
  // dynalite is loaded at run time with createRequire (src/emulator/dynamodb-store.ts), never bundled:
  // its native LevelDB binding cannot be. Listing it keeps a future static import from bundling it by accident.
  external: ['dynalite'],
  // Some CommonJS dependencies call require(); give every ESM chunk one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const outputFiles = [...quick.outputFiles, ...cli.outputFiles];

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
