import { Option, type Command } from 'commander';
import { InputError } from '../../errors';
import type { Policy } from '../../policy';
import type { OrganizationTree } from '../../scp/organization-file';
import { EXIT, loadAll, missingOptions, printJson, readDocument, runCommand } from '../io';
import { loadPolicyFile } from './policy';

/** Reads and resolves an organization file; every problem becomes one line of an InputError naming the file. */
async function loadOrganizationFile(path: string): Promise<OrganizationTree> {
  const { parseOrganizationDocument } = await import('../../scp/organization-file');
  return parseOrganizationDocument(await readDocument(path, 'organization'), path);
}

type ScpOpts = {
  policy?: string;
  organization?: string;
  guardRoleArn?: string[];
  guardRoleName?: string[];
  breakGlassRole?: string[];
  roleAdminArn?: string[];
  format: 'json' | 'text';
};

export function registerScpCommand(program: Command): void {
  program
    .command('scp')
    .description(
      'Print the service control policies that make AWS refuse the endpoint widenings the policy forbids (public on, private off), per root, OU or account; exit 0, or 2 on bad input',
    )
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--organization <file>', 'the organization (YAML or JSON: managementAccount, units [{id,name,parent}], accounts [{id,name,unit,tags}]; an emulator state file works too)')
    .option('--guard-role-arn <arn...>', "ARNs of the guard's central roles that must never be refused")
    .option('--guard-role-name <name...>', "names of roles excepted in every account; not needed for the guard's member write role (warned), whose own guardrail refuses widening")
    .option('--break-glass-role <name...>', 'names of emergency roles, excepted in every account')
    .option(
      '--role-admin-arn <arn...>',
      'principals (ARN patterns) that may still create or change the roles excepted by name (default: arn:aws:iam::*:role/stacksets-exec-*, the service-managed StackSet execution role)',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'))
    .action((opts: ScpOpts) =>
      runCommand(async () => {
        const problems = missingOptions(opts, { policy: '--policy <file>' });
        // Loaded here, not at start-up: this command needs no AWS SDK, emulator or state machine runner.
        const { generateScps, exceptionPatterns } = await import('../../scp/generate');
        const { renderScps } = await import('../../scp/render');
        const options = { guardRoleArns: opts.guardRoleArn, guardRoleNames: opts.guardRoleName, breakGlassRoles: opts.breakGlassRole, roleAdminArns: opts.roleAdminArn };
        try {
          exceptionPatterns(options);
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          problems.push(...err.problems);
        }
        const [policy, organization] = await loadAll<[Policy, OrganizationTree | null]>(
          [opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(null as never), opts.organization ? loadOrganizationFile(opts.organization) : Promise.resolve(null)],
          problems,
        );
        const out = generateScps(policy, { ...options, organization });
        if (opts.format === 'json') printJson(out);
        else {
          // Warnings go to stderr so that the report on stdout stays the same whatever they say.
          for (const w of out.warnings) process.stderr.write(`warning: ${w}\n`);
          process.stdout.write(renderScps(out));
        }
        return EXIT.OK;
      }),
    );
}
