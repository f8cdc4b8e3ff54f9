/**
 * What one enforced event costs: state transitions (Standard workflows bill per transition), Lambda
 * invocations and AWS API calls, for EKS updates of different lengths, measured by running the real
 * state machine definition locally against the emulator. Run: npm run bench:workflow
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parsePolicy } from '../src/policy';
import { parseScenario, simulate } from '../src/local/simulate';

const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
const world = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const at = { account: '111122223333', region: 'us-east-1' };

// List prices, us-east-1, as published when this was written: Standard workflow state transitions and
// Lambda requests (arm64 duration at 256 MB for ~200 ms per invocation).
const PRICE_PER_TRANSITION = 0.025 / 1000;
const PRICE_PER_INVOCATION = 0.2 / 1_000_000 + 0.0000133334 * 0.25 * 0.2;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, updateSeconds: number, steps: unknown[], rounds = 3) {
  const transitions: number[] = [];
  const invocations: number[] = [];
  const calls: number[] = [];
  const wallMs: number[] = [];
  let outcome = '';
  for (let i = 0; i < rounds; i += 1) {
    const started = performance.now();
    const report = await simulate(parseScenario({ ...world, updateSeconds, steps }), policy);
    wallMs.push(performance.now() - started);
    const e = report.executions[0]!;
    outcome = e.outcome;
    transitions.push(e.stateTransitions);
    invocations.push(e.lambdaInvocations + 1); // + the intake
    calls.push(Object.values(e.awsCalls).reduce((a, b) => a + b, 0));
  }
  const t = median(transitions);
  const n = median(invocations);
  const cost = t * PRICE_PER_TRANSITION + n * PRICE_PER_INVOCATION;
  console.log(
    `${label.padEnd(44)} ${String(updateSeconds).padStart(5)}s  ${outcome.padEnd(12)} ${String(t).padStart(5)} ${String(n).padStart(6)} ${String(median(calls)).padStart(6)}   $${cost.toFixed(6)}  ${median(wallMs).toFixed(0).padStart(6)} ms`,
  );
}

console.log(`${'case'.padEnd(44)} ${'update'.padStart(6)}  ${'outcome'.padEnd(12)} trans. lambdas  calls   cost/event  local run (median)`);
for (const seconds of [60, 300, 600, 900, 1800]) {
  await measure('prod cluster opened to 0.0.0.0/0, reverted', seconds, [{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }]);
}
await measure('compliant change (judged, no alert)', 600, [{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-a', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.128/25'] } }]);
await measure('alert-only rule (violation alert)', 600, [{ call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'team-watch', resourcesVpcConfig: { publicAccessCidrs: ['0.0.0.0/0'] } }]);
await measure('revert meets a 15-minute platform update', 300, [
  { call: 'updateClusterConfig', as: ALICE, ...at, cluster: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } },
  { advance: 300 },
  { fault: { kind: 'platform-update', ...at, cluster: 'prod-api', seconds: 900 } },
]);
