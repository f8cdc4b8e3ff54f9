import type { Command } from 'commander';
import { z } from 'zod';
import { GuardError, InputError } from '../../errors';
import type { Evaluation, ObservedCluster, Policy } from '../../policy';
import { EXIT, loadAll, missingOptions, printJson, readDocument, readText, runCommand } from '../io';

/** Reads and validates a policy file; every problem becomes one line of a PolicyError. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  // Loaded when a command reads a policy, not when the CLI starts (`--help`, `triage` and `emulator` do not).
  const { parsePolicy } = await import('../../policy');
  return parsePolicy(await readText(path, 'policy'), path);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function parseNow(value: string | undefined): number {
  if (value === undefined) return Date.now();
  // Date.parse alone takes non-ISO text ("1" is 2001-01-01) and rolls impossible days over
  // (2027-02-30 becomes March 2): require the ISO shape and a real calendar date first.
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

/** The human-readable form of `check`: what applies, what is wrong, what would be done. */
export function renderEvaluation(e: Evaluation): string {
  const rows: [string, string][] = [
    ['cluster', `${e.cluster.name} (${e.cluster.account ?? '?'}/${e.cluster.region ?? '?'})`],
    ['rule', `${e.settings.rule ?? '(defaults)'}: mode ${e.settings.mode}, public ${e.settings.publicAccess}, private ${e.settings.privateAccess}`],
    ['allowed', e.settings.allowedPublicCidrs.join(', ') || '-'],
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
    .option('--json', 'print the result as JSON')
    .action((opts: { policy?: string; now?: string; json?: boolean }) =>
      runCommand(async () => {
        const problems = missingOptions(opts, { policy: '--policy <file>' });
        let now = Date.now();
        try {
          now = parseNow(opts.now);
        } catch (err) {
          problems.push(...(err as InputError).problems);
        }
        if (problems.length > 0) throw new InputError(problems);
        let policy: Policy;
        try {
          policy = await loadPolicyFile(opts.policy!);
        } catch (err) {
          // With --json, the verdict is machine-readable either way; the errors still go to stderr too.
          if (opts.json && err instanceof GuardError) printJson({ valid: false, errors: 'problems' in err ? err.problems : [err.message] });
          throw err;
        }
        const { policyWarnings } = await import('../../policy');
        const warnings = policyWarnings(policy, now);
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

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Judge one cluster (a DescribeCluster output) against the policy; exit 0 compliant or exempt, 1 violation, 2 bad input')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--cluster <file>', 'DescribeCluster output (JSON), whole response or its "cluster" object (required)')
    .option('--account <id>', 'account id (default: from the cluster ARN)')
    .option('--region <region>', 'region (default: from the cluster ARN)')
    .option('--now <iso>', 'judge exemptions at this instant (default: now)')
    .option('--json', 'print the evaluation as JSON')
    .action((opts: { policy?: string; cluster?: string; account?: string; region?: string; now?: string; json?: boolean }) =>
      runCommand(async () => {
        // Every problem of the invocation at once: missing options, bad values, and both files.
        const problems = missingOptions(opts, { policy: '--policy <file>', cluster: '--cluster <file>' });
        let now = Date.now();
        try {
          now = parseNow(opts.now);
        } catch (err) {
          problems.push(...(err as InputError).problems);
        }
        if (opts.account !== undefined && !/^\d{12}$/.test(opts.account)) {
          problems.push(`--account: not a 12-digit AWS account id (value: ${JSON.stringify(opts.account)})`);
        }
        if (opts.region !== undefined && !/^[a-z]{2,4}(-[a-z]+)+-\d+$/.test(opts.region)) {
          problems.push(`--region: not an AWS region name (value: ${JSON.stringify(opts.region)})`);
        }
        const { evaluateCluster, parseObservedCluster } = await import('../../policy');
        const cluster = async () => parseObservedCluster(await readDocument(opts.cluster!, 'cluster'), { account: opts.account, region: opts.region });
        const [policy, observed] = await loadAll<[Policy, ObservedCluster]>(
          [opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(null as never), opts.cluster ? cluster() : Promise.resolve(null as never)],
          problems,
        );
        const evaluation = evaluateCluster(policy, observed, { now });
        if (opts.json) printJson(evaluation);
        else process.stdout.write(renderEvaluation(evaluation));
        return evaluation.verdict === 'violation' ? EXIT.VIOLATION : EXIT.OK;
      }),
    );
}
