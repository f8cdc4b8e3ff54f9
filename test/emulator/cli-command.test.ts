import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeUpdateCommand, EKSClient, ListClustersCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { DEMO_STATE_PATH } from './helpers';

// The CLI users run, built by `npm test` (and by `prepare` on `npm ci`).
const CLI = fileURLToPath(new URL('../../dist/cli.mjs', import.meta.url));

let dir: string;
const running: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'));
});
afterAll(() => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Exit = { code: number | null; stdout: string; stderr: string };

function start(args: string[]): { child: ChildProcess; output: () => Exit; exited: Promise<Exit>; url: Promise<string> } {
  const child = spawn(process.execPath, [CLI, 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  running.push(child);
  let stdout = '';
  let stderr = '';
  const output = () => ({ code: child.exitCode, stdout, stderr });
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const m = /export AWS_ENDPOINT_URL=(\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`the emulator exited before listening: ${stderr}`)));
  });
  url.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, output, exited, url };
}

describe('eks-endpoint-guard emulator', () => {
  it('runs in the foreground, prints how to use it, serves the state file and stops on SIGINT', async () => {
    const run = start(['--port', '0', '--state', DEMO_STATE_PATH]);
    const url = await run.url;
    expect(run.output().stdout).toContain('aws eks list-clusters --region us-east-1');
    expect(run.output().stdout).toContain('export AWS_ACCESS_KEY_ID=111122223333');
    expect(run.output().stdout).toContain('AKIAPRODALICE0000001');
    expect(await (await fetch(`${url}/_emulator/health`)).json()).toMatchObject({ status: 'ok' });

    const eks = new EKSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: '444455556666', secretAccessKey: 'x' } });
    expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['sandbox-dev']);
    eks.destroy();

    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('received SIGINT');
  });

  it('runs emulated time faster with --speed', async () => {
    const run = start(['--port', '0', '--state', DEMO_STATE_PATH, '--update-seconds', '600', '--speed', '1200']);
    const url = await run.url;
    expect(run.output().stdout).toContain('updates take 600 emulated seconds; emulated time runs 1200x faster');
    const eks = new EKSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: '444455556666', secretAccessKey: 'x' } });
    const { update } = await eks.send(new UpdateClusterConfigCommand({ name: 'sandbox-dev', resourcesVpcConfig: { endpointPrivateAccess: true } }));
    let status = update?.status;
    const deadline = Date.now() + 10_000;
    while (status === 'InProgress' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await eks.send(new DescribeUpdateCommand({ name: 'sandbox-dev', updateId: update!.id! }))).update?.status;
    }
    eks.destroy();
    expect(status).toBe('Successful');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('refuses a bad state file with one line per problem and exit code 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'accounts: [{ id: "111122223333" }]\nclusters:\n  - { name: c1, account: "12", region: us-east-1, endpointPublicAccess: false }\n  - { name: c2, account: "111122223333", region: nowhere }\ncolour: red\n');
    const exit = await start(['--state', file]).exited;
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr.trim().split('\n')).toEqual([
      `error: ${file}: clusters[0].account: must be a 12-digit AWS account id`,
      `error: ${file}: clusters[1].region: must be an AWS region name such as us-east-1`,
      `error: ${file}: unknown key "colour"`,
    ]);
  });

  it.each([
    [['--state', '/nonexistent/state.yaml'], 'error: state file /nonexistent/state.yaml: no such file'],
    [['--speed', '0'], 'the speed must be a number > 0, got 0'],
    [['--port', '70000'], 'the port must be an integer from 0 to 65535, got 70000'],
  ])('refuses %p with exit code 2', async (args, message) => {
    const exit = await start(args).exited;
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain(message);
  });
});
