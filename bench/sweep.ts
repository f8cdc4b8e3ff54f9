/**
 * The organization sweep at scale: 200 accounts × 4 regions, 10,000 clusters, EKS rate-limited to 50
 * requests/s per account and region (a token bucket, burst 50, on the wall clock), swept by the real
 * state machine (statemachine/sweep-organization.asl.yml) under the local runner with the real
 * handlers, against the emulator. Not a timed test: it reports. Run: npm run bench:sweep
 * Options: --no-baseline (skip the run without a rate limit), --json-only.
 */
import { parsePolicy } from '../src/policy';
import { manualClock, startEmulator, type EmulatorState } from '../src/emulator';
import { GUARD_ROLE_NAME } from '../src/local/local-guard';
import { startSweepHarness } from '../src/local/sweep-harness';
import type { SweepRunRecord } from '../src/local/runner';
import type { Log } from '../src/workflow/deps';

const ACCOUNTS = 200;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2'];
const CLUSTERS = 10_000;
const RATE = 50; // requests/s per account and region (EKS)
const BURST = 50; // the bucket: one second's worth
const PAGE = 100; // ListClusters page size the sweep asks for
const MAP_CONCURRENCY = 40; // statemachine/sweep-organization.asl.yml MaxConcurrency
const LAMBDA_TIMEOUT_MS = 300_000;
const args = new Set(process.argv.slice(2));

// List prices (us-east-1, as published when this was written). Only what a sweep itself costs: the
// enforcement executions it starts are priced by `npm run bench:workflow`.
const PRICES = {
  transition: 0.025 / 1000, // Step Functions Standard, per state transition
  lambdaRequest: 0.2 / 1_000_000, // per invocation
  lambdaGbSecond: 0.0000133334, // arm64, per GB-s
  dynamoWriteUnit: 0.625 / 1_000_000, // on-demand, per write request unit (1 KB)
  logsPerGb: 0.5, // CloudWatch Logs ingestion, per GB
  snsPublish: 0.5 / 1_000_000, // per publish (the coverage warning, when incomplete)
};
// Memory of the sweep functions as deployed (serverless.yml); Lambda bills GB-s of the configured memory.
const MEMORY_MB: Record<string, number> = { listSweepUnits: 512, sweepUnit: 512, recordCoverage: 256 };
// Lambda's own log lines per invocation (START, END, REPORT), bytes.
const LAMBDA_LOG_OVERHEAD = 350;

const id = (n: number) => String(100000000000 + n);
const HOME = id(1); // the delegated administrator: the guard's home
const MGMT = id(0);

/**
 * Clusters per unit: 8 platform accounts with 150 clusters in each region (4,800), and 5,200 spread
 * over the other 768 units (6 or 7 each). Skewed as organizations are: most accounts have a few.
 */
function clusterCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  let unit = 0;
  for (let a = 0; a < ACCOUNTS; a += 1) {
    for (const region of REGIONS) {
      const platform = a >= 2 && a < 10;
      counts.set(`${id(a)}/${region}`, platform ? 150 : unit < 592 ? 7 : 6);
      if (!platform) unit += 1;
    }
  }
  const total = [...counts.values()].reduce((x, y) => x + y, 0);
  if (total !== CLUSTERS) throw new Error(`the seed has ${total} clusters, not ${CLUSTERS}`);
  return counts;
}

function state(counts: Map<string, number>): EmulatorState {
  const accounts = Array.from({ length: ACCOUNTS }, (_, a) => id(a));
  const clusters: NonNullable<EmulatorState['clusters']> = [];
  let n = 0;
  for (const [key, count] of counts) {
    const [account, region] = key.split('/') as [string, string];
    for (let i = 0; i < count; i += 1, n += 1) {
      // Every 50th cluster is open to the world: a violation, so 200 executions.
      const open = n % 50 === 0;
      clusters.push({ name: `c-${String(i).padStart(3, '0')}`, account, region, endpointPublicAccess: true, endpointPrivateAccess: true, ...(open ? {} : { publicAccessCidrs: ['203.0.113.0/24'] }) });
    }
  }
  return {
    organization: {
      id: 'o-benchmark01',
      managementAccount: MGMT,
      delegatedAdministrators: [HOME],
      units: [{ name: 'Security' }, { name: 'Platform' }, { name: 'Workloads' }, { name: 'Prod', parent: 'Workloads' }, { name: 'Dev', parent: 'Workloads' }],
      accounts: accounts.map((a, i) => ({ id: a, name: `acct-${i}`, unit: i === 0 ? undefined : i === 1 ? 'Security' : i < 10 ? 'Platform' : i % 2 ? 'Prod' : 'Dev', tags: { env: i % 2 ? 'prod' : 'dev' } })),
    },
    // The member stack everywhere but home (which uses the functions' own role): the read role trusting the guard.
    roles: accounts.filter((a) => a !== HOME).map((account) => ({ account, name: GUARD_ROLE_NAME, trust: [`arn:aws:iam::${HOME}:role/${GUARD_ROLE_NAME}`] })),
    clusters,
  };
}

/** Counts the bytes the sweep functions log (what CloudWatch Logs ingests), as JSON lines. */
function byteCountingLog(): { log: Log; bytes: () => number } {
  let bytes = 0;
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    bytes += Buffer.byteLength(JSON.stringify({ level, message, service: 'eks-endpoint-guard', timestamp: '2026-01-01T06:00:00.000Z', ...extra }), 'utf8') + 1;
  };
  return { log: { debug: () => undefined, info: line('INFO'), warn: line('WARN'), error: line('ERROR') }, bytes: () => bytes };
}

type Run = { record: SweepRunRecord; attempts: Record<string, number>; throttled: Record<string, number>; logBytes: number };

async function sweep(rateLimited: boolean, counts: Map<string, number>): Promise<Run> {
  const emulator = await startEmulator({ clock: manualClock(Date.parse('2026-01-01T06:00:05Z')), state: state(counts) });
  try {
    if (rateLimited) emulator.setFault({ kind: 'rateLimit', service: 'eks', perSecond: RATE, burst: BURST });
    const { log, bytes } = byteCountingLog();
    const policy = parsePolicy('version: 1\ndefaults: { publicAccess: restricted, privateAccess: required, allowedPublicCidrs: [203.0.113.0/24] }\n', 'bench policy');
    const harness = await startSweepHarness({ emulator, policy, homeAccount: HOME, homeRegion: 'us-east-1', regions: REGIONS, log });
    // Real waits: a Wait state's pause is real time, so the wall time includes every pause throttling caused.
    const record = await harness.runner.sweepOrganization('2026-01-01T06:00:00Z', { lambdaTimeoutMs: LAMBDA_TIMEOUT_MS, realWaits: true, drain: false });
    harness.close();
    return { record, attempts: { ...harness.attempts }, throttled: { ...harness.throttled }, logBytes: bytes() };
  } finally {
    await emulator.close();
  }
}

/**
 * The fastest the rate limit allows. A unit needs c = ⌈n/100⌉ ListClusters pages (at least 1) plus n
 * DescribeCluster calls; a full bucket pays for the first BURST at once, the rest come at RATE/s:
 * t(u) = max(0, c − BURST) / RATE. Units have their own buckets (EKS throttles per account and region),
 * so with unbounded fan-out the sweep takes max t(u); with at most C units at once it also takes at
 * least Σ t(u) / C. Ideal = max(max t(u), Σ t(u) / C).
 */
function ideal(counts: Map<string, number>): { seconds: number; maxUnit: number; sumOverC: number; calls: number } {
  const times = [...counts.values()].map((n) => Math.max(0, Math.max(1, Math.ceil(n / PAGE)) + n - BURST) / RATE);
  const calls = [...counts.values()].reduce((s, n) => s + Math.max(1, Math.ceil(n / PAGE)) + n, 0);
  const maxUnit = Math.max(...times);
  const sumOverC = times.reduce((a, b) => a + b, 0) / MAP_CONCURRENCY;
  return { seconds: Math.max(maxUnit, sumOverC), maxUnit, sumOverC, calls };
}

function cost(run: Run) {
  const r = run.record;
  const invocations = Object.values(r.lambdaInvocations).reduce((a, b) => a + b, 0);
  const gbSeconds = Object.entries(r.lambdaMs).reduce((s, [fn, ms]) => s + (ms / 1000) * ((MEMORY_MB[fn] ?? 256) / 1024), 0);
  const recordKb = Math.ceil(Buffer.byteLength(JSON.stringify(r.coverage ?? {}), 'utf8') / 1024);
  const writeUnits = 2 * recordKb; // the record under its sweep time and as `latest`
  const logBytes = run.logBytes + invocations * LAMBDA_LOG_OVERHEAD;
  const parts = {
    stepFunctions: r.stateTransitions * PRICES.transition,
    lambdaRequests: invocations * PRICES.lambdaRequest,
    lambdaDuration: gbSeconds * PRICES.lambdaGbSecond,
    dynamodb: writeUnits * PRICES.dynamoWriteUnit,
    logs: (logBytes / 1024 ** 3) * PRICES.logsPerGb,
    sns: r.alerted ? PRICES.snsPublish : 0,
    eksOrganizationsSts: 0,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { total, parts, inputs: { stateTransitions: r.stateTransitions, invocations, gbSeconds, writeUnits, logBytes } };
}

const counts = clusterCounts();
const bound = ideal(counts);
const baseline = args.has('--no-baseline') ? null : await sweep(false, counts);
const limited = await sweep(true, counts);
const r = limited.record;
const c = r.coverage;
const price = cost(limited);
const perSweepDay = price.total * 4; // every 6 hours

const report = {
  seed: { accounts: ACCOUNTS, regions: REGIONS.length, units: counts.size, clusters: CLUSTERS, largestUnit: Math.max(...counts.values()), rateLimit: { perSecond: RATE, burst: BURST, scope: 'account × region × service' } },
  status: r.status,
  error: r.error,
  wallSeconds: +(r.wallMs / 1000).toFixed(2),
  idealSeconds: +bound.seconds.toFixed(2),
  ideal: { formula: 'max( max_u t(u), Σ_u t(u) / C ), t(u) = max(0, ⌈n_u/100⌉ + n_u − burst) / rate', maxUnitSeconds: +bound.maxUnit.toFixed(2), sumOverConcurrencySeconds: +bound.sumOverC.toFixed(2), eksCallsNeeded: bound.calls },
  wallVsIdeal: +(r.wallMs / 1000 / bound.seconds).toFixed(2),
  baselineWallSeconds: baseline ? +(baseline.record.wallMs / 1000).toFixed(2) : null,
  // What the rate limit itself added: locally one process plays 40 Lambdas, EKS and Step Functions, so
  // the wall time is mostly this machine's CPU; the difference is what throttling cost.
  rateLimitAddedSeconds: baseline ? +((r.wallMs - baseline.record.wallMs) / 1000).toFixed(2) : null,
  awsCalls: r.awsCalls,
  httpAttempts: limited.attempts,
  throttledAttempts: limited.throttled,
  executionsStarted: r.started.length,
  clustersListed: c?.clusters.listed ?? null,
  clustersJudged: c?.clusters.judged ?? null,
  clustersNotJudged: c?.clusters.notJudged ?? null,
  coverageComplete: c?.complete ?? null,
  units: c?.units ?? null,
  mapConcurrency: { limit: MAP_CONCURRENCY, unitsInFlightMax: r.maxUnitsInFlight, lambdasInFlightMax: r.maxLambdasInFlight },
  stateTransitions: r.stateTransitions,
  lambdaInvocations: r.lambdaInvocations,
  lambdaSeconds: Object.fromEntries(Object.entries(r.lambdaMs).map(([k, v]) => [k, +(v / 1000).toFixed(1)])),
  maxPayloadBytes: r.maxPayloadBytes,
  cost: { perSweepUsd: +price.total.toFixed(4), perDayUsd: +perSweepDay.toFixed(4), per30DaysUsd: +(perSweepDay * 30).toFixed(2), parts: Object.fromEntries(Object.entries(price.parts).map(([k, v]) => [k, +v.toFixed(6)])), inputs: price.inputs, prices: PRICES, memoryMb: MEMORY_MB },
};

if (!args.has('--json-only')) {
  const row = (k: string, v: unknown) => console.log(`${k.padEnd(38)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  console.log(`organization sweep: ${ACCOUNTS} accounts × ${REGIONS.length} regions = ${counts.size} units, ${CLUSTERS} clusters, EKS ${RATE} req/s per account and region\n`);
  row('status', `${r.status}${r.error ? ` (${r.error})` : ''}`);
  row('wall time (s)', `${report.wallSeconds} (ideal ${report.idealSeconds}: ${report.wallVsIdeal}x)`);
  row('  ideal: largest unit alone (s)', report.ideal.maxUnitSeconds);
  row('  ideal: Σ t(u) / MaxConcurrency (s)', report.ideal.sumOverConcurrencySeconds);
  if (baseline) row('wall time without rate limit (s)', report.baselineWallSeconds);
  if (baseline) row('added by the rate limit (s)', `${report.rateLimitAddedSeconds} (ideal ${report.idealSeconds})`);
  row('clusters listed / judged / not judged', `${report.clustersListed} / ${report.clustersJudged} / ${report.clustersNotJudged}`);
  row('executions started', report.executionsStarted);
  row('AWS calls (SDK sends)', r.awsCalls);
  row('HTTP attempts', limited.attempts);
  row('throttled attempts', limited.throttled);
  row('Map concurrency (limit / max units / max Lambdas)', `${MAP_CONCURRENCY} / ${r.maxUnitsInFlight} / ${r.maxLambdasInFlight}`);
  row('state transitions', r.stateTransitions);
  row('Lambda invocations', r.lambdaInvocations);
  row('Lambda seconds (local, upper bound)', report.lambdaSeconds);
  row('largest state payload (bytes)', r.maxPayloadBytes);
  row('cost per sweep (USD)', `${report.cost.perSweepUsd}  (per day at 4 sweeps: ${report.cost.perDayUsd}, 30 days: ${report.cost.per30DaysUsd})`);
  for (const [k, v] of Object.entries(report.cost.parts)) row(`  ${k}`, v);
  console.log('');
}
console.log(JSON.stringify(report, null, 2));
