/**
 * `npm start`: the product's main job on one machine. Starts the emulator with demo/state.yaml, plays a
 * story of endpoint changes through the real AWS SDK, and lets the guard (real intake, real state
 * machine definition, real Lambda handlers) handle every CloudTrail event, printing progress and the
 * alerts as on-call people would read them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateClusterCommand, EKSClient, UpdateClusterConfigCommand, type UpdateClusterConfigCommandInput } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { parsePolicy } from '../policy';
import { manualClock, parseEmulatorState, startEmulator, type Emulator } from './emulator';
import { startLocalGuard } from './local-guard';
import { projectRoot } from './paths';
import type { ProgressEvent } from './runner';

type Write = (line: string) => void;

const ACTORS = {
  alice: { arn: 'arn:aws:iam::111122223333:user/alice', sourceIp: '203.0.113.24', userAgent: 'aws-cli/2.17.20 md/command#eks.update-cluster-config' },
  bob: { arn: 'arn:aws:sts::444455556666:assumed-role/SandboxDeveloper/bob', sourceIp: '198.51.100.77', userAgent: 'Mozilla/5.0 (console.aws.amazon.com)' },
  carol: { arn: 'arn:aws:sts::444455556666:assumed-role/TerraformDeployer/carol-ci', sourceIp: '192.0.2.140', userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.9.5 aws-sdk-go-v2/1.30.3' },
  dave: { arn: 'arn:aws:iam::111122223333:user/dave', sourceIp: '203.0.113.99', userAgent: 'eksctl/0.190.0 aws-sdk-go/1.55.5' },
  erin: { arn: 'arn:aws:iam::444455556666:user/erin', sourceIp: '198.51.100.12', userAgent: 'aws-cli/2.17.20 md/command#eks.update-cluster-config' },
};
type ActorName = keyof typeof ACTORS;

function clientAs(emulator: Emulator, who: ActorName, region: string): EKSClient {
  const actor = ACTORS[who];
  return new EKSClient({ region, endpoint: emulator.url, credentials: emulator.credentialsFor(actor.arn, actor), maxAttempts: 1 });
}

async function update(emulator: Emulator, who: ActorName, region: string, input: UpdateClusterConfigCommandInput): Promise<void> {
  const client = clientAs(emulator, who, region);
  try {
    await client.send(new UpdateClusterConfigCommand(input));
  } finally {
    client.destroy();
  }
}

function progressPrinter(write: Write) {
  const stamp = (seconds: number) => `+${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return (e: ProgressEvent) => {
    if (e.kind === 'event') {
      const where = e.cluster ? `${e.cluster.name} ${e.cluster.account}/${e.cluster.region}` : '?';
      write(`  event    ${e.eventName} on ${where}: ${e.decision}${e.reason ? ` (${e.reason})` : ''}${e.decision === 'evaluate' ? (e.started ? ', execution started' : ', already running') : ''}`);
    } else if (e.kind === 'state') {
      // Choice states are bookkeeping; show the work and the waiting.
      if (e.type === 'Choice') return;
      const what = e.waitSeconds !== null ? `${e.state} (${e.waitSeconds}s)` : e.state;
      write(`  ${stamp(e.elapsedSeconds)}   ${e.cluster.name.padEnd(16)} ${what}`);
    } else {
      write(`  done     ${e.cluster.name}: ${e.outcome.toUpperCase()} after ${stamp(e.elapsedSeconds)} emulated, ${e.stateTransitions} state transitions`);
    }
  };
}

/** Plays the story; resolves to the process exit code. */
export async function runDemo(write: Write = (l) => process.stdout.write(`${l}\n`), options: { waitMs?: number } = {}): Promise<number> {
  const root = projectRoot();
  const policy = parsePolicy(readFileSync(join(root, 'policy.yaml'), 'utf8'), 'policy.yaml');
  const state = parseEmulatorState(parse(readFileSync(join(root, 'demo/state.yaml'), 'utf8')), 'demo/state.yaml');
  const clock = manualClock(Date.UTC(2026, 10, 23, 2, 14, 0));
  const emulator = await startEmulator({ state, clock });
  const guard = await startLocalGuard({ emulator, policy, homeAccount: '111122223333', homeRegion: 'us-east-1', waitMs: options.waitMs ?? 40, onProgress: progressPrinter(write) });
  let alertsShown = 0;
  const showAlerts = () => {
    for (const alert of guard.alerts().slice(alertsShown)) {
      write('');
      write(`  ┌─ SNS alert (${alert.severity}) ${'─'.repeat(50)}`);
      write(`  │ Subject: ${alert.subject}`);
      for (const line of alert.text.split('\n')) write(`  │ ${line}`);
      write(`  └${'─'.repeat(70)}`);
    }
    alertsShown = guard.alerts().length;
  };
  const chapter = async (title: string, act: () => Promise<void>) => {
    write('');
    write(`▶ ${title}`);
    await act();
    await guard.processPending();
    showAlerts();
  };

  write(`eks-endpoint-guard demo: emulator at ${emulator.url}, policy policy.yaml, guard deployed in 111122223333/us-east-1`);
  write('Emulated time: endpoint updates take 5 minutes, as on EKS; Wait states advance the clock instead of sleeping.');
  try {
    await chapter('alice opens production cluster prod-api to the whole internet (aws eks update-cluster-config)', () =>
      update(emulator, 'alice', 'us-east-1', { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }),
    );
    await chapter('bob narrows sandbox-dev to the office range 203.0.113.0/24 (console)', () =>
      update(emulator, 'bob', 'us-east-1', { name: 'sandbox-dev', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24'] } }),
    );
    await chapter('carol creates cluster analytics with the EKS defaults (Terraform)', async () => {
      const client = clientAs(emulator, 'carol', 'us-east-1');
      try {
        await client.send(
          new CreateClusterCommand({ name: 'analytics', roleArn: 'arn:aws:iam::444455556666:role/eks-cluster', resourcesVpcConfig: { subnetIds: ['subnet-0b1b2c3d4e5f60011', 'subnet-0b1b2c3d4e5f60012'] } }),
        );
      } finally {
        client.destroy();
      }
    });
    await chapter('dave opens prod-batch, whose VPC has DNS hostnames off (eksctl)', () =>
      update(emulator, 'dave', 'eu-west-1', { name: 'prod-batch', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }),
    );
    await chapter('erin opens legacy-billing, which has a policy exemption until 2027-03-31', () =>
      update(emulator, 'erin', 'us-east-1', { name: 'legacy-billing', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24', '192.0.2.0/24'] } }),
    );
    write('');
    write('Summary');
    for (const e of guard.runner.executions) {
      write(`  ${e.cluster.name.padEnd(16)} ${e.outcome.padEnd(24)} ${String(e.stateTransitions).padStart(3)} transitions  ${Object.values(e.awsCalls).reduce((a, b) => a + b, 0)} AWS calls`);
    }
    write('');
    write('Final endpoint settings');
    for (const c of emulator.snapshot().clusters) {
      const pub = c.config.endpointPublicAccess ? `public ${c.config.publicAccessCidrs.join(',')}` : 'public off';
      write(`  ${c.name.padEnd(16)} ${c.account}/${c.region.padEnd(10)} ${pub}; private ${c.config.endpointPrivateAccess ? 'on' : 'off'}`);
    }
    return 0;
  } finally {
    guard.close();
    await emulator.close();
  }
}
