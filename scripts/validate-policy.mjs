#!/usr/bin/env node
// Validates policy files with the project's own parser (src/policy), so a policy that the Lambdas would
// reject fails the deploy instead of the first event. src/policy is bundled on the fly with esbuild (a
// dev dependency the packaging needs anyway): no build step, no TypeScript loader, and the same code the
// functions run.
//
//   node scripts/validate-policy.mjs policy.yaml [other.yaml ...]    exit 0 when all are valid, 2 otherwise
//
// scripts/package-plugin.mjs calls validatePolicyFile() at package time.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let policyModule;

/** Bundles src/policy once per process and imports it. */
function loadPolicyModule() {
  policyModule ??= (async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'src/policy/index.ts')],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    // Imported from a file rather than a data: URL so that createRequire(import.meta.url) works.
    const dir = await mkdtemp(join(tmpdir(), 'eks-endpoint-guard-policy-'));
    try {
      const file = join(dir, 'policy.mjs');
      await writeFile(file, result.outputFiles[0].contents);
      return await import(pathToFileURL(file).href);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return policyModule;
}

/**
 * Reads and validates one policy file. Resolves to `{valid: true, rules, exemptions}` or to
 * `{valid: false, problems}` with every problem the parser found, each naming the field and the value.
 * Rejects only on a bug (an error that is not a policy problem).
 */
export async function validatePolicyFile(file, { cwd = process.cwd() } = {}) {
  const path = resolve(cwd, file);
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    return { valid: false, problems: [`policy file ${file}: ${why}`] };
  }
  const { parsePolicy } = await loadPolicyModule();
  try {
    const policy = parsePolicy(text, file);
    return { valid: true, rules: policy.rules.length, exemptions: policy.exemptions.length };
  } catch (err) {
    if (err && Array.isArray(err.problems)) return { valid: false, problems: err.problems };
    throw err;
  }
}

async function main(files) {
  if (files.length === 0) {
    process.stderr.write('usage: node scripts/validate-policy.mjs POLICY_FILE [POLICY_FILE ...]\n');
    return 2;
  }
  let exitCode = 0;
  for (const file of files) {
    const result = await validatePolicyFile(file);
    if (result.valid) {
      process.stdout.write(`${file}: valid (${result.rules} rules, ${result.exemptions} exemptions)\n`);
    } else {
      for (const problem of result.problems) process.stderr.write(`error: ${problem}\n`);
      exitCode = 2;
    }
  }
  return exitCode;
}

// No top-level await: osls require()s local plugins, and Node cannot require() a module graph that has one.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
