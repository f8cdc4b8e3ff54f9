/**
 * Loads a CommonJS bundle as require() would, compiled with V8's code cache: the bytecode of the
 * functions a run used, kept on disk, so that the next run neither parses nor compiles them again.
 * Node 22.1+ does this for every module (module.enableCompileCache); Node 20 only for vm scripts, which
 * is what this uses. The cache is written once, when the process exits after a run without one (the
 * functions the run compiled are in it then), and V8 itself refuses a cache made by another V8 version
 * or with other flags: it is then written again. V8 checks a cache against the source's length only,
 * so a cache is named after the bundle, whose file name carries a hash of its content
 * (scripts/build-cli.mjs).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Caches of other builds are removed when a new one is written, once this old. */
const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

/**
 * The user's own cache folder ($XDG_CACHE_HOME, or ~/.cache): a cache is code the CLI runs, so never a
 * folder other users can write to, such as /tmp. None with NODE_DISABLE_COMPILE_CACHE set (the variable
 * Node 22 reads for its own compile cache).
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.NODE_DISABLE_COMPILE_CACHE) return null;
  let home: string;
  try {
    home = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  } catch {
    return null;
  }
  return join(home, 'eks-endpoint-guard', 'compile-cache');
}

/**
 * Runs the CommonJS file `file` and returns its exports, compiled with the cache `key` of it in
 * `cacheDir` (one per command: each run compiles the functions of its own command). Without a cache
 * folder it is compiled as require() would.
 */
export function requireWithCodeCache(file: string, options: { cacheDir: string | null; key: string }): unknown {
  const source = readFileSync(file, 'utf8');
  const bundle = basename(file).replace(/\.c?js$/, '');
  const cacheFile = options.cacheDir ? join(options.cacheDir, `${bundle}.${options.key}.${process.version}-${process.arch}.v8cache`) : null;
  let cachedData: Buffer | undefined;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // No cache yet: this run makes one.
    }
  }
  // The wrapper Node puts around a CommonJS module, on the first line: line numbers stay the file's own.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) {
    process.once('exit', () => writeCache(cacheFile, bundle, () => script.createCachedData()));
  }
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** Writes the cache whole (a temporary file, then a rename: other runs may read it meanwhile); any failure only leaves it unwritten. */
function writeCache(cacheFile: string, bundle: string, data: () => Buffer): void {
  try {
    const dir = dirname(cacheFile);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, data(), { mode: 0o600 });
    renameSync(tmp, cacheFile);
    for (const name of readdirSync(dir)) {
      if (name.startsWith(`${bundle}.`)) continue;
      const path = join(dir, name);
      if (Date.now() - statSync(path).mtimeMs > STALE_AFTER_MS) rmSync(path, { force: true });
    }
  } catch {
    // A read-only home, a full disk: the CLI works the same, only without the cache.
  }
}
