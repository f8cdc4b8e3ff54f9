import type { Command } from 'commander';
import { InputError } from '../../errors';
import { parseRoleArn } from '../../events/arn';
import { triageEvent, type TriageResult } from '../../events/triage';
import { EXIT, printJson, readDocument, runCommand } from '../io';

type TriageOptions = { event: string; selfRoleArn: string[]; json?: boolean };

/**
 * Registers `triage --event FILE [--self-role-arn ARN ...] [--json]`: the first judgement on a CloudTrail
 * event, as the workflow would make it. Any valid event exits 0, whether it is to be evaluated or ignored;
 * a missing or unreadable file, invalid JSON, a document that is not such an event or a malformed role ARN
 * exits 2 with one line per problem.
 */
export function registerTriageCommand(program: Command): void {
  program
    .command('triage')
    .description('Decide whether a CloudTrail event (EventBridge envelope or bare record) is an endpoint change to evaluate')
    .requiredOption('--event <file>', 'the event: an EventBridge "AWS API Call via CloudTrail" envelope or a bare CloudTrail record (JSON)')
    .option('--self-role-arn <arn>', "the guard's own IAM role ARN, whose changes are its own remediations (repeatable)", collect, [])
    .option('--json', 'print the result as JSON')
    .action((opts: TriageOptions) => runCommand(() => triage(opts)));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function triage(opts: TriageOptions): Promise<number> {
  // Report bad role ARNs and a bad event file together: one run shows every problem.
  const problems = opts.selfRoleArn
    .filter((arn) => parseRoleArn(arn) === null)
    .map((arn) => `--self-role-arn ${arn}: not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME, optionally with a path)`);
  let result: TriageResult | null = null;
  try {
    result = triageEvent(await readDocument(opts.event, 'event'), { selfRoleArns: opts.selfRoleArn });
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
    ['actor', r.actor?.arn ? `${r.actor.arn}${r.actor.type ? ` (${r.actor.type})` : ''}` : r.actor?.type ?? '-'],
    ['source IP', r.actor?.sourceIPAddress ?? '-'],
    ['user agent', r.actor?.userAgent ?? '-'],
    ['wait for', r.waitFor ?? '-'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join('');
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
