/**
 * `npm start`: the product's main job on one machine. Starts the emulator with demo/state.yaml, plays a
 * story of endpoint changes through the real AWS SDK, and lets the guard (real intake, real state
 * machine definition, real Lambda handlers) handle every CloudTrail event, printing progress and the
 * alerts as on-call people would read them. `demo --policy/--scenario` plays it on the user's own
 * policy and world, or plays the scenario's own steps the way `simulate` runs them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateClusterCommand, EKSClient, UpdateClusterConfigCommand, type UpdateClusterConfigCommandInput } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { parsePolicy, type Policy } from '../policy';
import type { ClusterRef } from '../policy/types';
import { manualClock, parseEmulatorState, startEmulator, type Emulator, type ResolvedEmulatorState } from '../emulator';
import { checkExpectations, describeExpectation, type ExpectationResult } from './expect';
import { startLocalGuard, type LocalGuard } from './local-guard';
import { projectRoot } from './paths';
import type { ProgressEvent } from './runner';
import { guardHome, memberDeployments, parseScenario, scenarioState, seedLedger, simulate, type Scenario, type SimulationReport } from './simulate';

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

/** The demo world's clock: a night in November 2026, before the policy's exemption for legacy-billing ends. */
const DEMO_START_MS = Date.UTC(2026, 10, 23, 2, 14, 0);
const DEMO_HOME = { account: '111122223333', region: 'us-east-1' };

type Chapter = {
  title: string;
  /** The cluster acted on: it must be in the world (for `create`: not yet, and its subnets must be). */
  cluster: ClusterRef;
  create?: { subnetIds: string[] };
  act: (emulator: Emulator) => Promise<void>;
};

/** The story; `stockPolicy` says whether it plays on policy.yaml, whose exemption one title mentions. */
function story(stockPolicy: boolean): Chapter[] {
  const prod = (name: string, region = 'us-east-1') => ({ name, account: '111122223333', region });
  const sandbox = (name: string) => ({ name, account: '444455556666', region: 'us-east-1' });
  const analyticsSubnets = ['subnet-0b1b2c3d4e5f60011', 'subnet-0b1b2c3d4e5f60012'];
  return [
    {
      title: 'alice opens production cluster prod-api to the whole internet (aws eks update-cluster-config)',
      cluster: prod('prod-api'),
      act: (emulator) => update(emulator, 'alice', 'us-east-1', { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }),
    },
    {
      title: 'bob narrows sandbox-dev to the office range 203.0.113.0/24 (console)',
      cluster: sandbox('sandbox-dev'),
      act: (emulator) => update(emulator, 'bob', 'us-east-1', { name: 'sandbox-dev', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24'] } }),
    },
    {
      title: 'carol creates cluster analytics with the EKS defaults (Terraform)',
      cluster: sandbox('analytics'),
      create: { subnetIds: analyticsSubnets },
      act: async (emulator) => {
        const client = clientAs(emulator, 'carol', 'us-east-1');
        try {
          await client.send(new CreateClusterCommand({ name: 'analytics', roleArn: 'arn:aws:iam::444455556666:role/eks-cluster', resourcesVpcConfig: { subnetIds: analyticsSubnets } }));
        } finally {
          client.destroy();
        }
      },
    },
    {
      title: 'dave opens prod-batch, whose VPC has DNS hostnames off (eksctl)',
      cluster: prod('prod-batch', 'eu-west-1'),
      act: (emulator) => update(emulator, 'dave', 'eu-west-1', { name: 'prod-batch', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }),
    },
    {
      title: stockPolicy ? 'erin opens legacy-billing, which has a policy exemption until 2027-03-31' : 'erin opens legacy-billing to 203.0.113.0/24 and 192.0.2.0/24 (aws eks update-cluster-config)',
      cluster: sandbox('legacy-billing'),
      act: (emulator) => update(emulator, 'erin', 'us-east-1', { name: 'legacy-billing', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24', '192.0.2.0/24'] } }),
    },
  ];
}

/** Why a chapter cannot be played in this world, or null when it can. */
function unplayable(chapter: Chapter, world: ResolvedEmulatorState): string | null {
  const { name, account, region } = chapter.cluster;
  const exists = world.clusters.some((c) => c.name === name && c.account === account && c.region === region);
  if (!chapter.create) return exists ? null : `the world has no cluster ${name} in ${account}/${region}`;
  if (exists) return `the world already has a cluster ${name} in ${account}/${region}`;
  const subnets = new Set(world.vpcs.filter((v) => v.account === account && v.region === region).flatMap((v) => v.subnetIds));
  const lacking = chapter.create.subnetIds.filter((s) => !subnets.has(s));
  return lacking.length > 0 ? `the world has no subnet ${lacking.join(', ')} in ${account}/${region}` : null;
}

function alertBox(write: Write, alert: { severity: string; subject: string; text: string }): void {
  write('');
  write(`  ┌─ SNS alert (${alert.severity}) ${'─'.repeat(50)}`);
  write(`  │ Subject: ${alert.subject}`);
  for (const line of alert.text.split('\n')) write(`  │ ${line}`);
  write(`  └${'─'.repeat(70)}`);
}

function writeSettings(write: Write, clusters: { name: string; account: string; region: string; config: { endpointPublicAccess: boolean; endpointPrivateAccess: boolean; publicAccessCidrs: string[] } }[]): void {
  write('');
  write('Final endpoint settings');
  for (const c of clusters) {
    const pub = c.config.endpointPublicAccess ? `public ${c.config.publicAccessCidrs.join(',')}` : 'public off';
    write(`  ${c.name.padEnd(16)} ${c.account}/${c.region.padEnd(10)} ${pub}; private ${c.config.endpointPrivateAccess ? 'on' : 'off'}`);
  }
}

/** Prints the expectations; resolves to the exit code (1 when one fails, as `simulate`). */
function writeExpectations(write: Write, results: ExpectationResult[] | undefined): number {
  if (!results) return 0;
  write('');
  write('Expectations');
  for (const r of results) write(`  ${(r.ok ? 'ok' : 'FAILED').padEnd(7)}${describeExpectation(r)}`);
  return results.some((r) => !r.ok) ? 1 : 0;
}

export type DemoOptions = {
  /** Real milliseconds each Wait state lasts. */
  waitMs?: number;
  /** The user's policy instead of policy.yaml. */
  policy?: { policy: Policy; source: string };
  /** The user's world instead of demo/state.yaml; its steps, if it has any, replace the story. */
  scenario?: { scenario: Scenario; source: string };
};

/** Plays the story (or the scenario's steps); resolves to the process exit code. */
export async function runDemo(write: Write = (l) => process.stdout.write(`${l}\n`), options: DemoOptions = {}): Promise<number> {
  const root = projectRoot();
  const policy = options.policy ?? { policy: parsePolicy(readFileSync(join(root, 'policy.yaml'), 'utf8'), 'policy.yaml'), source: 'policy.yaml' };
  if (options.scenario && options.scenario.scenario.steps.length > 0) return playSteps(write, policy, options.scenario, options.waitMs ?? 40);
  const story = await playStory(write, policy, options.policy === undefined, options.scenario, options.waitMs ?? 40);
  if (options.policy || options.scenario) return story;
  // The second act: one deployment governing an organization (demo/scenarios/organization).
  const dir = join(root, 'demo/scenarios/organization');
  const orgPolicy = { policy: parsePolicy(readFileSync(join(dir, 'policy.yaml'), 'utf8'), 'demo/scenarios/organization/policy.yaml'), source: 'demo/scenarios/organization/policy.yaml' };
  const orgScenario = { scenario: parseScenario(parse(readFileSync(join(dir, 'scenario.yaml'), 'utf8')), 'demo/scenarios/organization/scenario.yaml'), source: 'demo/scenarios/organization/scenario.yaml' };
  write('');
  write('════ Act 2: an AWS Organization, governed from one deployment');
  const act2 = await playSteps(write, orgPolicy, orgScenario, options.waitMs ?? 40);
  return Math.max(story, act2);
}

async function playStory(write: Write, policy: NonNullable<DemoOptions['policy']>, stockPolicy: boolean, world: DemoOptions['scenario'], waitMs: number): Promise<number> {
  const scenario = world?.scenario;
  const state = scenario ? scenarioState(scenario) : parseEmulatorState(parse(readFileSync(join(projectRoot(), 'demo/state.yaml'), 'utf8')), 'demo/state.yaml');
  const startMs = scenario ? (scenario.startTime ?? Date.now()) : DEMO_START_MS;
  const clock = manualClock(startMs);
  const home = scenario ? guardHome(scenario) : DEMO_HOME;
  const emulator = await startEmulator({ state, clock });
  const guard: LocalGuard = await startLocalGuard({
    emulator,
    policy: policy.policy,
    ...scenario?.guard,
    ...(scenario ? { members: memberDeployments(scenario) } : {}),
    homeAccount: home.account,
    homeRegion: home.region,
    waitMs,
    onProgress: progressPrinter(write),
  });
  let alertsShown = 0;
  const showAlerts = () => {
    for (const alert of guard.alerts().slice(alertsShown)) alertBox(write, alert);
    alertsShown = guard.alerts().length;
  };
  const chapter = async (title: string, act: () => Promise<void>) => {
    write('');
    write(`▶ ${title}`);
    await act();
    await guard.processPending();
    showAlerts();
  };

  write(`eks-endpoint-guard demo: emulator at ${emulator.url}, policy ${policy.source}${world ? `, world ${world.source}` : ''}, guard deployed in ${home.account}/${home.region}`);
  write(
    scenario
      ? `Emulated time starts at ${new Date(startMs).toISOString()}; Wait states advance the clock instead of sleeping.`
      : 'Emulated time: endpoint updates take 5 minutes, as on EKS; Wait states advance the clock instead of sleeping.',
  );
  try {
    if (scenario) await seedLedger(guard.ledger, scenario.ledger, clock.now());
    const chapters = story(stockPolicy);
    let played = 0;
    for (const c of chapters) {
      const why = unplayable(c, state);
      if (why === null) {
        played += 1;
        await chapter(c.title, () => c.act(emulator));
      } else {
        write('');
        write(`▷ skipped: ${c.title} (${why})`);
      }
    }
    if (played === 0) {
      write('');
      write(`Nothing to play: ${world?.source ?? 'the world'} has no steps, and none of the demo story fits its world (give it steps to play them instead).`);
    }
    write('');
    write('Summary');
    for (const e of guard.runner.executions) {
      write(`  ${e.cluster.name.padEnd(16)} ${e.outcome.padEnd(24)} ${String(e.stateTransitions).padStart(3)} transitions  ${Object.values(e.awsCalls).reduce((a, b) => a + b, 0)} AWS calls`);
    }
    const clusters = emulator.snapshot().clusters;
    writeSettings(write, clusters);
    if (!scenario?.expect) return 0;
    // The story's events that started no execution are not in this list (simulate reports them as `ignored`).
    const results = checkExpectations(scenario.expect, {
      executions: guard.runner.executions.map((e) => ({ cluster: e.cluster, outcome: e.outcome, reason: null })),
      clusters,
      alerts: guard.alerts(),
      pendingRechecks: guard.runner.pendingRechecks(),
    });
    return writeExpectations(write, results);
  } finally {
    guard.close();
    await emulator.close();
  }
}

function describeStep(step: Scenario['steps'][number]): string {
  if ('call' in step) {
    const when = step.during ? ` just before the guard enters ${step.during.state}${step.during.occurrence > 1 ? ` (time ${step.during.occurrence})` : ''}` : '';
    return `${step.as} calls ${step.call} on ${step.cluster} (${step.region})${when}`;
  }
  if ('fault' in step) return `fault: ${step.fault.kind}${'cluster' in step.fault && step.fault.cluster ? ` on ${step.fault.cluster}` : ''}`;
  if ('advance' in step) return `${step.advance}s of emulated time pass`;
  if ('settle' in step) return 'the guard handles the events so far';
  return 'the scheduled sweep runs';
}

/** The scenario's own steps, run as `simulate` runs them, shown as the story is. */
async function playSteps(write: Write, policy: NonNullable<DemoOptions['policy']>, world: NonNullable<DemoOptions['scenario']>, waitMs: number): Promise<number> {
  const { scenario, source } = world;
  const startMs = scenario.startTime ?? Date.now();
  const home = guardHome(scenario);
  write(`eks-endpoint-guard demo: policy ${policy.source}, the ${scenario.steps.length} step(s) of ${source}, guard deployed in ${home.account}/${home.region}`);
  write(`Emulated time starts at ${new Date(startMs).toISOString()}; Wait states advance the clock instead of sleeping.`);
  const report: SimulationReport = await simulate(scenario, policy.policy, {
    startTime: startMs,
    alerts: 'full',
    waitMs,
    onProgress: progressPrinter(write),
    beforeStep: (index) => {
      write('');
      write(`▶ step ${index}: ${describeStep(scenario.steps[index]!)}`);
    },
    onStep: (s) => write(`  ${(s.ok ? 'ok' : 'FAILED').padEnd(7)}step ${s.index}: ${s.result}`),
  });
  for (const alert of report.alerts) alertBox(write, { severity: alert.severity, subject: alert.subject, text: alert.text ?? '' });
  write('');
  write('Summary');
  for (const e of report.executions.filter((x) => x.stateTransitions > 0)) {
    write(`  ${(e.cluster?.name ?? '?').padEnd(16)} ${e.outcome.padEnd(24)} ${String(e.stateTransitions).padStart(3)} transitions  ${Object.values(e.awsCalls).reduce((a, b) => a + b, 0)} AWS calls`);
  }
  for (const o of report.operations) write(`  operations alarm${o.delivered ? '' : ' (NOT delivered)'}: ${o.subject}`);
  for (const p of report.pendingRechecks) write(`  re-check pending: ${p.cluster.name} attempt ${p.attempt} due ${p.dueAt}`);
  writeSettings(write, report.clusters);
  return writeExpectations(write, report.expectations);
}
