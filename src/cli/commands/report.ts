/**
 * `eks-endpoint-guard report`: the posture of every cluster in the given accounts and regions (or the
 * whole organization), judged with the policy, read-only. Everything heavy (the SDK, the renderers) is
 * imported when the command runs, so `check` and `validate` never load it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../../errors';
import type { Policy } from '../../policy';
import { EXIT, loadAll, missingOptions, readText, runCommand } from '../io';

const FORMATS = ['table', 'json', 'csv', 'html', 'asff'] as const;
type Format = (typeof FORMATS)[number];

type ReportOptions = {
  policy?: string;
  accounts?: string[];
  regions?: string[];
  organization?: boolean;
  roleName?: string;
  endpointUrl?: string;
  format: Format;
  output?: string;
  concurrency: number;
  now?: string;
};

/** A comma-separated list (`111122223333,444455556666`), blanks and repeats dropped; repeated flags add up. */
function list(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set([...(previous ?? []), ...items])];
}

function concurrency(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError(`must be an integer from 1 to 64, got ${raw}`);
  return n;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** `--now`: an ISO date or date-time (UTC when it names no zone), as `check --now` takes it. */
function parseNow(value: string): number | null {
  if (!ISO_INSTANT.test(value)) return null;
  const zoned = value.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(value) ? `${value}Z` : value;
  const instant = Date.parse(zoned);
  // Date.parse rolls impossible days over (02-30 becomes March 2): the date part must survive the round trip.
  if (Number.isNaN(instant) || (value.length === 10 && new Date(instant).toISOString().slice(0, 10) !== value)) return null;
  return instant;
}

async function loadPolicyWithHash(path: string): Promise<{ policy: Policy; sha256: string }> {
  const [{ parsePolicy }, { createHash }] = await Promise.all([import('../../policy'), import('node:crypto')]);
  const text = await readText(path, 'policy');
  return { policy: parsePolicy(text, path), sha256: createHash('sha256').update(text).digest('hex') };
}

async function flagProblems(opts: ReportOptions, regions: string[]): Promise<string[]> {
  const problems = missingOptions(opts as Record<string, unknown>, { policy: '--policy <file>' });
  for (const a of opts.accounts ?? []) if (!/^\d{12}$/.test(a)) problems.push(`--accounts: ${JSON.stringify(a)} is not a 12-digit AWS account id (quote nothing; separate ids with commas)`);
  if (opts.accounts && opts.organization) problems.push('--accounts and --organization: give one of them (--organization reads the account list from AWS Organizations)');
  if (regions.length === 0) problems.push('--regions: not given and AWS_REGION is not set: name the regions to read, e.g. --regions us-east-1,eu-west-1');
  const { regionProblem } = await import('../../policy/messages');
  for (const r of regions) {
    const problem = regionProblem(r);
    if (problem !== null) problems.push(`--regions: ${JSON.stringify(r)} is ${problem}`);
  }
  if (opts.now !== undefined && parseNow(opts.now) === null) problems.push(`--now: not an ISO date or date-time (value: ${JSON.stringify(opts.now)})`);
  if (opts.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(opts.roleName)) problems.push(`--role-name: ${JSON.stringify(opts.roleName)} is not an IAM role name (1-64 letters, digits and +=,.@_-)`);
  if (opts.endpointUrl !== undefined && !URL.canParse(opts.endpointUrl)) problems.push(`--endpoint-url: ${JSON.stringify(opts.endpointUrl)} is not a URL`);
  return problems;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('Report the endpoint posture of every cluster of the accounts and regions (or the organization), judged with the policy, read-only; exit 0 all comply or are exempt, 1 a violation or a cluster not judged, 2 bad input')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--accounts <ids>', 'accounts to read, comma-separated (default: the caller\'s account)', list)
    .option('--regions <names>', 'regions to read, comma-separated (default: AWS_REGION)', list)
    .option('--organization', 'read every ACTIVE account of the AWS Organization, listing the others as skipped (run in the management account or a delegated administrator)')
    .option('--role-name <name>', 'role assumed in each account other than the caller\'s (like c7n-org\'s member role)')
    .option('--endpoint-url <url>', 'send every AWS call here, e.g. the emulator (default: AWS_ENDPOINT_URL, else AWS)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--output <file>', 'write the report to this file (default: stdout)')
    .option('--concurrency <n>', 'AWS calls in flight at most', concurrency, 8)
    .option('--now <iso>', 'judge exemption expiry at this instant (default: now)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every cluster complies or is exempt (or there is none)
  1  a cluster violates the policy, or a cluster or a whole account/region could not be read or judged
     (it is reported as an ERROR row: a cluster nobody could read is not known to comply)
  2  bad input: a broken policy file, bad flags, or the caller's identity or organization cannot be read

A progress bar is drawn on stderr when stderr is a terminal.`,
    )
    .action((opts: ReportOptions) =>
      runCommand(async () => {
        const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
        const regions = opts.regions ?? (envRegion ? [envRegion] : []);
        const problems = await flagProblems(opts, regions);
        const [{ policy, sha256 }] = await loadAll<[{ policy: Policy; sha256: string }]>(
          [opts.policy ? loadPolicyWithHash(opts.policy) : Promise.resolve(null as never)],
          problems,
        );
        const now = opts.now !== undefined ? parseNow(opts.now)! : Date.now();

        const [{ connectPostureAws }, { collectPosture }, { buildReport, reportExitCode, summaryLine }, { renderReport }, { progressBar }] = await Promise.all([
          import('../../aws/posture'),
          import('../../report/collect'),
          import('../../report/build'),
          import('../../report/render/index'),
          import('../../report/progress'),
        ]);
        const endpoint = opts.endpointUrl ?? (process.env.AWS_ENDPOINT_URL || undefined);
        const aws = await connectPostureAws({ region: regions[0]!, ...(endpoint ? { endpoint } : {}), ...(opts.roleName ? { roleName: opts.roleName } : {}) });

        let accounts = opts.accounts ?? [aws.account];
        let accountContexts;
        let skipped;
        if (opts.organization) {
          // The port's message speaks of the deployed functions' settings; say what a CLI user can do instead.
          const org = await aws.organization().catch((err: unknown) => {
            const name = (err as { awsErrorName?: unknown }).awsErrorName;
            if (typeof name !== 'string') throw err;
            const hint = name === 'AWSOrganizationsNotInUseException' ? `account ${aws.account} is not in an organization` : `run it with credentials of the management account or a delegated administrator`;
            throw new InputError([`--organization: AWS Organizations refused to list the accounts (${name}): ${hint}, or give --accounts`], { cause: err });
          });
          const { organizationScope } = await import('../../report/scope');
          ({ accounts, accountContexts, skipped } = organizationScope(org));
        }
        const others = accounts.filter((a) => a !== aws.account);
        if (others.length > 0 && !opts.roleName) {
          throw new InputError([`--role-name: required to read accounts other than the caller's (${aws.account}): ${others.join(', ')}`]);
        }

        const bar = progressBar(process.stderr);
        const collected = await collectPosture({ accounts, regions }, aws.reader, { concurrency: opts.concurrency, onProgress: (p) => bar.update(p.done, p.total) });
        bar.finish();
        const report = buildReport({ policy, policyFile: opts.policy!, policySha256: sha256, scope: { accounts, regions }, collected, now, ...(accountContexts ? { accountContexts } : {}), ...(skipped ? { skipped } : {}) });
        const unplaced = report.clusters.filter((r) => r.error?.code === 'AccountContextUnknownError').length;
        if (unplaced > 0 && !opts.organization) {
          process.stderr.write(`note: ${unplaced} ${unplaced === 1 ? 'cluster' : 'clusters'} could not be judged: the policy matches on ous/accountTags; add --organization to read where each account stands\n`);
        }
        const text = renderReport(report, opts.format);
        if (opts.output) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile(opts.output, text).catch((err: Error) => {
            throw new InputError([`--output ${opts.output}: cannot write: ${err.message}`], { cause: err });
          });
          process.stderr.write(`wrote ${opts.output} (${opts.format}): ${summaryLine(report)}\n`);
        } else {
          process.stdout.write(text);
        }
        return reportExitCode(report.summary) === 0 ? EXIT.OK : EXIT.VIOLATION;
      }),
    );
}
