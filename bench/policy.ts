/**
 * Policy evaluation costs: the worst case of cluster-name globs (many stars against a name that almost
 * matches) and the throughput of evaluating and planning clusters against a realistic policy and a
 * 1,000-rule policy whose matching rule is near the end. Run: `npx tsx bench/policy.ts`.
 * Targets: a glob match under 1 ms; at least 100,000 clusters/s (realistic) and 20,000/s (1,000 rules).
 * Each clusters/s figure is evaluate + plan: `evaluateCluster` plans the remediation of every violating
 * cluster it is given. Other scripts import `measurePolicy` and `formatPolicy`; run directly, it prints.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { compileGlob, evaluateCluster, globMatches, parseObservedCluster, parsePolicy, type ObservedCluster, type Policy } from '../src/policy';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The time per match, in ms, of a glob (at most 100 characters, as the schema allows) against
 * 100-character names that fail only at their last character: the case that makes a backtracking
 * matcher explode. After a warm-up, each name is matched 300 times, each call timed on its own.
 * `maxMs`: the slowest name's median call, the worst case of the matcher itself. `maxSingleMs`: the
 * slowest single call of all, which on a busy machine mostly measures the scheduler and the garbage
 * collector. `match` is the plain two-pointer matcher unless given (evaluation uses `compileGlob`).
 */
function worstGlob(glob: string, match: (glob: string, name: string) => boolean = globMatches): { glob: string; maxMs: number; maxSingleMs: number; matched: boolean } {
  const names = ['a'.repeat(100), `${'a'.repeat(99)}c`, `${'ab'.repeat(49)}ac`];
  let matched = false;
  for (let i = 0; i < 3000; i += 1) matched = match(glob, names[i % names.length]!) || matched;
  let maxMs = 0;
  let maxSingleMs = 0;
  for (const name of names) {
    const times: number[] = [];
    for (let round = 0; round < 300; round += 1) {
      const t0 = performance.now();
      matched = match(glob, name) || matched;
      times.push(performance.now() - t0);
    }
    maxMs = Math.max(maxMs, median(times));
    maxSingleMs = Math.max(maxSingleMs, ...times);
  }
  return { glob, maxMs, maxSingleMs, matched };
}

const cluster = (name: string, account: string, region: string, cidrs: string[], pub = true, priv = false, tags: Record<string, string> = {}): ObservedCluster =>
  parseObservedCluster({
    cluster: {
      name,
      arn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
      tags,
      resourcesVpcConfig: { endpointPublicAccess: pub, endpointPrivateAccess: priv, publicAccessCidrs: cidrs },
    },
  });

/** About ten rules of the usual kinds, a few exemptions (one current, one expiring, one expired), allowlists. */
const REALISTIC = `
version: 1
defaults:
  publicAccess: restricted
  allowedPublicCidrs: [203.0.113.0/24, 198.51.100.0/24, "2001:db8::/32"]
rules:
  - { name: prod-private, match: { accounts: ["111122223333"], clusters: ["prod-*"] }, publicAccess: forbidden }
  - { name: payments, match: { clusters: ["pay-*-??"], tags: { team: payments } }, publicAccess: forbidden }
  - { name: frankfurt, match: { regions: [eu-central-1] }, allowedPublicCidrs: [192.0.2.0/24] }
  - { name: sandbox, match: { accounts: ["999988887777"] }, publicAccess: unrestricted, privateAccess: optional }
  - { name: qa, match: { clusters: ["qa-?", "qa-*-tmp"] }, mode: alert }
  - { name: data, match: { clusters: ["*-data-*"] }, allowedPublicCidrs: [203.0.113.0/25] }
  - { name: edge, match: { regions: [ap-southeast-2, ap-northeast-1] }, maxPublicCidrs: 5 }
  - { name: legacy-acct, match: { accounts: ["444455556666", "555566667777"] }, privateAccess: optional }
  - { name: ml, match: { clusters: ["ml-*"], tags: { env: prod } }, maxTagExemptionDays: 7 }
  - { name: ci, match: { clusters: ["ci-*", "build-*"] }, escalation: { reverts: 5 } }
exemptions:
  - { name: vendor-vpn, match: { clusters: [legacy-billing] }, reason: OPS-1, expires: 2026-12-31 }
  - { name: cutover, match: { clusters: ["cutover-*"] }, reason: OPS-2, expires: "2026-07-01T12:00:00Z" }
  - { name: old, match: { clusters: ["old-*"] }, reason: OPS-3, expires: 2024-01-31 }
`;

/**
 * A policy of `rules` rules, each for one team, in one of three shapes. `usual`: each rule names an
 * account and globs with a literal prefix. `infix`: globs with wildcards at both ends (`*-team-7-*`).
 * `scan`: globs whose literal runs are single digits (`*9*9*7*`), which no index can file, so every
 * rule before the match is a candidate: the worst case (the character filter passes over those whose
 * digits the name lacks, but still looks at each).
 */
type Shape = 'usual' | 'infix' | 'scan';
const digits = (i: number) => String(i).padStart(3, '0').split('');
function bigPolicy(rules: number, shape: Shape): string {
  const lines = ['version: 1', 'defaults: { publicAccess: restricted, allowedPublicCidrs: [203.0.113.0/24] }', 'rules:'];
  for (let i = 0; i < rules; i += 1) {
    const match =
      shape === 'usual'
        ? `accounts: ["${String(100000000000 + i)}"], clusters: ["team-${i}-*", "svc-${i}-??"]`
        : shape === 'infix'
          ? `clusters: ["*-team-${i}-*", "?svc-${i}-*"]`
          : `clusters: ["*${digits(i).join('*')}*"]`;
    lines.push(`  - { name: r${i}, match: { ${match} }, publicAccess: forbidden }`);
  }
  return lines.join('\n');
}

/** Evaluations per second: the median of `runs` timed runs after a warm-up run, and every run's rate. */
export type Throughput = { perSecond: number; runs: number[] };

/** Evaluations per second (median of `runs` timed runs after a warm-up run), having first checked which rule each cluster gets. */
function throughput(policy: Policy, clusters: ObservedCluster[], rules: (string | null)[], runs: number, iterationsPerRun: number): Throughput {
  const got = clusters.map((c) => evaluateCluster(policy, c, { now: NOW }).settings.rule);
  if (JSON.stringify(got) !== JSON.stringify(rules)) throw new Error(`benchmark set-up is wrong: rules ${JSON.stringify(got)}, expected ${JSON.stringify(rules)}`);
  const iterations = Math.max(iterationsPerRun, clusters.length);
  const rates: number[] = [];
  let sink = 0;
  for (let run = 0; run < runs + 1; run += 1) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i += 1) {
      const e = evaluateCluster(policy, clusters[i % clusters.length]!, { now: NOW });
      sink += e.violations.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (run > 0) rates.push(iterations / seconds); // the first run warms the JIT
  }
  if (sink < 0) console.log(sink);
  return { perSecond: median(rates), runs: rates };
}

const realisticClusters = [
  cluster('prod-api', '111122223333', 'eu-west-1', ['0.0.0.0/0']),
  cluster('pay-core-01', '123456789012', 'us-east-1', ['203.0.113.0/24'], true, true, { team: 'payments' }),
  cluster('shop-web', '123456789012', 'eu-central-1', ['192.0.2.0/25', '198.51.100.0/24']),
  cluster('sandbox-x', '999988887777', 'us-west-2', ['0.0.0.0/0', '::/0']),
  cluster('qa-7', '123456789012', 'us-east-1', ['203.0.113.7/32'], true, true),
  cluster('big-data-lake', '123456789012', 'us-east-1', ['203.0.113.0/24']),
  cluster('edge-1', '123456789012', 'ap-southeast-2', ['203.0.113.1/32', '203.0.113.2/32'], true, true),
  cluster('legacy-billing', '444455556666', 'eu-west-1', ['0.0.0.0/0']),
  cluster('ml-train', '123456789012', 'us-east-1', ['0.0.0.0/0'], true, false, { env: 'prod', 'eks-endpoint-guard/exempt-until': '2026-06-10' }),
  cluster('internal', '123456789012', 'us-east-1', ['0.0.0.0/0'], false, true),
];

const N = 1000;
const bigClusters = [
  cluster(`team-${N - 3}-api`, String(100000000000 + N - 3), 'us-east-1', ['0.0.0.0/0']),
  cluster(`svc-${N - 2}-ab`, String(100000000000 + N - 2), 'us-east-1', ['203.0.113.0/24'], true, true),
  cluster('no-rule-matches', String(100000000000 + N - 1), 'us-east-1', ['0.0.0.0/0']),
];
const infixClusters = [
  cluster(`x-team-${N - 3}-api`, '123456789012', 'us-east-1', ['0.0.0.0/0']),
  cluster(`asvc-${N - 2}-ab`, '123456789012', 'us-east-1', ['203.0.113.0/24'], true, true),
  cluster('no-rule-matches', '123456789012', 'us-east-1', ['0.0.0.0/0']),
];
const scanClusters = [
  cluster(`n-${digits(N - 3).join('-')}`, '123456789012', 'us-east-1', ['0.0.0.0/0']),
  cluster(`n-${digits(N - 2).join('-')}-x`, '123456789012', 'us-east-1', ['203.0.113.0/24'], true, true),
  cluster('no-rule-matches', '123456789012', 'us-east-1', ['0.0.0.0/0']),
];

/** One glob worst case: which matcher, what glob, and its timings (see `worstGlob`). */
export type GlobCase = { matcher: 'globMatches' | 'compileGlob'; label: string; glob: string; maxMs: number; maxSingleMs: number; matched: boolean; hasTarget: boolean };

export type PolicyBenchOptions = {
  /** Timed runs per throughput figure, after one warm-up run; the figure is their median. Default 7. */
  rounds?: number;
  /** Evaluations per timed run (at least one per cluster of the set). Default 20,000. */
  iterations?: number;
};

export const POLICY_TARGETS = Object.freeze({ globMaxMs: 1, realisticPerSecond: 100_000, thousandRulesPerSecond: 20_000 });

export type PolicyBenchReport = {
  rounds: number;
  iterations: number;
  rules: number;
  /** The glob worst cases; `globWorstMs` is the largest `maxMs` among those with a target. */
  globs: GlobCase[];
  globWorstMs: number;
  /** Clusters/s (evaluate + plan) against the realistic policy (10 rules, 3 exemptions). */
  realistic: Throughput;
  /** Clusters/s against the 1,000-rule policy, matching rule near the end (rules filed by account and name prefix). */
  thousandRules: Throughput;
  /** The same with globs wild at both ends (`*-team-7-*`), and with globs no index can file (`*9*9*7*`): no targets. */
  thousandRulesInfix: Throughput;
  thousandRulesScan: Throughput;
  targets: typeof POLICY_TARGETS;
  pass: { glob: boolean; realistic: boolean; thousandRules: boolean; all: boolean };
};

/**
 * Measures the glob worst cases and the evaluation throughput (median of `rounds` timed runs each),
 * and judges them against `POLICY_TARGETS`. Synchronous work behind a promise, so that callers can
 * await it alongside other benches; it throws when a benchmark set-up is wrong (a cluster gets a rule
 * other than the one the bench intends).
 */
export async function measurePolicy(options: PolicyBenchOptions = {}): Promise<PolicyBenchReport> {
  const rounds = options.rounds ?? 7;
  const iterations = options.iterations ?? 20_000;
  const globs: GlobCase[] = [];
  for (const stars of [10, 50]) {
    const glob = `${'*a'.repeat(stars - 1)}*b`;
    const compiled = compileGlob(glob);
    const label = `${stars} stars (${glob.length} chars)`;
    globs.push({ matcher: 'globMatches', label, hasTarget: true, ...worstGlob(glob) });
    globs.push({ matcher: 'compileGlob', label, hasTarget: true, ...worstGlob(glob, (_g, name) => compiled(name)) });
  }
  // One star and a long literal tail: the most work the two-pointer matcher can be made to do (name × glob).
  globs.push({ matcher: 'globMatches', label: '1 star and a 99-char tail', hasTarget: false, ...worstGlob(`*${'a'.repeat(98)}b`) });
  const globWorstMs = Math.max(...globs.filter((g) => g.hasTarget).map((g) => g.maxMs));

  const realistic = throughput(parsePolicy(REALISTIC, 'realistic.yaml'), realisticClusters, ['prod-private', 'payments', 'frankfurt', 'sandbox', 'qa', 'data', 'edge', 'legacy-acct', 'ml', null], rounds, iterations);
  const thousandRules = throughput(parsePolicy(bigPolicy(N, 'usual'), 'big.yaml'), bigClusters, [`r${N - 3}`, `r${N - 2}`, null], rounds, iterations);
  const thousandRulesInfix = throughput(parsePolicy(bigPolicy(N, 'infix'), 'big-infix.yaml'), infixClusters, [`r${N - 3}`, `r${N - 2}`, null], rounds, iterations);
  const thousandRulesScan = throughput(parsePolicy(bigPolicy(N, 'scan'), 'big-scan.yaml'), scanClusters, [`r${N - 3}`, `r${N - 2}`, null], rounds, iterations);

  const pass = {
    glob: globWorstMs < POLICY_TARGETS.globMaxMs && globs.every((g) => !g.matched),
    realistic: realistic.perSecond >= POLICY_TARGETS.realisticPerSecond,
    thousandRules: thousandRules.perSecond >= POLICY_TARGETS.thousandRulesPerSecond,
  };
  return { rounds, iterations, rules: N, globs, globWorstMs, realistic, thousandRules, thousandRulesInfix, thousandRulesScan, targets: POLICY_TARGETS, pass: { ...pass, all: pass.glob && pass.realistic && pass.thousandRules } };
}

const rate = (t: Throughput) => `${Math.round(t.perSecond).toLocaleString('en')} clusters/s median`;
const verdict = (ok: boolean) => (ok ? 'pass' : 'FAIL');

/** The report as the lines `npx tsx bench/policy.ts` prints, ending with a one-line verdict on the targets. */
export function formatPolicy(report: PolicyBenchReport): string {
  const t = report.targets;
  const lines = report.globs.map((g) =>
    g.hasTarget
      ? `${g.matcher}: ${g.label} vs 100-char near-misses: max ${g.maxMs.toFixed(4)} ms per match (target < ${t.globMaxMs} ms); slowest single call, machine noise included, ${g.maxSingleMs.toFixed(4)} ms${g.matched ? ' UNEXPECTED MATCH' : ''}`
      : `${g.matcher}: ${g.label} vs 100-char near-misses: max ${g.maxMs.toFixed(4)} ms per match; slowest single call, machine noise included, ${g.maxSingleMs.toFixed(4)} ms${g.matched ? ' UNEXPECTED MATCH' : ''}`,
  );
  const n = report.rules;
  lines.push(
    `realistic policy (10 rules, 3 exemptions): ${rate(report.realistic)} (target >= ${t.realisticPerSecond.toLocaleString('en')}): ${verdict(report.pass.realistic)}`,
    `${n}-rule policy, match near the end: ${rate(report.thousandRules)} (target >= ${t.thousandRulesPerSecond.toLocaleString('en')}): ${verdict(report.pass.thousandRules)}`,
    `${n}-rule policy, match near the end, globs wild at both ends: ${rate(report.thousandRulesInfix)}`,
    `${n}-rule policy, match near the end, no rule can be skipped by the index: ${rate(report.thousandRulesScan)}`,
    `policy targets (glob < ${t.globMaxMs} ms, realistic, ${n} rules; medians of ${report.rounds} runs of ${report.iterations.toLocaleString('en')} evaluations, evaluate + plan): ${report.pass.all ? 'all met' : 'NOT MET'}`,
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatPolicy(await measurePolicy()));
}
