/**
 * Runs `sls package` (osls) on a throwaway copy of the service, offline and without AWS credentials, the
 * way `npm run package` does, and reads what it produced. A copy, because serverless-esbuild works in the
 * service folder (.esbuild/, .serverless/): tests must not race a developer's own packaging.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What packaging needs from the repository. */
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'policy.yaml', 'statemachine', 'scripts', 'src', 'handlers', 'test/deploy/fixtures'];

export type Template = {
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: unknown }>;
  Outputs?: Record<string, unknown>;
};

export type PackageRun = {
  exitCode: number;
  output: string;
  /** The CloudFormation template, when packaging succeeded. */
  template?: Template;
  /**
   * Each function's own deployment zip (`package: individually`), by the function's name in serverless.yml
   * (the zip's name): its size and its files by name, when packaging succeeded.
   */
  artifacts?: Record<string, FunctionArtifact>;
  /** The files of every function's zip together, by name (the one file they share, policy.yaml, is the same in each). */
  artifact?: Map<string, Buffer>;
  /** The CloudFormation parameter values a deploy would pass (provider.stackParameters), by key. */
  stackParameters?: Record<string, string>;
  seconds: number;
};

export type FunctionArtifact = {
  /** The zip's file name, as the function's Code.S3Key ends. */
  zip: string;
  /** The logical id of the function's AWS::Lambda::Function resource. */
  logicalId: string;
  bytes: number;
  files: Map<string, Buffer>;
};

/** The zip each function of a packaged template deploys, by the last part of its Code.S3Key. */
export function functionZips(template: Template): { name: string; logicalId: string; zip: string }[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const key = (r.Properties.Code as { S3Key?: unknown } | undefined)?.S3Key;
      if (typeof key !== 'string' || !key.endsWith('.zip')) throw new Error(`${logicalId} deploys no zip of its own (Code: ${JSON.stringify(r.Properties.Code)})`);
      const zip = key.slice(key.lastIndexOf('/') + 1);
      return { name: zip.replace(/\.zip$/, ''), logicalId, zip };
    });
}

/** Reads every entry of a zip file (stored or deflated, as serverless-esbuild writes them). */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + skip;
  }
  return entries;
}

/** The environment of a machine with no AWS credentials at all (jest's setup gives the tests fake ones). */
function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', SLS_TELEMETRY_DISABLED: '1' };
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'NODE_OPTIONS']) delete env[key];
  return env;
}

/** Packages a copy of the service with `--stage` and `--param` options; never throws for a failed packaging. */
export async function packageService(options: { stage?: string; params?: Record<string, string> } = {}): Promise<PackageRun> {
  const dir = await mkdtemp(join(tmpdir(), 'eks-endpoint-guard-package-'));
  try {
    for (const entry of SERVICE_FILES) await cp(join(ROOT, entry), join(dir, entry), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const args = [join(dir, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', options.stage ?? 'dev'];
    for (const [key, value] of Object.entries(options.params ?? {})) args.push(`--param=${key}=${value}`);
    const started = performance.now();
    const { exitCode, output } = await new Promise<{ exitCode: number; output: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: dir, env: credentialFreeEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ exitCode: code, output: `${stdout}${stderr}` });
      });
    });
    const seconds = (performance.now() - started) / 1000;
    if (exitCode !== 0) return { exitCode, output, seconds };
    const template = JSON.parse(await readFile(join(dir, '.serverless/cloudformation-template-update-stack.json'), 'utf8')) as Template;
    const artifacts: Record<string, FunctionArtifact> = {};
    const artifact = new Map<string, Buffer>();
    for (const { name, logicalId, zip } of functionZips(template)) {
      const data = await readFile(join(dir, '.serverless', zip));
      const files = readZip(data);
      artifacts[name] = { zip, logicalId, bytes: data.length, files };
      for (const [file, contents] of files) artifact.set(file, contents);
    }
    const state = JSON.parse(await readFile(join(dir, '.serverless/serverless-state.json'), 'utf8')) as {
      service: { provider: { stackParameters?: { ParameterKey: string; ParameterValue: string }[] } };
    };
    const stackParameters = Object.fromEntries((state.service.provider.stackParameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    return { exitCode, output, template, artifacts, artifact, stackParameters, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs cfn-lint (a Python tool, not an npm package) on a template; null when it is not installed. */
export async function cfnLint(template: Template | object, options: { ignoreChecks?: string[] } = {}): Promise<{ exitCode: number; output: string } | null> {
  try {
    execFileSync('cfn-lint', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = await mkdtemp(join(tmpdir(), 'eks-endpoint-guard-lint-'));
  try {
    const file = join(dir, 'template.json');
    await writeFile(file, JSON.stringify(template));
    // W3005 (redundant DependsOn) comes from osls's own function resources, not from serverless.yml.
    const ignore = options.ignoreChecks ?? ['W3005'];
    const args = ignore.length > 0 ? [file, '--ignore-checks', ...ignore] : [file];
    return await new Promise((resolve) => {
      execFile('cfn-lint', args, { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ exitCode: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
