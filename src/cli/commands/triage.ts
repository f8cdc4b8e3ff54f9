import type { Command } from 'commander';
import { InputError } from '../../errors';
import type * as Arn from '../../events/arn';
import type { TriageResult } from '../../events/triage';
import { EXIT, printJson, readDocument, runCommand } from '../io';

type TriageCliOptions = {
  event: string;
  selfRoleArn?: string[];
  crossAccountRoleName?: string;
  homeAccount?: string;
  ownToken?: string[];
  json?: boolean;
};

/**
 * Registers `triage --event FILE [--self-role-arn ARN ...] [--cross-account-role-name NAME]
 * [--home-account ID] [--own-token TOKEN ...] [--json]`: the first judgement on a CloudTrail event, as the
 * workflow would make it given the guard's roles and the tokens its ledger holds for the cluster. Any valid
 * event exits 0, whether it is to be evaluated or ignored; a missing or unreadable file, invalid JSON, a
 * document that is not such an event, or a malformed role ARN, role name, account ID or token exits 2 with
 * one line per problem.
 */
export function registerTriageCommand(program: Command): void {
  program
    .command('triage')
    .description('Decide whether a CloudTrail event (EventBridge envelope or bare record) is a change to evaluate')
    .requiredOption('--event <file>', 'the event: an EventBridge "AWS API Call via CloudTrail" envelope, a bare CloudTrail record, or a dead-letter message (Lambda failure record) holding one (JSON)')
    .option('--self-role-arn <arn>', "one of the guard's own IAM role ARNs in its home account (repeatable)", collect)
    .option(
      '--cross-account-role-name <name>',
      'the role name the guard assumes in member accounts; a role of this name counts as the guard in every account but the home account',
    )
    .option('--home-account <id>', 'the account the guard is deployed in (12 digits); default: the accounts of the --self-role-arn roles')
    .option(
      '--own-token <token>',
      "clientRequestToken of an update the guard recorded for this cluster (repeatable); a guard-role change is the guard's own only with one of these",
      collect,
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      [
        '',
        'A change made with a guard role is ignored (SELF_REMEDIATION) only when it is an',
        'UpdateClusterConfig whose clientRequestToken is one of the --own-token values.',
        "Any other guard-role change to what the guard judges (endpoint access, a",
        "cluster's tags) is evaluated, with reason GUARD_ROLE_UNVERIFIED.",
        '',
        'Example:',
        '  eks-endpoint-guard triage --event event.json \\',
        '    --self-role-arn arn:aws:iam::123456789012:role/guard-remediate \\',
        '    --cross-account-role-name guard-member --home-account 123456789012 \\',
        '    --own-token 5d1c0e2a-7f3b-4c8e-9a61-2b7d4e9f0c13 --json',
      ].join('\n'),
    )
    .action((opts: TriageCliOptions) => runCommand(() => triage(opts)));
}

// No default list: commander would print `(default: [])` in the help.
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Every problem with the options, one line each, so that one run shows them all. */
function optionProblems(opts: TriageCliOptions, { isAccountId, isRoleName, parseRoleArn }: typeof Arn): string[] {
  const problems = (opts.selfRoleArn ?? [])
    .filter((arn) => parseRoleArn(arn) === null)
    .map((arn) => `--self-role-arn ${arn}: not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME, optionally with a path)`);
  const name = opts.crossAccountRoleName;
  if (name !== undefined && !isRoleName(name)) {
    problems.push(`--cross-account-role-name ${name}: not an IAM role name (expected 1-64 letters, digits or +=,.@_-)`);
  }
  const account = opts.homeAccount;
  if (account !== undefined && !isAccountId(account)) problems.push(`--home-account ${account}: not an AWS account ID (expected 12 digits)`);
  if ((opts.ownToken ?? []).some((token) => token.trim() === '')) problems.push('--own-token: empty (expected a clientRequestToken)');
  return problems;
}

async function triage(opts: TriageCliOptions): Promise<number> {
  // Loaded here, not at the top: `triage` is the only command that reads CloudTrail events.
  const [arn, { triageEvent }, { unwrapDeadLetter }] = await Promise.all([import('../../events/arn'), import('../../events/triage'), import('../../redrive/dead-letter')]);
  // Report bad options and a bad event file together: one run shows every problem.
  const problems = optionProblems(opts, arn);
  let result: TriageResult | null = null;
  try {
    // A message from the dead-letter queue may be Lambda's failure record: its event is the requestPayload.
    result = triageEvent(unwrapDeadLetter(await readDocument(opts.event, 'event')), {
      selfRoleArns: opts.selfRoleArn ?? [],
      crossAccountRoleName: opts.crossAccountRoleName ?? null,
      homeAccount: opts.homeAccount ?? null,
      ownTokens: opts.ownToken ?? [],
    });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || result === null) throw new InputError(problems);

  if (opts.json) printJson(result);
  else process.stdout.write(renderTable(result));
  return EXIT.OK;
}

function renderTable(r: TriageResult): string {
  const rows: Array<[string, string]> = [
    ['decision', r.reason ? `${r.decision} (${r.reason})` : r.decision],
    ['event', r.eventName],
    ['event id', r.eventId],
    ['event time', r.eventTime ?? '-'],
    ['cluster', r.cluster ? `${r.cluster.name} (account ${r.cluster.account}, region ${r.cluster.region})` : '-'],
    ['update id', r.updateId ?? '-'],
    ['requested', describeRequested(r.requested)],
    ['actor', describeActor(r)],
    ['source IP', r.actor?.sourceIPAddress ?? '-'],
    ['user agent', r.actor?.userAgent ?? '-'],
    ['wait for', r.waitFor ?? '-'],
  ];
  // Rows that only some events have come last, so the common rows keep their place for readers and scripts.
  if (r.clientRequestToken !== null) rows.push(['token', r.clientRequestToken]);
  if (r.tags !== null) rows.push(['tags', describeTags(r.tags)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join('');
}

function describeActor(r: TriageResult): string {
  const notes = [r.actor?.type, r.guardRole ? 'guard role' : null].filter((note): note is string => !!note);
  if (!r.actor?.arn) return notes.length > 0 ? notes.join(', ') : '-';
  return notes.length > 0 ? `${r.actor.arn} (${notes.join(', ')})` : r.actor.arn;
}

function describeTags(tags: NonNullable<TriageResult['tags']>): string {
  const set = Object.entries(tags.set).map(([key, value]) => `${key}=${value}`);
  const parts = [set.length > 0 ? `set ${set.join(', ')}` : null, tags.removed.length > 0 ? `removed ${tags.removed.join(', ')}` : null];
  return parts.filter(Boolean).join('; ') || 'none';
}

function describeRequested(requested: TriageResult['requested']): string {
  if (!requested) return '-';
  const onOff = (v: boolean) => (v ? 'on' : 'off');
  const parts: string[] = [];
  if (requested.endpointPublicAccess !== undefined) parts.push(`public ${onOff(requested.endpointPublicAccess)}`);
  if (requested.endpointPrivateAccess !== undefined) parts.push(`private ${onOff(requested.endpointPrivateAccess)}`);
  if (requested.publicAccessCidrs !== undefined) parts.push(`public CIDRs ${requested.publicAccessCidrs.join(', ')}`);
  return parts.join('; ');
}
