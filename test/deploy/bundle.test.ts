/**
 * The deployable artifacts, not the source: `sls package` (offline, as test/deploy/package.ts does) writes
 * one zip per function (`package: individually`) into this test's own directory; a real unzip library
 * extracts each into a task root of its own inside the repository (.scratch/, git-ignored). Each
 * invocation is a child `node` process with cwd = the function's task root, the environment the packaged
 * template gives that function (its CloudFormation intrinsics resolved to the emulator's world),
 * credentials of the guard's assumed-role session, and a resolve hook that refuses any import from the
 * bundle that is neither in the zip nor a Node builtin: the AWS SDK is bundled (serverless.yml,
 * custom.esbuild), so the repository's node_modules being on the path must not hide a package the bundle
 * forgot, the SDK's included.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { crc32 } from 'node:zlib';
import { build } from 'esbuild';
import yauzl from 'yauzl';
import { matchesIntakeRule } from '../../src/events/rule';
import { manualClock, startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import type { EvaluateResult, ExecutionState, LeaseResult, PollResult, PreflightResult, RecordResult, RemediateResult, VerifyResult } from '../../src/workflow/types';
import type { NotifyResult } from '../../src/workflow/notify';
import type { IntakeResult } from '../../src/workflow/intake';
import type { CoverageInput } from '../../src/sweep/coverage';
import type { RecordCoverageResult } from '../../src/sweep/record-coverage';
import type { UnitState } from '../../src/sweep/types';
import { functionZips, readZip, ROOT, type Template } from './package';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const CLUSTER = { name: 'prod-payments', account: ACCOUNT, region: REGION };
const VPC_ID = 'vpc-0a1b2c3d4e5f60001';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:eks-endpoint-guard-dev-alerts`;
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:eks-endpoint-guard-dev-enforce-endpoint`;
/** What `Ref: LedgerTable` resolves to: the table's name (serverless.yml sets it). */
const LEDGER_TABLE = 'eks-endpoint-guard-dev-ledger';
/** The session Lambda opens for the remediation function: STS session ARNs carry the role name without its path. */
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/eks-endpoint-guard-remediate/test`;
const UPDATE_SECONDS = 10;

const STATE: EmulatorState = {
  updateSeconds: UPDATE_SECONDS,
  accounts: [{ id: ACCOUNT, name: 'prod' }],
  // Healthy: DNS support and hostnames on, AmazonProvidedDNS (the schema's defaults).
  vpcs: [{ id: VPC_ID, account: ACCOUNT, region: REGION, cidrBlock: '10.10.0.0/16' }],
  clusters: [{ ...CLUSTER, vpcId: VPC_ID, endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
  topics: [{ name: 'eks-endpoint-guard-dev-alerts', account: ACCOUNT, region: REGION }],
  // The ledger as serverless.yml declares it (LedgerTable: pk, TTL on expiresAt).
  dynamodb: { tables: [{ name: LEDGER_TABLE, account: ACCOUNT, region: REGION, partitionKey: 'pk', ttlAttribute: 'expiresAt' }] },
};

/** What `sls package` needs from the repository (test/deploy/package.ts keeps the same list, unexported). */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'policy.yaml', 'statemachine', 'scripts', 'src', 'handlers'];
const RESULT_MARK = '@@invocation ';

/**
 * The child process: registers the import guard, imports the handler module from the task root (cwd) and
 * calls it with a minimal Lambda context. `--exports` only imports each file and reports its exports.
 */
const INVOKE_MJS = `
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

register(new URL('./import-guard.mjs', import.meta.url), { data: { taskRoot: pathToFileURL(process.cwd() + '/').href } });
const load = (file) => import(pathToFileURL(resolve(file)).href);
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:${REGION}:${ACCOUNT}:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: '256',
  awsRequestId: crypto.randomUUID(),
  logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  logStreamName: 'bundle-test',
  getRemainingTimeInMillis: () => 30000,
  done() {}, fail() {}, succeed() {},
};

const [mode, ...args] = process.argv.slice(2);
let outcome;
try {
  if (mode === '--exports') {
    const found = {};
    for (const file of args) found[file] = Object.fromEntries(Object.entries(await load(file)).map(([k, v]) => [k, typeof v]));
    outcome = { ok: true, result: found };
  } else {
    const [file, event] = args;
    const module = await load(file);
    if (typeof module.handler !== 'function') throw new TypeError(file + ' exports no function handler');
    const result = await module.handler(JSON.parse(event), context);
    outcome = { ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) };
  }
} catch (err) {
  outcome = { ok: false, error: { name: err?.name, message: err?.message } };
}
process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify(outcome) + '\\n', () => process.exit(0));
`;

/** Module resolve hook: what the bundle imports must be in the task root or a Node builtin. */
const IMPORT_GUARD_MJS = `
import { isBuiltin } from 'node:module';
let taskRoot;
export function initialize(data) { taskRoot = data.taskRoot; }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const fromBundle = context.parentURL !== undefined && context.parentURL.startsWith(taskRoot);
  if (fromBundle && !resolved.url.startsWith(taskRoot) && !isBuiltin(specifier)) {
    throw Object.assign(new Error(specifier + ' (imported by ' + context.parentURL + ') is not in the bundle'), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return resolved;
}
`;

type Invocation<T> = { ok: true; result: T; logs: Record<string, unknown>[]; stderr: string } | { ok: false; error: { name: string; message: string }; logs: Record<string, unknown>[]; stderr: string };

let scratch: string;
let template: Template;
/** Each function's zip, by the function's name in serverless.yml: where it was written, where it was extracted, and its files. */
type Artifact = { name: string; module: string; zipPath: string; bytes: number; taskRoot: string; files: Map<string, { data: Buffer; mode: number }> };
let artifacts: Artifact[];
let emulator: Emulator | undefined;
let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
let selfRoleArn: string;

/** `sls package` of a throwaway copy of the service, offline, without credentials, writing into `outDir`. */
async function packageInto(outDir: string): Promise<void> {
  const service = await mkdtemp(join(tmpdir(), 'eks-endpoint-guard-bundle-'));
  try {
    for (const entry of SERVICE_FILES) await cp(join(ROOT, entry), join(service, entry), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(service, 'node_modules'), 'dir');
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', SLS_TELEMETRY_DISABLED: '1' };
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'NODE_OPTIONS']) delete env[key];
    const args = [join(service, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', 'dev', '--package', outDir];
    await new Promise<void>((done, fail) => {
      execFile(process.execPath, args, { cwd: service, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? fail(new Error(`sls package failed: ${err.message}\n${stdout}${stderr}`)) : done(),
      );
    });
  } finally {
    await rm(service, { recursive: true, force: true });
  }
}

/** Extracts a zip with yauzl (names validated, sizes checked), checking each entry's CRC-32 and keeping its Unix mode. */
async function unzip(zip: string, into: string): Promise<Map<string, { data: Buffer; mode: number }>> {
  const files = new Map<string, { data: Buffer; mode: number }>();
  const archive = await yauzl.openPromise(zip, { strictFileNames: true, validateEntrySizes: true });
  for await (const entry of archive.eachEntry()) {
    const target = resolve(into, entry.fileName);
    if (!target.startsWith(into + sep)) throw new Error(`zip entry ${entry.fileName} lands outside the task root`);
    if (entry.isEncrypted()) throw new Error(`zip entry ${entry.fileName} is encrypted`);
    if (entry.fileName.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    const data = Buffer.concat(await (await archive.openReadStreamPromise(entry)).toArray());
    if (crc32(data) >>> 0 !== entry.crc32 >>> 0) throw new Error(`zip entry ${entry.fileName}: CRC-32 does not match its contents`);
    // Unix permission bits live in the high half of the external attributes of entries made on Unix.
    const mode = entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & 0o777 : 0;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
    files.set(entry.fileName, { data, mode });
  }
  return files;
}

/** The Lambda functions of the template with their handler module and export. */
function functionsOf(t: Template) {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([, r]) => {
      const handler = r.Properties.Handler as string;
      const cut = handler.lastIndexOf('.');
      return {
        functionName: r.Properties.FunctionName as string,
        module: handler.slice(0, cut),
        exportName: handler.slice(cut + 1),
        variables: (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      };
    });
}

/** The stack parameters this test deploys with: an organization, the other parameters' defaults. */
const STACK_PARAMETERS: Record<string, string> = { OrganizationId: 'o-a1b2c3d4e5' };

function stackParameter(name: string): string {
  const value = STACK_PARAMETERS[name] ?? template.Parameters?.[name]?.Default;
  if (value === undefined) throw new Error(`stack parameter ${name} has no default and the test gives it no value`);
  return String(value);
}

/** A template value as CloudFormation would resolve it in this test's world; unknown intrinsics fail loudly. */
function resolveValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::NoValue') return undefined;
  const refs: Record<string, string> = {
    AlertTopic: TOPIC_ARN,
    EnforceEndpointStateMachine: STATE_MACHINE_ARN,
    LedgerTable: LEDGER_TABLE,
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
  };
  if (typeof v.Ref === 'string' && v.Ref in refs) return refs[v.Ref];
  if (typeof v.Ref === 'string' && v.Ref in (template.Parameters ?? {})) return stackParameter(v.Ref);
  const getAtt = v['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt && getAtt[0] === 'RemediateClusterRole' && getAtt[1] === 'Arn') return selfRoleArn;
  // Another role of the stack (e.g. one a function hands to a state machine): an ARN of that role in the
  // test's account, with the role's path; the test never assumes it.
  const role = getAtt && getAtt[1] === 'Arn' ? template.Resources[getAtt[0]] : undefined;
  if (role?.Type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role${String(role.Properties.Path ?? '/')}${getAtt![0]}`;
  const condition = v['Fn::If'] as [string, unknown, unknown] | undefined;
  if (condition && condition[0] === 'HasOrganizationsRole') return resolveValue(stackParameter('OrganizationsRoleArn') !== '' ? condition[1] : condition[2]);
  throw new Error(`the test cannot resolve ${JSON.stringify(value)} in a function's environment`);
}

/** The artifact of the function whose handler lives in `module` (e.g. `handlers/evaluate-cluster`). */
function artifactOf(module: string): Artifact {
  const artifact = artifacts.find((a) => a.module === module);
  if (!artifact) throw new Error(`no function's artifact has its handler in ${module}`);
  return artifact;
}

/** The environment Lambda would give the function whose handler lives in `module`, pointed at the emulator. */
function lambdaEnv(module: string, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const fn = functionsOf(template).find((f) => f.module === module);
  if (!fn) throw new Error(`no function of the template has its handler in ${module}`);
  const fromTemplate = Object.fromEntries(Object.entries(fn.variables).map(([k, v]) => [k, resolveValue(v)]));
  const env: Record<string, string | undefined> = {
    // What the Lambda runtime sets.
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    LAMBDA_TASK_ROOT: artifactOf(module).taskRoot,
    TZ: 'UTC',
    // No shared config or credentials files of the developer's machine.
    HOME: scratch,
    AWS_CONFIG_FILE: join(scratch, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-aws-credentials'),
    // What serverless.yml gives the function (NODE_OPTIONS included: --enable-source-maps, as deployed).
    ...fromTemplate,
    // The test's own: the emulator, quiet logs, no Node-version nag from the SDK.
    AWS_ENDPOINT_URL: emulator!.url,
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

function runChild(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Invocation<unknown>> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [join(scratch, 'invoke.mjs'), ...args], { cwd, env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const lines = stdout.split('\n');
      const marked = lines.find((l) => l.startsWith(RESULT_MARK));
      if (err || !marked) return fail(new Error(`child node ${args.join(' ').slice(0, 200)} ended without a result (${err?.message ?? 'no marker'})\n${stdout}\n${stderr}`));
      // Powertools writes JSON lines: errors and warnings to stderr, the rest to stdout.
      const logs = [...lines, ...stderr.split('\n')].filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      done({ ...(JSON.parse(marked.slice(RESULT_MARK.length)) as Invocation<unknown>), logs, stderr });
    });
  });
}

/** Invokes the bundled handler in `module` (e.g. `handlers/evaluate-cluster`) as its Lambda function would run it. */
async function invoke<T>(module: string, event: unknown, overrides: Record<string, string | undefined> = {}): Promise<Invocation<T>> {
  return (await runChild(['--invoke', `${module}.mjs`, JSON.stringify(event)], artifactOf(module).taskRoot, lambdaEnv(module, overrides))) as Invocation<T>;
}

/** The one cluster's ledger item as the emulator holds it. */
function ledgerItem(): Record<string, unknown> {
  const table = emulator!.dynamodbTables().find((t) => t.name === LEDGER_TABLE);
  expect(table?.items).toHaveLength(1);
  return table!.items[0] as Record<string, unknown>;
}

/** The result of a successful invocation; otherwise a failure that shows the error and what was logged. */
function resultOf<T>(invocation: Invocation<T>): T {
  if (!invocation.ok) throw new Error(`invocation failed: ${invocation.error.name}: ${invocation.error.message}\n${JSON.stringify(invocation.logs)}\n${invocation.stderr}`);
  return invocation.result;
}

beforeAll(async () => {
  await mkdir(join(ROOT, '.scratch'), { recursive: true });
  scratch = await mkdtemp(join(ROOT, '.scratch', 'bundle-'));
  await packageInto(join(scratch, 'package'));
  template = JSON.parse(await readFile(join(scratch, 'package', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  const modules = new Map(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => [r.Properties.FunctionName, (r.Properties.Handler as string).replace(/\.[^.]+$/, '')]));
  artifacts = [];
  for (const { name, logicalId, zip } of functionZips(template)) {
    const zipPath = join(scratch, 'package', zip);
    const taskRoot = join(scratch, 'task', name);
    await mkdir(taskRoot, { recursive: true });
    const module = modules.get(template.Resources[logicalId]!.Properties.FunctionName)!;
    artifacts.push({ name, module, zipPath, bytes: (await readFile(zipPath)).length, taskRoot, files: await unzip(zipPath, taskRoot) });
  }
  await writeFile(join(scratch, 'invoke.mjs'), INVOKE_MJS);
  await writeFile(join(scratch, 'import-guard.mjs'), IMPORT_GUARD_MJS);

  emulator = await startEmulator({ state: STATE, clock: manualClock() });
  credentials = emulator.credentialsFor(SESSION_ARN);
  const rolePath = String(template.Resources.RemediateClusterRole?.Properties.Path ?? '/');
  selfRoleArn = `arn:aws:iam::${ACCOUNT}:role${rolePath}eks-endpoint-guard-remediate`;
}, 150_000);

afterAll(async () => {
  await emulator?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The SDK packages a handler's code uses, by its source: what it imports, statically or on demand (STS only to reach another account). */
async function sdkClientsOfSource(module: string): Promise<string[]> {
  const result = await build({ entryPoints: [join(ROOT, `${module}.ts`)], bundle: true, platform: 'node', format: 'esm', external: ['@aws-sdk/*'], write: false, metafile: true, outdir: join(scratch, 'clients'), logLevel: 'silent' });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  return [...new Set(imports.filter((i) => i.external && /^@aws-sdk\/(client-[^/]+|lib-dynamodb)$/.test(i.path) && i.path !== '@aws-sdk/client-sts').map((i) => i.path))].sort();
}

describe('the deployment artifacts', () => {
  it('are one zip per function, holding its own handler bundle, its source map and the policy, nothing else', () => {
    const functions = functionsOf(template);
    expect(artifacts.map((a) => a.module).sort()).toEqual(functions.map((f) => f.module).sort());
    // Every function deploys a zip of its own, not one shared by all.
    expect(new Set(artifacts.map((a) => a.zipPath)).size).toBe(functions.length);
    for (const a of artifacts) {
      expect({ name: a.name, files: [...a.files.keys()].sort() }).toEqual({ name: a.name, files: [`${a.module}.mjs`, `${a.module}.mjs.map`, 'policy.yaml'].sort() });
    }
    // Informational: what each function uploads.
    const width = Math.max(...artifacts.map((a) => a.name.length));
    const rows = [...artifacts].sort((x, y) => y.bytes - x.bytes).map((a) => `  ${a.name.padEnd(width)}  ${(a.bytes / 1024).toFixed(0).padStart(5)} KB (bundle ${(a.files.get(`${a.module}.mjs`)!.data.length / 1024).toFixed(0)} KB)`);
    process.stdout.write(`function zips:\n${rows.join('\n')}\n`);
  });

  it('unzip with a standard zip reader into intact files the Lambda runtime can read, the policy at the root', async () => {
    const policy = await readFile(join(ROOT, 'policy.yaml'), 'utf8');
    for (const a of artifacts) {
      const viaHelper = readZip(await readFile(a.zipPath));
      expect([...a.files.keys()].sort()).toEqual([...viaHelper.keys()].sort());
      for (const [name, { data, mode }] of a.files) {
        expect({ zip: a.name, name, same: data.equals(viaHelper.get(name)!) }).toEqual({ zip: a.name, name, same: true });
        // Lambda runs the code as a user other than the one that unpacked it: everything must be world-readable.
        expect({ zip: a.name, name, mode: (mode & 0o444).toString(8) }).toEqual({ zip: a.name, name, mode: '444' });
      }
      expect({ zip: a.name, policy: a.files.get('policy.yaml')?.data.toString('utf8') }).toEqual({ zip: a.name, policy });
    }
  });

  it('resolve each function\'s handler, as the Node.js runtime does, to one ES module that exports a function of that name', async () => {
    const functions = functionsOf(template);
    // One function per handler file, every one of them deployed.
    const sources = (await readdir(join(ROOT, 'handlers'))).filter((f) => f.endsWith('.ts'));
    expect(functions.map((f) => f.module).sort()).toEqual(sources.map((f) => `handlers/${f.replace(/\.ts$/, '')}`).sort());
    await Promise.all(
      functions.map(async (fn) => {
        const { files, taskRoot } = artifactOf(fn.module);
        // The runtime tries .js, .mjs, .cjs; only .mjs is ESM whatever package.json says (the zip has none).
        const candidates = ['.js', '.mjs', '.cjs'].filter((ext) => files.has(`${fn.module}${ext}`));
        expect({ handler: fn.module, candidates }).toEqual({ handler: fn.module, candidates: ['.mjs'] });
        const imported = await runChild(['--exports', `${fn.module}.mjs`], taskRoot, lambdaEnv(fn.module));
        const exportsByFile = resultOf(imported as Invocation<Record<string, Record<string, string>>>);
        expect({ file: fn.module, exports: exportsByFile[`${fn.module}.mjs`] }).toEqual({ file: fn.module, exports: { [fn.exportName]: 'function' } });
      }),
    );
  });

  it('hold the code of exactly the AWS SDK clients their handler uses, and import nothing but Node builtins', async () => {
    const bundles = artifacts.map((a) => ({ a, name: `${a.module}.mjs` }));
    for (const { a, name } of bundles) {
      // The source map lists every file whose code is in the bundle (sourcesContent is left out, the list is not).
      const { sources } = JSON.parse(a.files.get(`${name}.map`)!.data.toString('utf8')) as { sources: string[] };
      const inBundle = [...new Set(sources.map((src) => /node_modules\/(@aws-sdk\/(?:client-[^/]+|lib-dynamodb))\//.exec(src)?.[1]).filter((c): c is string => c !== undefined))].sort();
      expect({ function: a.name, clients: inBundle }).toEqual({ function: a.name, clients: await sdkClientsOfSource(a.module) });
    }

    // esbuild parses the bundles (comments and strings are not imports) and reports every import and import().
    const imported = new Set<string>();
    await build({
      entryPoints: bundles.map(({ a, name }) => join(a.taskRoot, name)),
      bundle: true,
      write: false,
      outdir: join(scratch, 'scan'),
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      plugins: [
        {
          name: 'record-imports',
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              if (args.kind === 'entry-point') return undefined;
              imported.add(args.path);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    // The banner's require (createRequire) is a local variable to esbuild: read the calls of esbuild's own
    // require helper (`__require`, which the minifier renames: found by its definition).
    const required = new Set<string>();
    for (const { a, name } of bundles) {
      const code = a.files.get(name)!.data.toString('utf8');
      const helper = /([\w$]+)\s*=\s*(?:\/\*[^*]*\*\/\s*)?\(\(?\w+\)?\s*=>\s*typeof require\s*(?:!==|<)\s*"u(?:ndefined)?"\s*\?\s*require\s*:/.exec(code)?.[1];
      expect({ name, helperFound: helper !== undefined || !code.includes('Dynamic require of') }).toEqual({ name, helperFound: true });
      const escaped = helper?.replace(/\$/g, '\\$');
      if (escaped) for (const m of code.matchAll(new RegExp(`(?<![\\w$.])${escaped}\\(\\s*"([^"]+)"\\s*\\)`, 'g'))) required.add(m[1]!);
      // An argument that is not a string literal could load anything at run time.
      const callees = ['import', ...(escaped ? [escaped] : [])].join('|');
      expect({ name, computed: code.match(new RegExp(`(?<![\\w$.])(?:${callees})\\(\\s*[^"'\\s)]`, 'g')) }).toEqual({ name, computed: null });
    }

    expect([...required].filter((s) => !isBuiltin(s))).toEqual([]);
    expect([...imported].filter((s) => !isBuiltin(s)).sort()).toEqual([]);

    // The child's import guard (used by every invocation below) does refuse what the bundle does not hold,
    // the AWS SDK included (the runtime's copy is not used).
    const probeRoot = join(scratch, 'probe');
    await mkdir(join(probeRoot, 'handlers'), { recursive: true });
    await writeFile(join(probeRoot, 'handlers/sdk.mjs'), "import { EKSClient } from '@aws-sdk/client-eks';\nexport const handler = async () => typeof EKSClient;\n");
    await writeFile(join(probeRoot, 'handlers/yaml.mjs'), "import { parse } from 'yaml';\nexport const handler = async () => typeof parse;\n");
    await writeFile(join(probeRoot, 'handlers/builtin.mjs'), "import { createHash } from 'node:crypto';\nexport const handler = async () => typeof createHash;\n");
    const env = lambdaEnv('handlers/evaluate-cluster');
    expect(await runChild(['--invoke', 'handlers/builtin.mjs', '{}'], probeRoot, env)).toMatchObject({ ok: true, result: 'function' });
    for (const [file, specifier] of [['handlers/sdk.mjs', '@aws-sdk/client-eks'], ['handlers/yaml.mjs', 'yaml']]) {
      expect(await runChild(['--invoke', file!, '{}'], probeRoot, env)).toMatchObject({ ok: false, error: { message: expect.stringContaining(`${specifier} (imported by`) } });
    }
  });
});

describe('the bundled handlers, against the emulator', () => {
  // One execution's state, built up step by step as the state machine would (each result under its ResultPath).
  const state: ExecutionState = {
    cluster: CLUSTER,
    executionName: `sweep-202601010000-${ACCOUNT}-${CLUSTER.name}`,
    startedAt: Date.now(),
    trigger: {
      kind: 'sweep',
      eventId: `sweep-202601010000-${ACCOUNT}-${CLUSTER.name}`,
      eventName: 'ScheduledSweep',
      eventTime: '2026-01-01T00:00:00Z',
      updateId: null,
      requested: null,
      actor: null,
      waitFor: 'none',
    },
  };

  it('acquire-lease takes the cluster\'s lease in the ledger table', async () => {
    state.lease = resultOf(await invoke<LeaseResult>('handlers/acquire-lease', state));

    expect(state.lease).toMatchObject({ acquired: true, handled: false });
    expect(template.Resources.LedgerTable?.Properties.TableName).toBe(LEDGER_TABLE);
    expect(ledgerItem()).toMatchObject({ pk: `${ACCOUNT}#${REGION}#${CLUSTER.name}`, doc: { lease: { holder: state.executionName } } });
  });

  it('evaluate-cluster judges the open cluster by the bundled policy: a violation, to be made private only', async () => {
    const assessment = resultOf(await invoke<EvaluateResult>('handlers/evaluate-cluster', state));

    expect(assessment).toMatchObject({ settled: true, timedOut: false });
    expect(assessment.evaluation).toMatchObject({
      verdict: 'violation',
      action: 'remediate',
      // policy.yaml, rule prod-private-only: accounts 111122223333, clusters prod-*, publicAccess forbidden.
      settings: { rule: 'prod-private-only', mode: 'enforce', publicAccess: 'forbidden', privateAccess: 'required' },
      observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'], vpcId: VPC_ID },
      target: { endpointPublicAccess: false, endpointPrivateAccess: true },
    });
    expect(assessment.evaluation!.violations.map((v) => v.code).sort()).toEqual(['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_ACCESS_FORBIDDEN']);
    state.assessment = assessment;
  });

  it('preflight-check finds the private endpoint resolvable in the cluster\'s VPC', async () => {
    state.preflight = resultOf(await invoke<PreflightResult>('handlers/preflight-check', state));

    expect(state.preflight).toEqual({ safe: true, checked: true, vpcId: VPC_ID, problems: [] });
  });

  it('remediate-cluster starts the update as the guard\'s session, which triage-event then ignores as SELF_REMEDIATION', async () => {
    const remediation = resultOf(await invoke<RemediateResult>('handlers/remediate-cluster', state));

    expect(remediation).toMatchObject({ status: 'started', target: { endpointPublicAccess: false, endpointPrivateAccess: true }, error: null });
    const cluster = emulator!.snapshot().clusters.find((c) => c.name === CLUSTER.name)!;
    expect(cluster.status).toBe('UPDATING');
    expect(cluster.updates).toEqual([expect.objectContaining({ id: remediation.updateId, type: 'EndpointAccessUpdate', status: 'InProgress' })]);

    const [trail, ...more] = emulator!.cloudTrailEvents().filter((e) => e.detail.eventName === 'UpdateClusterConfig');
    expect(more).toEqual([]);
    expect(trail!.detail).toMatchObject({
      userIdentity: { type: 'AssumedRole', arn: SESSION_ARN, sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/eks-endpoint-guard-remediate` } } },
      requestParameters: { name: CLUSTER.name },
      responseElements: { update: { id: remediation.updateId } },
    });
    // SELF_ROLE_ARNS as the template sets it: the role's ARN with its path, which the session ARN lacks.
    expect(selfRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/eks-endpoint-guard/eks-endpoint-guard-remediate`);
    const intake = resultOf(await invoke<IntakeResult>('handlers/triage-event', trail));
    expect(intake).toMatchObject({ triage: { decision: 'ignore', reason: 'SELF_REMEDIATION', cluster: CLUSTER }, executionName: null, started: false });
    state.remediation = remediation;
  });

  it('wait-for-revert follows the update to Successful, and verify-remediation finds the cluster compliant', async () => {
    const polled = resultOf(await invoke<PollResult>('handlers/wait-for-revert', state));
    expect(polled).toMatchObject({ done: false, status: 'InProgress', polls: 1 });

    emulator!.clock.advance((UPDATE_SECONDS + 1) * 1000);
    state.revert = resultOf(await invoke<PollResult>('handlers/wait-for-revert', { ...state, revert: polled }));
    expect(state.revert).toMatchObject({ done: true, status: 'Successful', polls: 2, timedOut: false });

    state.verification = resultOf(await invoke<VerifyResult>('handlers/verify-remediation', state));
    expect(state.verification.compliant).toBe(true);
    expect(state.verification.evaluation.observed).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
  });

  it('record-outcome records the revert in the ledger and releases the lease', async () => {
    state.record = resultOf(await invoke<RecordResult>('handlers/record-outcome', state));

    expect(state.record).toMatchObject({ outcome: 'remediated', publish: true, recheck: null });
    const item = ledgerItem() as { doc: { lease: unknown; reverts: { execution: string }[] }; expiresAt: number };
    expect(item.doc.lease).toBeNull();
    expect(item.doc.reverts).toEqual([expect.objectContaining({ execution: state.executionName })]);
    // The table's TTL attribute, in epoch seconds (not milliseconds).
    expect(item.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(item.expiresAt).toBeLessThan(Date.now() / 100);
  });

  it('notify-outcome publishes one structured alert to the topic, with the attributes subscriptions filter on', async () => {
    const notified = resultOf(await invoke<NotifyResult>('handlers/notify-outcome', state));

    expect(notified).toMatchObject({ outcome: 'remediated', severity: 'warning', published: true });
    const messages = emulator!.publishedMessages();
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({ messageId: notified.messageId, topicArn: TOPIC_ARN, messageStructure: 'json', subject: notified.subject });
    expect(message!.messageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'outcome' },
      severity: { DataType: 'String', StringValue: 'warning' },
      outcome: { DataType: 'String', StringValue: 'remediated' },
      account: { DataType: 'String', StringValue: ACCOUNT },
      region: { DataType: 'String', StringValue: REGION },
      cluster: { DataType: 'String', StringValue: CLUSTER.name },
    });
    // MessageStructure json: one message per protocol, and SNS requires the `default` one.
    const perProtocol = JSON.parse(message!.message) as Record<string, unknown>;
    expect(typeof perProtocol.default).toBe('string');
    expect(perProtocol.default).toContain(CLUSTER.name);
  });

  it('notify-outcome fails when the publish fails, logging the line the operations alarm\'s metric filter counts', async () => {
    const missingTopic = `arn:aws:sns:${REGION}:${ACCOUNT}:no-such-topic`;
    const invocation = await invoke('handlers/notify-outcome', state, { ALERT_TOPIC_ARN: missingTopic });

    expect(invocation.ok).toBe(false);
    const filter = Object.values(template.Resources).find((r) => r.Type === 'AWS::Logs::MetricFilter')!.Properties;
    const message = /^\{ \$\.message = "([^"]+)" \}$/.exec(filter.FilterPattern as string)?.[1];
    expect(message).toBe('alert publish failed');
    expect(filter.LogGroupName).toEqual({ Ref: 'NotifyOutcomeLogGroup' });
    expect(invocation.logs).toContainEqual(expect.objectContaining({ level: 'ERROR', message }));
  });

  it('sweep-unit lists and judges the (now compliant) cluster, one step per invocation, looped on its continuation as the state machine does', async () => {
    // The context gives 30 s and SWEEP_TIME_MARGIN_SECONDS keeps 30 s: no time left, so every invocation
    // takes exactly one step and returns its continuation, which must survive JSON between invocations.
    let unitState: UnitState = { unit: { account: ACCOUNT, region: REGION, accountContext: null }, sweepTime: '2026-01-01T06:00:00Z', continuation: null, result: null, done: false, waitSeconds: 0 };
    let invocations = 0;
    while (!unitState.done && invocations < 5) {
      unitState = resultOf(await invoke<UnitState>('handlers/sweep-unit', unitState));
      invocations += 1;
    }

    expect(unitState).toMatchObject({ done: true, result: { account: ACCOUNT, region: REGION, status: 'covered', listed: 1, judged: 1, violations: 0, started: 0, notJudgedCount: 0 } });
    // ListClusters, then DescribeCluster, then the step that finds nothing left.
    expect(invocations).toBe(3);
    expect(unitState.result!.invocations).toBe(3);
  });

  it('record-coverage keeps an incomplete sweep\'s record in the ledger table and warns the alert topic once', async () => {
    const before = emulator!.publishedMessages().length;
    const uncovered = '444455556666';
    const input: CoverageInput = {
      sweepTime: '2026-01-01T06:00:00Z',
      organizationId: 'o-a1b2c3d4e5',
      regions: [REGION],
      accounts: [ACCOUNT, uncovered],
      skipped: [],
      unitCount: 2,
      outcomes: [
        { c: { a: ACCOUNT, r: REGION, l: 1, j: 1 } },
        { c: { a: uncovered, r: REGION, st: 'uncovered', l: 0, j: 0, e: 'the member role cannot be used: AssumeRole failed: AccessDenied' } },
      ],
    };

    const recorded = resultOf(await invoke<RecordCoverageResult>('handlers/record-coverage', input));

    expect(recorded).toMatchObject({ alerted: true, record: { complete: false, accounts: { governed: 2, covered: 1, uncovered: [uncovered] } } });
    const items = emulator!.dynamodbTables().find((t) => t.name === LEDGER_TABLE)!.items as { pk: string; kind?: string }[];
    expect(items.filter((i) => i.kind === 'coverage').map((i) => i.pk).sort()).toEqual(['COVERAGE#2026-01-01T06:00:00Z', 'COVERAGE#latest']);
    const published = emulator!.publishedMessages().slice(before);
    expect(published).toEqual([expect.objectContaining({ messageId: recorded.messageId, topicArn: TOPIC_ARN })]);
    expect(published[0]!.messageAttributes).toMatchObject({ severity: { DataType: 'String', StringValue: 'warning' }, outcome: { DataType: 'String', StringValue: 'coverage-incomplete' } });
  });

  it('triage-event fails with InputError on an event the rule would not pass, and logs the failure', async () => {
    const event = { hello: 'world' };
    expect(matchesIntakeRule(event)).toBe(false);

    const invocation = await invoke('handlers/triage-event', event);
    expect(invocation).toMatchObject({ ok: false, error: { name: 'InputError' } });
    expect(invocation.logs).toEqual([expect.objectContaining({ level: 'ERROR', message: 'step failed', step: 'TriageEvent', errorName: 'InputError' })]);
  });

  it('a handler given a missing or invalid POLICY_FILE fails its first invocation, naming the file', async () => {
    const [missing, invalid] = await Promise.all([
      invoke('handlers/evaluate-cluster', state, { POLICY_FILE: 'no-such-policy.yaml' }),
      invoke('handlers/evaluate-cluster', state, { POLICY_FILE: join(ROOT, 'test/deploy/fixtures/bad-policy.yaml') }),
    ]);

    expect(missing).toMatchObject({ ok: false, error: { name: 'InputError', message: expect.stringContaining('policy no-such-policy.yaml: ENOENT') } });
    expect(invalid).toMatchObject({
      ok: false,
      error: { name: 'PolicyError', message: expect.stringContaining(`${join(ROOT, 'test/deploy/fixtures/bad-policy.yaml')}:7:24: defaults.allowedPublicCidrs[0]: not a valid CIDR block`) },
    });
    // The logger could not be built either, yet the failure is still logged as one JSON line.
    for (const failed of [missing, invalid]) {
      expect(failed.logs).toEqual([expect.objectContaining({ level: 'ERROR', message: 'step failed', step: 'EvaluateCluster' })]);
    }
  });
});
