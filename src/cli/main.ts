/**
 * The CLI's entry (dist/cli.mjs). The quick commands (src/cli/quick-commands.ts: check, validate,
 * triage, scp) run from their own CommonJS bundle, compiled with V8's code cache
 * (src/cli/compile-cache.ts): at that size, parsing and compiling are most of a run. Every other
 * command, and `--help`, runs the whole CLI (src/cli/full.ts), whose commands load their implementation
 * when they run. Both register a command on a program made the same way (src/cli/program.ts), so it
 * prints the same either way. `npm run bench:startup` measures both.
 */
import { fileURLToPath } from 'node:url';
import { compileCacheDir, requireWithCodeCache } from './compile-cache';
import { isQuickCommand } from './quick-commands';

/** The quick bundle, relative to this file: set by scripts/build-cli.mjs; unset when the sources run unbundled. */
declare const __QUICK_BUNDLE__: string | undefined;

// The SDK warns on every run under Node 20 (it will need Node 22 from 2027); README says so once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `... | head` closes stdout early: that is the reader's choice, not an error worth a stack trace. (0 is
// EXIT.OK of ./io, not imported: this file loads nothing but Node's own modules before it picks a bundle.)
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const command = process.argv[2];
if (isQuickCommand(command) && typeof __QUICK_BUNDLE__ === 'string') {
  const file = fileURLToPath(new URL(__QUICK_BUNDLE__, import.meta.url));
  const quick = requireWithCodeCache(file, { cacheDir: compileCacheDir(), key: command }) as typeof import('./quick');
  await quick.run(process.argv);
} else {
  const { runCli } = await import('./full');
  await runCli(process.argv);
}
