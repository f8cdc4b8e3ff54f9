/**
 * Start-up cost of the CLI and of each Lambda function's bundle, against yardsticks measured in the same run.
 * Usage: npm run bench:startup [-- CLI_RUNS IMPORT_RUNS] [-- --compare-sdk]   (defaults 21 and 11; at least 15 and 10)
 * Other scripts call measureStartup() and formatStartup() (bench/workflow-cost.ts).
 *
 * CLI: wall time of `node dist/cli.mjs <command>` (spawnSync, fresh process each) against bare `node -e 0`,
 * and the packages each command loads (read once through a module-load hook, not timed). The quick
 * commands run with V8's code cache (src/cli/compile-cache.ts) in a cache folder of this run's own, made
 * in the warm-up round as a user's first run makes it; `check` is measured without the cache too.
 * Lambda: every function of serverless.yml bundled as serverless-esbuild bundles it (its `custom.esbuild`
 * block, plugins included), then the time `await import()` of the bundle takes in a fresh process with the
 * function's NODE_OPTIONS as deployed, against a module importing only the AWS SDK clients the function
 * uses, and against the EKS client alone, from node_modules (as the Lambda runtime would provide them).
 * The clients a function uses are those in its bundle or, when the SDK is left to the runtime, those it
 * imports; one it imports on demand is imported after the bundle, in the same timing, so both sides load
 * the same clients. `--compare-sdk` measures the other choice as well (SDK bundled or the runtime's),
 * interleaved with the configured one.
 *
 * Every measurement runs in rounds that interleave all targets (after one warm-up round), so a busy
 * machine slows them alike; medians and ratios are meant to be read within one run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.mjs');
// Targets, in the brief's words: the CLI within 2.5x of bare Node, each function within 1.5x of its SDK clients.
const CLI_TARGET = 2.5;
const LAMBDA_TARGET = 1.5;
// Packages whose loading would mean a command pulled in more than it needs.
const HEAVY = /^(@aws-sdk\/client-|@aws-sdk\/lib-dynamodb$|@aws-sdk\/credential-provider|@smithy\/|aws-local-stepfunctions$|dynalite$)/;
// The SDK packages a function "uses": its service clients and the DynamoDB document client.
const SDK_CLIENT = /^@aws-sdk\/(client-[^/]+|lib-dynamodb)$/;
// What the runtime's SDK choice leaves out of the bundles.
const RUNTIME_SDK = ['@aws-sdk/client-*', '@aws-sdk/lib-dynamodb'];
// STS is loaded only when another account is first reached (src/aws/clients.ts): not one of a function's own clients.
const ON_DEMAND_IGNORED = ['@aws-sdk/client-sts'];
// A child gets no NODE_OPTIONS from the caller (`npm test` style runs set --experimental-vm-modules).
const ENV = { ...process.env, NODE_OPTIONS: '' };

export type StartupOptions = {
  /** Fresh processes per CLI command (at least 15; default 21). */
  cliRuns?: number;
  /** Fresh processes per function bundle and yardstick (at least 10; default 11). */
  importRuns?: number;
  /** Also bundle and measure every function the other way (SDK bundled, or the Lambda runtime's). */
  compareSdk?: boolean;
};

export type CommandStartup = {
  name: string;
  args: string[];
  medianMs: number;
  /** medianMs ÷ bare `node -e 0`. */
  ratio: number;
  /** Kept to the CLI target (`--help` and the no-cache row are shown, not judged). */
  judged: boolean;
  /** Bundled source loaded, per node_modules package ("src" for the project's own code), largest first. */
  loaded: { package: string; bytes: number }[];
  /** Loads the AWS SDK, the emulator or the local runner. */
  heavy: boolean;
};

/** Where the AWS SDK comes from: the bundle itself, or the Lambda runtime (left external). */
export type SdkSource = 'bundled' | 'runtime';

export type FunctionStartup = {
  name: string;
  handler: string;
  sdk: SdkSource;
  /** The .mjs file, uncompressed. */
  bundleBytes: number;
  sourceMapBytes: number;
  /** Bundle and source map deflated, as the function's zip stores them (without the few-KB policy file). */
  compressedBytes: number;
  /** The SDK packages the function uses (in its bundle, or imported from the runtime's SDK). */
  sdkClients: string[];
  /** Of those, imported on demand (runtime SDK only: a bundle holds its on-demand clients). */
  onDemandClients: string[];
  importMs: number;
  /** A module importing only `sdkClients`, from node_modules. */
  yardstickMs: number;
  /** importMs ÷ yardstickMs. */
  ratio: number;
  /** importMs ÷ the EKS client alone. */
  eksRatio: number;
  pass: boolean;
};

export type LambdaStartup = {
  sdk: SdkSource;
  functions: FunctionStartup[];
  worstRatio: number;
  pass: boolean;
};

export type StartupReport = {
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string; arch: string };
  runs: { cli: number; imports: number };
  targets: { cliRatio: number; lambdaRatio: number };
  cli: { bareMs: number; commands: CommandStartup[]; worstRatio: number; pass: boolean; heavyCommands: string[] };
  lambda: LambdaStartup & {
    /** esbuild's target and external packages, and the NODE_OPTIONS the functions are deployed with. */
    target: string;
    external: string[];
    nodeOptions: string;
    eksOnlyMs: number;
    /** With `compareSdk`: the same functions, the other way. */
    comparison?: LambdaStartup;
  };
  /** Both targets met. */
  pass: boolean;
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

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

function spawnNode(args: string[], expectCode: number, env: NodeJS.ProcessEnv = ENV): { ms: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const elapsed = performance.now() - started;
  if (r.status !== expectCode) throw new Error(`node ${args.join(' ')}: exit ${r.status} (expected ${expectCode})\n${r.stderr}`);
  return { ms: elapsed, stdout: r.stdout };
}

// ---------------------------------------------------------------- serverless.yml
type Sls = {
  provider: { runtime: string; environment?: Record<string, unknown> };
  custom: { esbuild: Record<string, unknown> & { exclude?: string[] | string; external?: string[]; outputFileExtension?: string; plugins?: string | Plugin[] } };
  functions: Record<string, { handler: string; environment?: Record<string, unknown> }>;
};

function readSls(): Sls {
  // CloudFormation tags (!Ref, !GetAtt...) are irrelevant here: read them as plain values, quietly.
  return parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as Sls;
}

/** serverless-esbuild's options for a build: its defaults, the runtime's target, then custom.esbuild without its own keys. */
async function esbuildOptions(sls: Sls): Promise<BuildOptions> {
  if ('config' in sls.custom.esbuild) throw new Error('custom.esbuild.config (options from a file) is not read by this bench');
  const { exclude: rawExclude = ['aws-sdk'], external = [], outputFileExtension = '.js', plugins: pluginsFile, ...rest } = sls.custom.esbuild;
  const exclude = typeof rawExclude === 'string' ? [rawExclude] : rawExclude;
  const pluginOnly = [
    'concurrency', 'zipConcurrency', 'nativeZip', 'packager', 'packagePath', 'watch', 'keepOutputDirectory', 'packagerOptions',
    'installExtraArgs', 'outputBuildFolder', 'outputWorkFolder', 'nodeExternals', 'skipBuild', 'skipRebuild', 'skipBuildExcludeFns',
    'stripEntryResolveExtensions', 'disposeContext',
  ];
  const options = Object.fromEntries(Object.entries(rest).filter(([k]) => !pluginOnly.includes(k))) as BuildOptions;
  // serverless-esbuild loads `plugins: FILE` from the service folder: its default export, or the module itself.
  let plugins: Plugin[] | undefined;
  if (typeof pluginsFile === 'string') {
    const loaded = (await import(pathToFileURL(join(ROOT, pluginsFile)).href)) as { default?: unknown };
    const value = loaded.default ?? loaded;
    plugins = (typeof value === 'function' ? (value as () => Plugin[])() : value) as Plugin[];
  } else if (Array.isArray(pluginsFile)) plugins = pluginsFile;
  const runtime = /^nodejs(\d+)\.x$/.exec(sls.provider.runtime);
  return {
    bundle: true,
    platform: 'node',
    target: runtime ? `node${runtime[1]}` : 'node18',
    ...options,
    ...(plugins ? { plugins } : {}),
    external: [...external, ...(exclude.includes('*') ? [] : exclude)],
    ...(outputFileExtension !== '.js' ? { outExtension: { '.js': outputFileExtension } } : {}),
  };
}

/** The SDK choice of a set of options: the runtime's when the clients are left external. */
const sdkOf = (options: BuildOptions): SdkSource => (RUNTIME_SDK.every((p) => options.external?.includes(p)) ? 'runtime' : 'bundled');

/** The same options, the other SDK choice. */
function otherSdk(options: BuildOptions): BuildOptions {
  const external = (options.external ?? []).filter((p) => !RUNTIME_SDK.includes(p));
  return { ...options, external: sdkOf(options) === 'runtime' ? external : [...external, ...RUNTIME_SDK] };
}

function entryOf(handler: string): string {
  const base = handler.slice(0, handler.lastIndexOf('.'));
  const ext = ['.ts', '.js', '.mjs', '.mts', '.tsx', '.jsx'].find((e) => existsSync(join(ROOT, base + e)));
  if (!ext) throw new Error(`no source for handler ${handler}`);
  return base + ext;
}

/** NODE_OPTIONS as the function is deployed with it (its own environment over the provider's). */
function nodeOptionsOf(sls: Sls, fn: string): string {
  const value = sls.functions[fn]?.environment?.NODE_OPTIONS ?? sls.provider.environment?.NODE_OPTIONS ?? '';
  return typeof value === 'string' ? value : '';
}

type Bundle = { fn: string; handler: string; sdk: SdkSource; file: string; bytes: number; mapBytes: number; compressed: number; clients: string[]; onDemand: string[]; nodeOptions: string };

async function bundleFunctions(sls: Sls, options: BuildOptions, outdir: string): Promise<Bundle[]> {
  const sdk = sdkOf(options);
  const bundles: Bundle[] = [];
  for (const [fn, { handler }] of Object.entries(sls.functions)) {
    const entry = entryOf(handler);
    const result = await build({ ...options, absWorkingDir: ROOT, entryPoints: [entry], outdir: join(outdir, dirname(entry)), metafile: true, logLevel: 'warning' });
    const [file, output] = Object.entries((result.metafile as Metafile).outputs).find(([path]) => !path.endsWith('.map'))!;
    const abs = join(ROOT, file);
    const map = `${abs}.map`;
    const mapBytes = existsSync(map) ? statSync(map).size : 0;
    const compressed = deflateRawSync(readFileSync(abs)).length + (mapBytes ? deflateRawSync(readFileSync(map)).length : 0);
    let clients: string[];
    let onDemand: string[] = [];
    if (sdk === 'bundled') {
      // The packages whose code made it into the bundle, from the paths esbuild read them from.
      const names = Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => /node_modules\/(@aws-sdk\/[^/]+)\//.exec(path)?.[1])
        .filter((name): name is string => name !== undefined && SDK_CLIENT.test(name));
      clients = [...new Set(names)].sort();
    } else {
      const imported = (kind: string) => [...new Set(output.imports.filter((i) => i.external && i.kind === kind && SDK_CLIENT.test(i.path)).map((i) => i.path))].sort();
      const statics = imported('import-statement');
      onDemand = imported('dynamic-import').filter((p) => !statics.includes(p) && !ON_DEMAND_IGNORED.includes(p));
      clients = [...statics, ...onDemand].sort();
    }
    bundles.push({ fn, handler, sdk, file: abs, bytes: statSync(abs).size, mapBytes, compressed, clients, onDemand, nodeOptions: nodeOptionsOf(sls, fn) });
  }
  return bundles;
}

/**
 * What the ESM files a command loads hold, in bytes per node_modules package and for this project's own
 * code together ("src"), from the path comment esbuild writes above each module it bundles. The quick
 * commands' CommonJS bundle is read with readFileSync (src/cli/compile-cache.ts), not loaded as a module:
 * the hook records the bundles under dist/ read that way too.
 */
function packagesLoaded(work: string, args: string[], env: NodeJS.ProcessEnv): { bytes: Map<string, number>; ownFolders: Set<string> } {
  const log = join(work, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(work, 'hooks.mjs');
  if (!existsSync(hooks)) {
    writeFileSync(hooks, "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.BENCH_LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n");
    writeFileSync(
      join(work, 'register.mjs'),
      [
        "import fs from 'node:fs';",
        "import { register, syncBuiltinESMExports } from 'node:module';",
        "import { pathToFileURL } from 'node:url';",
        "register('./hooks.mjs', import.meta.url);",
        'const readFileSync = fs.readFileSync;',
        `const DIST = ${JSON.stringify(join(ROOT, 'dist') + '/')};`,
        'fs.readFileSync = function (path, ...rest) {',
        "  if (typeof path === 'string' && path.startsWith(DIST) && path.endsWith('.cjs')) fs.appendFileSync(process.env.BENCH_LOADED_LOG, pathToFileURL(path).href + '\\n');",
        '  return readFileSync.call(this, path, ...rest);',
        '};',
        'syncBuiltinESMExports();',
        '',
      ].join('\n'),
    );
  }
  spawnSync(process.execPath, ['--import', pathToFileURL(join(work, 'register.mjs')).href, ...args], { cwd: ROOT, env: { ...env, BENCH_LOADED_LOG: log }, stdio: 'ignore' });
  const files = existsSync(log) ? [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].map((u) => fileURLToPath(u)) : [];
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

const COMMANDS: { name: string; args: string[]; code: number; judged: boolean; env?: NodeJS.ProcessEnv }[] = [
  { name: 'check', args: ['check', '--policy', 'policy.yaml', '--cluster', 'test/fixtures/eks/public-only-open.json', '--json'], code: 1, judged: true },
  { name: 'triage', args: ['triage', '--event', 'test/fixtures/cloudtrail/update-endpoint-public-open.json', '--json'], code: 0, judged: true },
  { name: 'validate', args: ['validate', '--policy', 'policy.yaml', '--json'], code: 0, judged: true },
  { name: 'scp', args: ['scp', '--policy', 'policy.yaml'], code: 0, judged: true },
  { name: '--help', args: ['--help'], code: 0, judged: false },
  // What a first run after a build (or a Node upgrade) costs, before the code cache exists.
  { name: 'check (no code cache)', args: ['check', '--policy', 'policy.yaml', '--cluster', 'test/fixtures/eks/public-only-open.json', '--json'], code: 1, judged: false, env: { NODE_DISABLE_COMPILE_CACHE: '1' } },
];

/** Measures the CLI and the Lambda functions; see the file's comment for what is timed against what. */
export async function measureStartup(options: StartupOptions = {}): Promise<StartupReport> {
  const cliRuns = Math.max(15, options.cliRuns ?? 21);
  const importRuns = Math.max(10, options.importRuns ?? 11);
  if (!existsSync(CLI)) throw new Error(`${relative(ROOT, CLI)} is missing: run npm run build first`);
  const work = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  try {
    // The bundles import the SDK (when external) and the hook below reports files: both resolve from here.
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    // The CLI's code cache, of this run only: the warm-up round makes it.
    const cliEnv: NodeJS.ProcessEnv = { ...ENV, XDG_CACHE_HOME: join(work, 'cache') };
    delete cliEnv.NODE_DISABLE_COMPILE_CACHE;

    // ------------------------------------------------------------ the CLI
    const cli = rounds(
      [
        { label: 'bare', run: () => spawnNode(['-e', '0'], 0).ms },
        ...COMMANDS.map((c) => ({ label: c.name, run: () => spawnNode([CLI, ...c.args], c.code, { ...cliEnv, ...c.env }).ms })),
      ],
      cliRuns,
    );
    const bareMs = median(cli.get('bare')!);
    const commands: CommandStartup[] = COMMANDS.map((c) => {
      const loaded = packagesLoaded(work, [CLI, ...c.args], { ...cliEnv, ...c.env });
      const medianMs = median(cli.get(c.name)!);
      const heavy = [...loaded.bytes.keys()].some((p) => HEAVY.test(p)) || loaded.ownFolders.has('src/local');
      return { name: c.name, args: c.args, medianMs, ratio: medianMs / bareMs, judged: c.judged, loaded: [...loaded.bytes].map(([name, bytes]) => ({ package: name, bytes })), heavy };
    });
    const cliWorst = Math.max(...commands.filter((c) => c.judged).map((c) => c.ratio));

    // ------------------------------------------------------------ the Lambda functions
    const sls = readSls();
    const configured = await esbuildOptions(sls);
    const sets = [{ options: configured, bundles: await bundleFunctions(sls, configured, join(work, 'configured')) }];
    if (options.compareSdk) {
      const other = otherSdk(configured);
      sets.push({ options: other, bundles: await bundleFunctions(sls, other, join(work, 'other')) });
    }
    const allBundles = sets.flatMap((s) => s.bundles);

    /** A module that imports exactly these packages, as a yardstick; one per distinct set and NODE_OPTIONS. */
    const yardsticks = new Map<string, { file: string; nodeOptions: string }>();
    const yardstick = (packages: string[], nodeOptions: string): string => {
      const key = `${packages.join(' + ') || '(nothing)'}${nodeOptions ? ` [${nodeOptions}]` : ''}`;
      if (!yardsticks.has(key)) {
        const file = join(work, `yardstick-${yardsticks.size}.mjs`);
        writeFileSync(file, packages.map((p) => `import '${p}';\n`).join(''));
        yardsticks.set(key, { file, nodeOptions });
      }
      return key;
    };
    const deployedOptions = nodeOptionsOf(sls, Object.keys(sls.functions)[0] ?? '');
    const EKS_ONLY = yardstick(['@aws-sdk/client-eks'], deployedOptions);
    for (const b of allBundles) yardstick(b.clients, b.nodeOptions);

    const importMs = (file: string, then: string[], nodeOptions: string): number => {
      const loads = [pathToFileURL(file).href, ...then].map((s) => `await import(${JSON.stringify(s)});`).join(' ');
      const script = `const t=performance.now(); ${loads} process.stdout.write(String(performance.now()-t))`;
      const { stdout } = spawnNode(['--input-type=module', '-e', script], 0, { ...ENV, NODE_OPTIONS: nodeOptions });
      const value = Number(stdout);
      if (!Number.isFinite(value)) throw new Error(`import of ${file} printed ${JSON.stringify(stdout)}`);
      return value;
    };
    const label = (b: Bundle) => `${b.sdk} ${b.fn}`;
    const imports = rounds(
      [
        ...allBundles.map((b) => ({ label: label(b), run: () => importMs(b.file, b.onDemand, b.nodeOptions) })),
        ...[...yardsticks].map(([key, y]) => ({ label: `yardstick ${key}`, run: () => importMs(y.file, [], y.nodeOptions) })),
      ],
      importRuns,
    );
    const importMedian = (l: string) => median(imports.get(l)!);
    const eksOnlyMs = importMedian(`yardstick ${EKS_ONLY}`);
    const lambdaOf = (bundles: Bundle[]): LambdaStartup => {
      const functions = bundles.map((b): FunctionStartup => {
        const own = importMedian(label(b));
        const yard = importMedian(`yardstick ${yardstick(b.clients, b.nodeOptions)}`);
        return {
          name: b.fn,
          handler: b.handler,
          sdk: b.sdk,
          bundleBytes: b.bytes,
          sourceMapBytes: b.mapBytes,
          compressedBytes: b.compressed,
          sdkClients: b.clients,
          onDemandClients: b.onDemand,
          importMs: own,
          yardstickMs: yard,
          ratio: own / yard,
          eksRatio: own / eksOnlyMs,
          pass: own / yard <= LAMBDA_TARGET,
        };
      });
      const worstRatio = Math.max(...functions.map((f) => f.ratio));
      return { sdk: bundles[0]?.sdk ?? sdkOf(configured), functions, worstRatio, pass: worstRatio <= LAMBDA_TARGET };
    };
    const lambda = lambdaOf(sets[0]!.bundles);
    const comparison = sets[1] ? lambdaOf(sets[1].bundles) : undefined;

    const cpu = cpus();
    const cliPass = cliWorst <= CLI_TARGET;
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: { cpu: cpu[0]?.model.trim() ?? 'unknown CPU', cores: cpu.length, node: process.version, platform: process.platform, arch: process.arch },
      runs: { cli: cliRuns, imports: importRuns },
      targets: { cliRatio: CLI_TARGET, lambdaRatio: LAMBDA_TARGET },
      cli: { bareMs, commands, worstRatio: cliWorst, pass: cliPass, heavyCommands: commands.filter((c) => c.heavy).map((c) => c.name) },
      lambda: { ...lambda, target: String(configured.target), external: configured.external ?? [], nodeOptions: deployedOptions, eksOnlyMs, ...(comparison ? { comparison } : {}) },
      pass: cliPass && lambda.pass,
    };
  } finally {
    // Removes the link, not what it points to.
    rmSync(work, { recursive: true, force: true });
  }
}

const ms = (x: number) => x.toFixed(1);
const ratio = (x: number) => `${x.toFixed(2)}x`;
const kb = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))}K`;
const num = (n: number) => n.toLocaleString('en-US');

function functionTable(lambda: LambdaStartup, eksOnlyMs: number): string[] {
  const lines = [
    '| function | bundle bytes | source map bytes | deflated (≈ zip) | SDK clients | import ms | those clients alone ms | ratio | ÷ EKS client alone |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const f of lambda.functions) {
    const lazy = f.onDemandClients.length ? ` (on demand: ${f.onDemandClients.join(', ')})` : '';
    const clients = f.sdkClients.filter((c) => !f.onDemandClients.includes(c)).join(', ') || '-';
    lines.push(`| ${f.name} | ${num(f.bundleBytes)} | ${num(f.sourceMapBytes)} | ${num(f.compressedBytes)} | ${clients}${lazy} | ${ms(f.importMs)} | ${ms(f.yardstickMs)} | ${ratio(f.ratio)} | ${ratio(f.importMs / eksOnlyMs)} |`);
  }
  lines.push(`| (yardstick) | | | | @aws-sdk/client-eks | ${ms(eksOnlyMs)} | ${ms(eksOnlyMs)} | 1.00x | 1.00x |`);
  return lines;
}

const SDK_WORDS: Record<SdkSource, string> = { bundled: 'the AWS SDK bundled', runtime: "the Lambda runtime's AWS SDK (external)" };

/** The report as Markdown tables, as `npm run bench:startup` prints it. */
export function formatStartup(report: StartupReport): string {
  const { cli, lambda, machine, runs } = report;
  const lines: string[] = [];
  lines.push(`### Start-up (\`npm run bench:startup\`, ${report.date})`, '');
  lines.push(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}/${machine.arch}. Medians of fresh processes, all targets interleaved in one run.`, '');
  lines.push(`CLI: wall time of \`node dist/cli.mjs ...\` over ${runs.cli} runs, against bare \`node -e 0\` (${ms(cli.bareMs)} ms in this run); the quick commands (check, triage, validate, scp) read one bundle, listed whole, and run with its code cache, made in the warm-up round.`, '');
  lines.push('| command | median ms | `node -e 0` ms | ratio | code loaded (KB of bundled source) |', '|---|---:|---:|---:|---|');
  for (const c of cli.commands) {
    const loaded = c.loaded.map((p) => `${p.package} ${kb(p.bytes)}`).join(', ') || '-';
    lines.push(`| \`${c.name}\` | ${ms(c.medianMs)} | ${ms(cli.bareMs)} | ${ratio(c.ratio)} | ${loaded} |`);
  }
  lines.push('');
  lines.push(
    `Lambda functions, with ${SDK_WORDS[lambda.sdk]}: bundled as serverless.yml's \`custom.esbuild\` says (target ${lambda.target}, external: ${lambda.external.join(', ') || 'none'}); \`await import()\` of the bundle in a fresh process (NODE_OPTIONS=${lambda.nodeOptions || '(none)'}, as deployed), median of ${runs.imports}, against a module importing only the SDK clients the function uses, and against \`@aws-sdk/client-eks\` alone (${ms(lambda.eksOnlyMs)} ms).`,
    '',
  );
  lines.push(...functionTable(lambda, lambda.eksOnlyMs), '');
  if (lambda.comparison) {
    const c = lambda.comparison;
    lines.push(`The same functions with ${SDK_WORDS[c.sdk]}, measured in the same rounds (worst ratio ${ratio(c.worstRatio)}):`, '');
    lines.push(...functionTable(c, lambda.eksOnlyMs), '');
  }
  const met = (pass: boolean) => (pass ? 'met' : 'NOT met');
  lines.push(
    `Targets: CLI commands within ${report.targets.cliRatio}x of bare Node: ${met(cli.pass)} (worst ${ratio(cli.worstRatio)}); functions within ${report.targets.lambdaRatio}x of their SDK clients: ${met(lambda.pass)} (worst ${ratio(lambda.worstRatio)}); commands loading the SDK, the emulator or the local runner: ${cli.heavyCommands.join(', ') || 'none'}.`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const numbers = args.filter((a) => !a.startsWith('--')).map((a) => (Number.isFinite(Number(a)) ? Number(a) : undefined));
  const report = await measureStartup({ cliRuns: numbers[0], importRuns: numbers[1], compareSdk: args.includes('--compare-sdk') });
  console.log(formatStartup(report));
}
