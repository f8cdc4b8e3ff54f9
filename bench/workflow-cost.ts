/**
 * How close the guard gets to the exposure floor, and what one enforced event costs, for three ways of
 * waiting out EKS updates, side by side in one run: `npm run bench:workflow`.
 *
 *   baseline  v0.1: WaitForChange/WaitForRevert Lambdas, Wait states doubling from 30 s to 180 s
 *   naive     the same Lambdas every 15 s
 *   tracker   the deployed design: the Express tracker polls every 10 s (statemachine/track-change.asl.yml)
 *
 * Baseline and naive are the deployed definition with its tracker Tasks replaced by the Wait states they
 * replaced, so they never drift from the rest of the workflow. Every case runs the real definition and
 * handlers under the local runner, against the emulator, on its emulated clock.
 *
 * Cases (fixed seed): 100 violating endpoint changes (UpdateClusterConfig opening a private cluster to
 * 0.0.0.0/0), the violating update and the guard's revert each lasting 1-30 minutes, and 20 clusters
 * created open (CreateCluster: creation 10-15 minutes, revert 1-30 minutes). Each Task also takes a
 * modelled time (TASK_LATENCY_MS) so lags count the Lambda hops after an update ends, not only the waits.
 *
 *   detection lag   violating update (or creation) ends -> the guard's UpdateClusterConfig
 *   alert lag       the guard's update ends -> the outcome alert is published
 *   exposure/floor  (revert ends - violation ends) / revert duration: the floor is the revert itself,
 *                   since EKS refuses a second update while one runs and says nothing when one ends
 *   cost            Standard transitions + Express requests and duration + Lambda requests and duration
 *
 * Then the policy's throughput in process, each function's import time and the `check` CLI's wall time
 * (bench/policy.ts, bench/startup.ts), so one run prints every figure README quotes.
 * Usage: npm run bench:workflow [-- --events N --creates N --skip-startup]
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { CreateClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { startEmulator, type Emulator, type EmulatorState } from '../src/emulator';
import { manualClock } from '../src/emulator/clock';
import { parsePolicy } from '../src/policy';
import { loadDefinition, type Definition } from '../src/local/definition';
import { startLocalGuard } from '../src/local/local-guard';
import type { ExecutionRecord } from '../src/local/runner';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '100' }, creates: { type: 'string', default: '20' }, 'skip-startup': { type: 'boolean', default: false }, seed: { type: 'string', default: '20261201' } } });
const EVENTS = Number(args.events);
const CREATES = Number(args.creates);

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const VPC = 'vpc-0a1b2c3d4e5f60001';
const SUBNET = 'subnet-0a1b2c3d4e5f60011';

/** Modelled time of one Task: a Lambda invocation (warm, with its AWS calls), an SDK integration call, starting a nested execution. */
const TASK_LATENCY_MS = { lambda: 300, sdk: 100, execution: 200 };

// List prices, us-east-1, when this was written.
const PRICE = {
  /** Standard workflows: per state transition (a Task's retry is one too). */
  standardTransition: 0.025 / 1000,
  /** Express workflows: per request, and per GB-second of duration, billed in 100 ms steps at 64 MB at least. */
  expressRequest: 1.0 / 1_000_000,
  expressGbSecond: 0.00001667,
  expressGb: 64 / 1024,
  /** Lambda (arm64): per request, and per GB-second at the functions' 256 MB, for the modelled duration above. */
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000133334,
  lambdaGb: 256 / 1024,
};
const TARGETS = { lagP95: 15, lagMax: 20, exposureP95: 1.1, costP95: 0.005 };

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Case = { kind: 'update' | 'create'; cluster: string; changeSeconds: number; revertSeconds: number };

function cases(): Case[] {
  const next = random(Number(args.seed));
  const between = (lo: number, hi: number) => Math.round(lo + next() * (hi - lo));
  const out: Case[] = [];
  for (let i = 0; i < EVENTS; i += 1) out.push({ kind: 'update', cluster: `prod-${String(i).padStart(3, '0')}`, changeSeconds: between(60, 1800), revertSeconds: between(60, 1800) });
  for (let i = 0; i < CREATES; i += 1) out.push({ kind: 'create', cluster: `prod-new-${String(i).padStart(3, '0')}`, changeSeconds: between(600, 900), revertSeconds: between(60, 1800) });
  return out;
}

type Variant = { name: string; label: string; definition?: Definition };

/** The deployed definition with each tracker Task replaced by the Wait state the Lambdas polled with before it. */
function lambdaPolling(wait: (pollResult: string) => Record<string, unknown>): Definition {
  const definition = structuredClone(loadDefinition().definition);
  const states = definition.States as Record<string, Record<string, unknown>>;
  for (const [tracker, pause, result, poll] of [
    ['TrackChange', 'PauseBeforeChangePoll', '$.change', 'WaitForChange'],
    ['TrackRevert', 'PauseBeforeRevertPoll', '$.revert', 'WaitForRevert'],
    ['TrackBusyCluster', 'PauseBeforeEvaluation', '$.assessment', 'EvaluateCluster'],
  ] as const) {
    delete states[tracker];
    states[pause] = { Type: 'Wait', ...wait(result), Next: poll };
    for (const state of Object.values(states)) {
      for (const choice of (state.Choices as { Next: string }[] | undefined) ?? []) if (choice.Next === tracker) choice.Next = pause;
    }
  }
  return definition;
}

const VARIANTS: Variant[] = [
  { name: 'baseline', label: 'v0.1: Lambda polls, wait doubling 30 s to 180 s', definition: lambdaPolling((result) => ({ SecondsPath: `${result}.waitSeconds` })) },
  { name: 'naive', label: 'Lambda polls every 15 s', definition: lambdaPolling(() => ({ Seconds: 15 })) },
  { name: 'tracker', label: 'Express tracker, polls every 10 s (deployed)' },
];

function world(all: Case[]): EmulatorState {
  const { startTime: _startTime, ...base } = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
  return {
    ...base,
    clusters: all.filter((c) => c.kind === 'update').map((c) => ({ name: c.cluster, account: ACCOUNT, region: REGION, vpcId: VPC, endpointPublicAccess: false, endpointPrivateAccess: true })),
  } as unknown as EmulatorState;
}

type Measured = { kind: Case['kind']; outcome: string; detectionLag: number; alertLag: number; exposureRatio: number; transitions: number; lambdas: number; trackerRuns: number; trackerSeconds: number; awsCalls: number; cost: number };

function costOf(e: ExecutionRecord): number {
  const lambdas = e.lambdaInvocations + 1; // + the intake
  const lambda = lambdas * (PRICE.lambdaRequest + PRICE.lambdaGb * (TASK_LATENCY_MS.lambda / 1000) * PRICE.lambdaGbSecond);
  const express = e.tracker.executions * PRICE.expressRequest + (e.tracker.billedMs / 1000) * PRICE.expressGb * PRICE.expressGbSecond;
  return e.stateTransitions * PRICE.standardTransition + express + lambda;
}

async function runVariant(variant: Variant, all: Case[]): Promise<Measured[]> {
  const emulator: Emulator = await startEmulator({ state: world(all), clock: manualClock(Date.UTC(2026, 0, 1)) });
  const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
  const guard = await startLocalGuard({ emulator, policy, homeAccount: ACCOUNT, homeRegion: REGION, runner: { taskLatencyMs: TASK_LATENCY_MS, ...(variant.definition ? { definition: variant.definition } : {}) } });
  const alice = new EKSClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(ALICE, { sourceIp: '203.0.113.24', userAgent: 'aws-cli/2.17.20' }), maxAttempts: 1 });
  const topic = guard.topicArn;
  const out: Measured[] = [];
  try {
    for (const c of all) {
      emulator.setUpdateSeconds(c.changeSeconds);
      const calledAt = emulator.clock.now();
      if (c.kind === 'update') {
        await alice.send(new UpdateClusterConfigCommand({ name: c.cluster, resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }));
      } else {
        await alice.send(new CreateClusterCommand({ name: c.cluster, roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster`, resourcesVpcConfig: { subnetIds: [SUBNET], endpointPublicAccess: true, endpointPrivateAccess: false } }));
      }
      // The violating change is accepted: the guard's own revert takes the case's other duration.
      emulator.setUpdateSeconds(c.revertSeconds);
      const executions = (await guard.processPending()).flatMap((d) => d.executions);
      const e = executions.find((x) => x.cluster.name === c.cluster);
      if (!e) throw new Error(`${variant.name} ${c.cluster}: no execution ran`);
      const snapshot = emulator.snapshot().clusters.find((x) => x.name === c.cluster)!;
      const updates = snapshot.updates.filter((u) => !u.startedByEks);
      const revert = updates[updates.length - 1]!;
      const alert = emulator
        .publishedMessages()
        .filter((m) => m.topicArn === topic && m.subject?.includes(c.cluster) && (m.messageAttributes as Record<string, { StringValue?: string }>).kind?.StringValue !== 'detection')
        .at(-1);
      if (e.outcome !== 'remediated' || !alert || updates.length < (c.kind === 'update' ? 2 : 1)) throw new Error(`${variant.name} ${c.cluster}: outcome ${e.outcome}, ${updates.length} update(s), alert ${alert ? 'sent' : 'missing'}: ${e.error ?? ''}`);
      // The violation is live from the end of the violating update, or of the creation (CREATING until then).
      const changeEnd = c.kind === 'update' ? Date.parse(updates[0]!.endsAt) : calledAt + c.changeSeconds * 1000;
      const revertStart = Date.parse(revert.createdAt);
      const revertEnd = Date.parse(revert.endsAt);
      out.push({
        kind: c.kind,
        outcome: e.outcome,
        detectionLag: (revertStart - changeEnd) / 1000,
        alertLag: (Date.parse(alert.timestamp) - revertEnd) / 1000,
        exposureRatio: (revertEnd - changeEnd) / (revertEnd - revertStart),
        transitions: e.stateTransitions,
        lambdas: e.lambdaInvocations + 1,
        trackerRuns: e.tracker.executions,
        trackerSeconds: e.tracker.billedMs / 1000,
        awsCalls: Object.values(e.awsCalls).reduce((a, b) => a + b, 0),
        cost: costOf(e),
      });
      emulator.clock.advance(60_000);
    }
  } finally {
    alice.destroy();
    guard.close();
    await emulator.close();
  }
  return out;
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
const stats = (xs: number[]) => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: Math.max(...xs) });
const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

function row(variant: Variant, ms: Measured[]): string[] {
  const d = stats(ms.map((m) => m.detectionLag));
  const a = stats(ms.map((m) => m.alertLag));
  const x = stats(ms.map((m) => m.exposureRatio));
  const c = stats(ms.map((m) => m.cost));
  const p50 = (k: keyof Measured) => f0(quantile(ms.map((m) => m[k] as number), 0.5));
  return [variant.name, `${f1(d.p50)} / ${f1(d.p95)} / ${f1(d.max)}`, `${f1(a.p50)} / ${f1(a.p95)} / ${f1(a.max)}`, `${f2(x.p50)} / ${f2(x.p95)} / ${f2(x.max)}`, p50('transitions'), p50('lambdas'), p50('trackerRuns'), p50('awsCalls'), `$${c.p50.toFixed(4)} / $${c.p95.toFixed(4)}`];
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const HEADER = ['schedule', 'detection lag p50 / p95 / max (s)', 'alert lag p50 / p95 / max (s)', 'exposure ÷ floor p50 / p95 / max', 'transitions p50', 'Lambda invocations p50', 'tracker runs p50', 'AWS calls p50', 'cost per event p50 / p95'];

const all = cases();
console.log(`# bench:workflow — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`${EVENTS} UpdateClusterConfig events (update and revert 1-30 min) and ${CREATES} CreateCluster events (creation 10-15 min), seed ${args.seed}; modelled Task time: Lambda ${TASK_LATENCY_MS.lambda} ms, SDK call ${TASK_LATENCY_MS.sdk} ms, nested start ${TASK_LATENCY_MS.execution} ms\n`);
const results = new Map<string, Measured[]>();
for (const variant of VARIANTS) {
  const started = performance.now();
  results.set(variant.name, await runVariant(variant, all));
  console.error(`${variant.name}: ${all.length} cases in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
for (const [title, kind] of [
  ['UpdateClusterConfig', 'update'],
  ['CreateCluster', 'create'],
] as const) {
  console.log(`## ${title}\n`);
  console.log(table(HEADER, VARIANTS.map((v) => row(v, results.get(v.name)!.filter((m) => m.kind === kind)))));
  console.log('');
}
const ours = results.get('tracker')!.filter((m) => m.kind === 'update');
const check = (label: string, value: number, target: number, unit = '') => console.log(`${value <= target ? 'PASS' : 'FAIL'}  ${label}: ${value.toFixed(unit === '$' ? 4 : 2)}${unit === '$' ? '' : unit} (target <= ${target}${unit})`);
const everyTracker = results.get('tracker')!;
check('tracker detection lag p95', stats(everyTracker.map((m) => m.detectionLag)).p95, TARGETS.lagP95, ' s');
check('tracker detection lag max', stats(everyTracker.map((m) => m.detectionLag)).max, TARGETS.lagMax, ' s');
check('tracker alert lag p95', stats(everyTracker.map((m) => m.alertLag)).p95, TARGETS.lagP95, ' s');
check('tracker alert lag max', stats(everyTracker.map((m) => m.alertLag)).max, TARGETS.lagMax, ' s');
check('tracker exposure ÷ floor p95', stats(ours.map((m) => m.exposureRatio)).p95, TARGETS.exposureP95);
check('tracker cost per event p95 ($)', stats(ours.map((m) => m.cost)).p95, TARGETS.costP95, '$');

// The rest of the figures, in the same run: the compiled policy's throughput, then start-up.
const { measurePolicy, formatPolicy } = await import('./policy');
console.log('\n## Policy evaluation (in process)\n');
console.log(formatPolicy(await measurePolicy()));
if (!args['skip-startup']) {
  const { measureStartup, formatStartup } = await import('./startup');
  console.log('\n## Start-up: each function\'s import time and the CLI\n');
  console.log(formatStartup(await measureStartup()));
}
