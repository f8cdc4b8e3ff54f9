/**
 * Start-up cost of the CLI and of each Lambda function's bundle, against yardsticks measured in the same run.
 * Usage: npm run bench:startup [-- CLI_RUNS IMPORT_RUNS]   (defaults 21 and 11; at least 15 and 10)
 *
 * CLI: wall time of `node dist/cli.mjs <command>` (spawnSync, fresh process each) against bare `node -e 0`,
 * and the packages each command loads (read once through a module-load hook, not timed).
 * Lambda: every function of serverless.yml bundled as serverless-esbuild bundles it (its `custom.esbuild`
 * block), then the time `await import()` of the bundle takes in a fresh process, against a module that
 * imports only the @aws-sdk packages that bundle imports statically (from the esbuild metafile) and against
 * the EKS client alone. The SDK is external to the bundles (the Lambda runtime ships it); here it resolves
 * to this repository's node_modules.
 *
 * Every measurement runs in rounds that interleave all targets (after one warm-up round), so a busy
 * machine slows them alike; medians and ratios are meant to be read within one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.mjs');
const CLI_RUNS = Math.max(15, Number(process.argv[2] ?? 21));
const IMPORT_RUNS = Math.max(10, Number(process.argv[3] ?? 11));
// Targets, in the brief's words: the CLI within 2.5x of bare Node, each function within 1.5x of its SDK clients.
const CLI_TARGET = 2.5;
const LAMBDA_TARGET = 1.5;
// Packages whose loading would mean a command pulled in more than it needs.
const HEAVY = /^(@aws-sdk\/client-|@aws-sdk\/lib-dynamodb$|@aws-sdk\/credential-provider|@smithy\/|aws-local-stepfunctions$|dynalite$)/;
// A child gets no NODE_OPTIONS from the caller (`npm test` style runs set --experimental-vm-modules).
const ENV = { ...process.env, NODE_OPTIONS: '' };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => x.toFixed(1);
const ratio = (x: number) => `${x.toFixed(2)}x`;

type Target = { label: string; run: () => number };

/** Runs every target once per round, `warmups` unrecorded rounds first; returns each target's samples. */
function rounds(targets: Target[], runs: number, warmups = 1): Map<string, number[]> {
  const samples = new Map(targets.map((t) => [t.label, [] as number[]]));
  for (let r = 0; r < warmups + runs; r++) {
    // Rotate the order so no target always runs right after a particular other one.
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length]!;
      const value = t.run();
      if (r >= warmups) samples.get(t.label)!.push(value);
    }
  }
  return samples;
}

function spawnNode(args: string[], expectCode: number): { ms: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const elapsed = performance.now() - started;
  if (r.status !== expectCode) throw new Error(`node ${args.join(' ')}: exit ${r.status} (expected ${expectCode})\n${r.stderr}`);
  return { ms: elapsed, stdout: r.stdout };
}

const work = mkdtempSync(join(tmpdir(), 'bench-startup-'));
// Removes the link, not what it points to; also when a measurement throws.
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// The bundles import the SDK (external) and the hook below reports files: both resolve from here.
symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');

/**
 * What the ESM files a command loads hold, in KB per node_modules package and for this project's own code
 * together ("src"), from the path comment esbuild writes above each module it bundles.
 */
function packagesLoaded(args: string[]): { bytes: Map<string, number>; ownFolders: Set<string> } {
  const log = join(work, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(work, 'hooks.mjs');
  if (!existsSync(hooks)) {
    writeFileSync(hooks, "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.BENCH_LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n");
    writeFileSync(join(work, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  }
  spawnSync(process.execPath, ['--import', pathToFileURL(join(work, 'register.mjs')).href, ...args], { cwd: ROOT, env: { ...ENV, BENCH_LOADED_LOG: log }, stdio: 'ignore' });
  const files = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => fileURLToPath(u)) : [];
  const bytes = new Map<string, number>();
  const ownFolders = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const marks = [...text.matchAll(/^\/\/ (?:node_modules\/((?:@[^/\n]+\/)?[^/\n]+)|((?:src|handlers)\/[^/\n]+))\S*$/gm)];
    marks.forEach((m, i) => {
      if (m[2]) ownFolders.add(m[2]);
      const name = m[1] ?? 'src';
      bytes.set(name, (bytes.get(name) ?? 0) + ((marks[i + 1]?.index ?? text.length) - m.index));
    });
  }
  return { bytes: new Map([...bytes].sort((a, b) => b[1] - a[1])), ownFolders };
}
const describeLoaded = ({ bytes }: { bytes: Map<string, number> }) => [...bytes].map(([name, n]) => `${name} ${Math.max(1, Math.round(n / 1024))}K`).join(', ') || '-';

// ---------------------------------------------------------------- the CLI
if (!existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} is missing: run npm run build first`);
const commands: { name: string; args: string[]; code: number }[] = [
  { name: 'check', args: ['check', '--policy', 'policy.yaml', '--cluster', 'test/fixtures/eks/public-only-open.json', '--json'], code: 1 },
  { name: 'triage', args: ['triage', '--event', 'test/fixtures/cloudtrail/update-endpoint-public-open.json', '--json'], code: 0 },
  { name: 'validate', args: ['validate', '--policy', 'policy.yaml', '--json'], code: 0 },
  { name: 'scp', args: ['scp', '--policy', 'policy.yaml'], code: 0 },
  { name: '--help', args: ['--help'], code: 0 },
];
const cli = rounds(
  [
    { label: 'bare', run: () => spawnNode(['-e', '0'], 0).ms },
    ...commands.map((c) => ({ label: c.name, run: () => spawnNode([CLI, ...c.args], c.code).ms })),
  ],
  CLI_RUNS,
);
const bare = median(cli.get('bare')!);

// ---------------------------------------------------------------- the Lambda functions
type Sls = {
  provider: { runtime: string };
  custom: { esbuild: Record<string, unknown> & { exclude?: string[]; external?: string[]; outputFileExtension?: string } };
  functions: Record<string, { handler: string }>;
};
// CloudFormation tags (!Ref, !GetAtt...) are irrelevant here: read them as plain values, quietly.
const sls = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as Sls;

/** serverless-esbuild's options for a build: its defaults, the runtime's target, then custom.esbuild without its own keys. */
function esbuildOptions(): BuildOptions {
  if ('config' in sls.custom.esbuild) throw new Error('custom.esbuild.config (options from a file) is not read by this bench');
  const { exclude = [], external = [], outputFileExtension = '.js', ...rest } = sls.custom.esbuild;
  const pluginOnly = [
    'concurrency', 'zipConcurrency', 'nativeZip', 'packager', 'packagePath', 'watch', 'keepOutputDirectory', 'packagerOptions',
    'installExtraArgs', 'outputBuildFolder', 'outputWorkFolder', 'nodeExternals', 'skipBuild', 'skipRebuild', 'skipBuildExcludeFns',
    'stripEntryResolveExtensions', 'disposeContext',
  ];
  const options = Object.fromEntries(Object.entries(rest).filter(([k]) => !pluginOnly.includes(k))) as BuildOptions;
  const runtime = /^nodejs(\d+)\.x$/.exec(sls.provider.runtime);
  return {
    bundle: true,
    platform: 'node',
    target: runtime ? `node${runtime[1]}` : 'node18',
    ...options,
    external: [...external, ...(exclude.includes('*') ? [] : exclude)],
    ...(outputFileExtension !== '.js' ? { outExtension: { '.js': outputFileExtension } } : {}),
  };
}

function entryOf(handler: string): string {
  const base = handler.slice(0, handler.lastIndexOf('.'));
  const ext = ['.ts', '.js', '.mjs', '.mts', '.tsx', '.jsx'].find((e) => existsSync(join(ROOT, base + e)));
  if (!ext) throw new Error(`no source for handler ${handler}`);
  return base + ext;
}

type Bundle = { fn: string; file: string; bytes: number; sdk: string[]; lazySdk: string[] };
const options = esbuildOptions();
const bundles: Bundle[] = [];
for (const [fn, { handler }] of Object.entries(sls.functions)) {
  const entry = entryOf(handler);
  const result = await build({ ...options, absWorkingDir: ROOT, entryPoints: [entry], outdir: join(work, dirname(entry)), metafile: true, logLevel: 'warning' });
  const [file, output] = Object.entries((result.metafile as Metafile).outputs).find(([path]) => !path.endsWith('.map'))!;
  const sdkImports = (kind: string) => [...new Set(output.imports.filter((i) => i.external && i.kind === kind && i.path.startsWith('@aws-sdk/')).map((i) => i.path))].sort();
  const abs = join(ROOT, file);
  bundles.push({ fn, file: abs, bytes: statSync(abs).size, sdk: sdkImports('import-statement'), lazySdk: sdkImports('dynamic-import') });
}

/** A module that imports exactly these packages, as a yardstick; one per distinct set. */
const yardsticks = new Map<string, string>();
function yardstick(packages: string[]): string {
  const key = packages.join(' + ') || '(nothing)';
  if (!yardsticks.has(key)) {
    const file = join(work, `yardstick-${yardsticks.size}.mjs`);
    writeFileSync(file, packages.map((p) => `import '${p}';\n`).join(''));
    yardsticks.set(key, file);
  }
  return key;
}
const EKS_ONLY = yardstick(['@aws-sdk/client-eks']);
for (const b of bundles) yardstick(b.sdk);

function importMs(file: string): number {
  const href = pathToFileURL(file).href;
  const { stdout } = spawnNode(['--input-type=module', '-e', `const t=performance.now(); await import('${href}'); process.stdout.write(String(performance.now()-t))`], 0);
  const value = Number(stdout);
  if (!Number.isFinite(value)) throw new Error(`import of ${file} printed ${JSON.stringify(stdout)}`);
  return value;
}
const imports = rounds(
  [...bundles.map((b) => ({ label: b.fn, run: () => importMs(b.file) })), ...[...yardsticks].map(([key, file]) => ({ label: `yardstick ${key}`, run: () => importMs(file) }))],
  IMPORT_RUNS,
);
const importMedian = (label: string) => median(imports.get(label)!);
const eksOnly = importMedian(`yardstick ${EKS_ONLY}`);

// ---------------------------------------------------------------- report
const loaded = new Map(commands.map((c) => [c.name, packagesLoaded([CLI, ...c.args])]));
const cpu = cpus();
const lines: string[] = [];
lines.push(`### Start-up (\`npm run bench:startup\`, ${new Date().toISOString().slice(0, 10)})`, '');
lines.push(`${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${process.platform}/${process.arch}. Medians of fresh processes, all targets interleaved in one run.`, '');
lines.push(`CLI: wall time of \`node dist/cli.mjs ...\` over ${CLI_RUNS} runs, against bare \`node -e 0\` (${ms(bare)} ms in this run).`, '');
lines.push('| command | median ms | `node -e 0` ms | ratio | code loaded (KB of bundled source) |', '|---|---:|---:|---:|---|');
for (const c of commands) {
  const m = median(cli.get(c.name)!);
  lines.push(`| \`${c.name}\` | ${ms(m)} | ${ms(bare)} | ${ratio(m / bare)} | ${describeLoaded(loaded.get(c.name)!)} |`);
}
lines.push('');
lines.push(`Lambda functions: bundled as serverless.yml's \`custom.esbuild\` says (target ${options.target}, external: ${(options.external ?? []).join(', ')}); \`await import()\` of the bundle in a fresh process, median of ${IMPORT_RUNS}, against a module importing only the @aws-sdk packages the bundle imports statically, and against \`@aws-sdk/client-eks\` alone (${ms(eksOnly)} ms).`, '');
lines.push('| function | bundle bytes | static @aws-sdk imports | import ms | those packages alone ms | ratio | ÷ EKS client alone |', '|---|---:|---|---:|---:|---:|---:|');
for (const b of bundles) {
  const own = importMedian(b.fn);
  const yard = importMedian(`yardstick ${yardstick(b.sdk)}`);
  const lazy = b.lazySdk.length ? ` (on demand: ${b.lazySdk.join(', ')})` : '';
  lines.push(`| ${b.fn} | ${b.bytes.toLocaleString('en-US')} | ${b.sdk.join(', ') || '-'}${lazy} | ${ms(own)} | ${ms(yard)} | ${ratio(own / yard)} | ${ratio(own / eksOnly)} |`);
}
lines.push(`| (yardstick) | | @aws-sdk/client-eks | ${ms(eksOnly)} | ${ms(eksOnly)} | 1.00x | 1.00x |`);
lines.push('');
const cliWorst = Math.max(...commands.filter((c) => c.name !== '--help').map((c) => median(cli.get(c.name)!) / bare));
const lambdaWorst = Math.max(...bundles.map((b) => importMedian(b.fn) / importMedian(`yardstick ${yardstick(b.sdk)}`)));
const heavy = commands.filter((c) => [...loaded.get(c.name)!.bytes.keys()].some((p) => HEAVY.test(p)) || loaded.get(c.name)!.ownFolders.has('src/local'));
lines.push(`Targets: CLI commands within ${CLI_TARGET}x of bare Node: ${cliWorst <= CLI_TARGET ? 'met' : 'NOT met'} (worst ${ratio(cliWorst)}); functions within ${LAMBDA_TARGET}x of their SDK packages: ${lambdaWorst <= LAMBDA_TARGET ? 'met' : 'NOT met'} (worst ${ratio(lambdaWorst)}); commands loading the SDK, the emulator or the local runner: ${heavy.map((c) => c.name).join(', ') || 'none'}.`);
console.log(lines.join('\n'));
