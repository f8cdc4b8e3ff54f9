import { Command, InvalidArgumentError } from 'commander';
import { InputError } from '../../errors';
import type { ResolvedEmulatorState } from '../../emulator';
import { EXIT, readDocument, runCommand } from '../io';

type EmulatorCommandOptions = { port: number; state?: string; updateSeconds?: number; speed?: number; cloudtrailFile?: string };

function number(what: string, check: (n: number) => boolean) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !check(n)) throw new InvalidArgumentError(`${what}, got ${raw}`);
    return n;
  };
}

function banner(url: string, state: ResolvedEmulatorState, stateFile: string | undefined, updateSeconds: number, speed: number): string {
  const keys = state.accounts.flatMap((a) => a.accessKeys.map((k) => `    ${k.accessKeyId}  ${a.id}${a.name ? ` (${a.name})` : ''}  ${k.principalArn ?? `user/${k.user ?? 'local-user'}`}`));
  const account = state.defaultAccount ?? state.accounts[0]?.id ?? '123456789012';
  return [
    `eks-endpoint-guard emulator: EKS, EC2, SNS, STS, DynamoDB, Organizations and EventBridge on ${url}`,
    `  state: ${stateFile ?? '(empty)'}: ${state.accounts.length} accounts, ${state.clusters.length} clusters, ${state.vpcs.length} VPCs, ${state.topics.length} topics`,
    `  updates take ${updateSeconds} emulated seconds${speed !== 1 ? `; emulated time runs ${speed}x faster than real time` : ''}`,
    '',
    'Point the AWS CLI and SDKs at it:',
    `  export AWS_ENDPOINT_URL=${url}`,
    `  export AWS_ACCESS_KEY_ID=${account}    # a 12-digit key id acts as local-user in that account`,
    '  export AWS_SECRET_ACCESS_KEY=local       # any value: signatures are not checked',
    '  aws eks list-clusters --region us-east-1',
    ...(keys.length ? ['', '  Access keys from the state file (key id, account, principal):', ...keys] : []),
    '',
    `Control API: ${url}/_emulator/health, /_emulator/state, /_emulator/cloudtrail/events, /_emulator/sns/messages`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

/** `eks-endpoint-guard emulator`: runs the local AWS in the foreground until SIGINT or SIGTERM. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('Run a local AWS (EKS, EC2, SNS, STS, DynamoDB, Organizations, EventBridge) that the AWS CLI and SDKs can talk to, emitting CloudTrail events')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', number('the port must be an integer from 0 to 65535', (n) => Number.isInteger(n) && n >= 0 && n <= 65535), 4577)
    .option('--state <file>', 'state file (YAML or JSON) with accounts, VPCs, clusters and topics')
    .option('--update-seconds <s>', 'emulated seconds an update or cluster creation takes (default: the state file\'s, else 10)', number('update seconds must be a number >= 0', (n) => n >= 0))
    .option('--speed <factor>', 'run emulated time this many times faster than real time', number('the speed must be a number > 0', (n) => n > 0))
    .option('--cloudtrail-file <file>', 'append every CloudTrail event to this JSON Lines file')
    .action((opts: EmulatorCommandOptions) =>
      runCommand(async () => {
        // Loaded here, not at the top: the emulator (and the SDK it pulls in) is for this command only.
        const { realClock, scaledClock, startEmulator, parseEmulatorState } = await import('../../emulator');
        const state = opts.state ? parseEmulatorState(await readDocument(opts.state, 'state file'), opts.state) : parseEmulatorState({}, 'state');
        const speed = opts.speed ?? 1;
        const emulator = await startEmulator({
          port: opts.port,
          state,
          clock: speed === 1 ? realClock() : scaledClock(speed),
          ...(opts.updateSeconds !== undefined ? { updateSeconds: opts.updateSeconds } : {}),
          ...(opts.cloudtrailFile ? { cloudTrailFile: opts.cloudtrailFile } : {}),
        }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE') throw new InputError([`port ${opts.port} is already in use: choose another with --port`], { cause: err });
          throw err;
        });
        process.stdout.write(banner(emulator.url, state, opts.state, opts.updateSeconds ?? state.updateSeconds ?? 10, speed));
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        process.stderr.write(`received ${signal}, stopping the emulator\n`);
        await emulator.close();
        return EXIT.OK;
      }),
    );
}
