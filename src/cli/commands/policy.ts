import type { Command } from 'commander';
import { GuardError, InputError } from '../../errors';
import type { Evaluation, ObservedCluster, Policy } from '../../policy';
import type { MatchSubject } from '../../policy/compile';
import { EXIT, loadAll, missingOptions, printJson, readDocument, readText, runCommand } from '../io';

/** Reads and validates a policy file; every problem becomes one line of a PolicyError. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  // Loaded when a command reads a policy, not when the CLI starts (`--help`, `triage` and `emulator` do not).
  const { parsePolicy } = await import('../../policy');
  return parsePolicy(await readText(path, 'policy'), path);
}

/** Reads an inventory of clusters (`validate --inventory`); every unreadable entry becomes one line of an InputError. */
async function loadInventoryFile(path: string): Promise<MatchSubject[]> {
  const { parseInventory } = await import('../../policy/inventory');
  const doc = await readDocument(path, 'inventory');
  try {
    return parseInventory(doc);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.problems.map((p) => `inventory ${path}: ${p}`), { cause: err });
    throw err;
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

async function parseNow(value: string | undefined): Promise<number> {
  if (value === undefined) return Date.now();
  // Date.parse alone takes non-ISO text ("1" is 2001-01-01) and rolls impossible days over
  // (2027-02-30 becomes March 2): require the ISO shape and a real calendar date first. zod is loaded
  // here, not when the CLI starts: every command registers this module, and most never judge a date.
  const { z } = await import('zod');
  const iso = ISO_INSTANT.test(value) && z.iso.date().safeParse(value.slice(0, 10)).success;
  // Without a zone, read it as UTC (as exemption dates are), not as this machine's local time.
  const zoned = value.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(value) ? `${value}Z` : value;
  const instant = iso ? Date.parse(zoned) : Number.NaN;
  if (Number.isNaN(instant)) throw new InputError([`--now: not an ISO date-time (value: ${JSON.stringify(value)})`]);
  return instant;
}

function formatEndpoint(c: { endpointPublicAccess: boolean; endpointPrivateAccess: boolean; publicAccessCidrs?: string[] }): string {
  const pub = c.endpointPublicAccess ? `public on (${(c.publicAccessCidrs ?? []).join(', ')})` : 'public off';
  return `${pub}, private ${c.endpointPrivateAccess ? 'on' : 'off'}`;
}

/** What `check` prints: the evaluation, with warnings about the input itself (`CLUSTER_UPDATING`) added. */
export type CheckOutput = Omit<Evaluation, 'warnings'> & { warnings: { code: Evaluation['warnings'][number]['code'] | 'CLUSTER_UPDATING'; message: string }[] };

/**
 * DescribeCluster of a cluster in the middle of an update may still show the settings from before it:
 * the verdict is about those, and may no longer hold once the update is done.
 */
function withInputWarnings(e: Evaluation): CheckOutput {
  if (e.observed.status !== 'UPDATING') return e;
  const warning = {
    code: 'CLUSTER_UPDATING' as const,
    message: 'the cluster is being updated (status UPDATING): its endpoint settings may be stale; check again once it is ACTIVE',
  };
  return { ...e, warnings: [warning, ...e.warnings] };
}

/** The human-readable form of `check`: what applies, what is wrong, what would be done. */
export function renderEvaluation(e: CheckOutput): string {
  const rows: [string, string][] = [
    ['cluster', `${e.cluster.name} (${e.cluster.account ?? '?'}/${e.cluster.region ?? '?'})`],
    ['rule', `${e.settings.rule ?? '(defaults)'}: mode ${e.settings.mode}, public ${e.settings.publicAccess}, private ${e.settings.privateAccess}`],
    // A forbidden rule allows no CIDR at all: an `allowed` line (the defaults' list, inherited) would mislead.
    ...(e.settings.publicAccess === 'forbidden' ? [] : [['allowed', e.settings.allowedPublicCidrs.join(', ') || '-'] as [string, string]]),
    ['observed', formatEndpoint(e.observed)],
    ['verdict', e.verdict.toUpperCase()],
    ['action', e.action],
    ['target', e.target ? formatEndpoint(e.target) : '-'],
  ];
  if (e.exemption) rows.push(['exemption', `${e.exemption.name} until ${e.exemption.expires}: ${e.exemption.reason}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const v of e.violations) lines.push(`violation ${v.code}: ${v.message}`);
  for (const w of e.warnings) lines.push(`warning   ${w.code}: ${w.message}`);
  return `${lines.join('\n')}\n`;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Validate a policy file; exit 0 when valid (warnings included), 2 with every error otherwise')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--now <iso>', 'judge exemption expiry at this instant (default: now)')
    .option('--inventory <file>', 'clusters (JSON: DescribeCluster outputs, or {clusters: [...]}): warn about rules and exemptions matching none')
    .option('--json', 'print the result as JSON')
    .action((opts: { policy?: string; now?: string; inventory?: string; json?: boolean }) =>
      runCommand(async () => {
        const problems = missingOptions(opts, { policy: '--policy <file>' });
        let now = Date.now();
        try {
          now = await parseNow(opts.now);
        } catch (err) {
          problems.push(...(err as InputError).problems);
        }
        if (problems.length > 0) throw new InputError(problems);
        const [loaded, inventory] = await Promise.allSettled([loadPolicyFile(opts.policy!), opts.inventory ? loadInventoryFile(opts.inventory) : Promise.resolve(null)]);
        // With --json, the verdict is machine-readable either way; the errors still go to stderr too.
        if (loaded.status === 'rejected' && opts.json && loaded.reason instanceof GuardError) {
          const err = loaded.reason;
          printJson({ valid: false, errors: 'problems' in err ? err.problems : [err.message] });
        }
        // The policy's errors and the inventory's together, not one file after the other is fixed.
        const again = <T>(s: PromiseSettledResult<T>) => (s.status === 'fulfilled' ? Promise.resolve(s.value) : Promise.reject(s.reason));
        const [policy, subjects] = await loadAll<[Policy, MatchSubject[] | null]>([again(loaded), again(inventory)]);
        const { policyWarnings, inventoryWarnings } = await import('../../policy/lint');
        const warnings = [...policyWarnings(policy, now), ...(subjects ? inventoryWarnings(policy, subjects) : [])];
        // Without warnings the output is exactly what it was before warnings existed, for scripts that read it.
        const extra = warnings.length > 0 ? { warnings } : {};
        if (opts.json) printJson({ valid: true, rules: policy.rules.length, exemptions: policy.exemptions.length, ...extra });
        else {
          process.stdout.write(`${opts.policy}: valid (${policy.rules.length} rules, ${policy.exemptions.length} exemptions)\n`);
          for (const w of warnings) process.stdout.write(`warning ${w.code}: ${w.message}\n`);
        }
        return EXIT.OK;
      }),
    );
}

/**
 * Refuses a cluster whose account or region is unknown: judged as `?/?`, it would silently miss every
 * rule and exemption that lists accounts or regions, and a verdict would be printed all the same.
 */
function requirePlace(cluster: ObservedCluster, file: string, opts: { account?: string; region?: string }): ObservedCluster {
  if (cluster.account !== null && cluster.region !== null) return cluster;
  const missing = [cluster.account === null ? '--account' : null, cluster.region === null ? '--region' : null].filter((m) => m !== null);
  const why = cluster.arn === null ? 'has no arn' : `has an arn that is not an EKS cluster ARN (${JSON.stringify(cluster.arn)})`;
  const give = opts.account === undefined && opts.region === undefined ? 'give both --account and --region' : `give ${missing.join(' and ')} too`;
  throw new InputError([`cluster ${file}: ${why}, so its account and region are unknown: ${give}`]);
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Judge one cluster (a DescribeCluster output) against the policy; exit 0 compliant or exempt, 1 violation, 2 bad input')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--cluster <file>', 'DescribeCluster output (JSON), whole response or its "cluster" object (required)')
    .option('--account <id>', 'account id (default: from the cluster ARN; required when it has none)')
    .option('--region <region>', 'region (default: from the cluster ARN; required when it has none)')
    .option('--now <iso>', 'judge exemptions at this instant (default: now)')
    .option('--json', 'print the evaluation as JSON')
    .action((opts: { policy?: string; cluster?: string; account?: string; region?: string; now?: string; json?: boolean }) =>
      runCommand(async () => {
        // Every problem of the invocation at once: missing options, bad values, and both files.
        const problems = missingOptions(opts, { policy: '--policy <file>', cluster: '--cluster <file>' });
        let now = Date.now();
        try {
          now = await parseNow(opts.now);
        } catch (err) {
          problems.push(...(err as InputError).problems);
        }
        if (opts.account !== undefined && !/^\d{12}$/.test(opts.account)) {
          problems.push(`--account: not a 12-digit AWS account id (value: ${JSON.stringify(opts.account)})`);
        }
        if (opts.region !== undefined) {
          const { regionProblem } = await import('../../policy/messages');
          const problem = regionProblem(opts.region);
          if (problem !== null) problems.push(`--region: ${problem} (value: ${JSON.stringify(opts.region)})`);
        }
        const { evaluateCluster, parseObservedCluster } = await import('../../policy');
        const cluster = async () =>
          requirePlace(parseObservedCluster(await readDocument(opts.cluster!, 'cluster'), { account: opts.account, region: opts.region }), opts.cluster!, opts);
        const [policy, observed] = await loadAll<[Policy, ObservedCluster]>(
          [opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(null as never), opts.cluster ? cluster() : Promise.resolve(null as never)],
          problems,
        );
        const evaluation = withInputWarnings(evaluateCluster(policy, observed, { now }));
        if (opts.json) printJson(evaluation);
        else process.stdout.write(renderEvaluation(evaluation));
        return evaluation.verdict === 'violation' ? EXIT.VIOLATION : EXIT.OK;
      }),
    );
}
