/**
 * The human-readable form of `eks-endpoint-guard scp` (`--format text`): per policy, its target, size and
 * what it denies where, then the document to attach; then what only the guard enforces, and the notes. Pure.
 */
import type { IamStatement } from '../iam/guardrail';
import { SCP_MAX_CHARACTERS, type ScpOutput } from './generate';

const WHAT: Record<string, string> = {
  'eks:endpointPublicAccess': 'public endpoint on',
  'eks:endpointPrivateAccess': 'private endpoint off',
};

function regionsOf(condition: NonNullable<IamStatement['Condition']>): string {
  const list = (v: string | readonly string[] | undefined) => (v === undefined ? null : typeof v === 'string' ? v : v.join(', '));
  const only = list(condition.StringEquals?.['aws:RequestedRegion']);
  if (only !== null) return `in ${only}`;
  const except = list(condition.StringNotEquals?.['aws:RequestedRegion']);
  return except !== null ? `in every region except ${except}` : 'in every region';
}

const list = (v: string | readonly string[] | undefined) => (v === undefined ? '' : typeof v === 'string' ? v : v.join(', '));

/** One line per Deny statement: what it refuses, on which action, where (and, for the role protection, to whom). */
function describe(statement: IamStatement): string {
  const c = statement.Condition ?? {};
  if (!c.Bool && !c.Null) {
    return `denies changing the roles ${list(statement.Resource)} (${list(statement.Action)}), except to ${list(c.ArnNotLike?.['aws:PrincipalArn'])}`;
  }
  const [key, value] = Object.entries(c.Bool ?? c.Null ?? {})[0] ?? ['?', '?'];
  const what = WHAT[key] ?? key;
  const how = c.Null ? `eks:CreateCluster omitting ${key} (the EKS default widens)` : `eks:CreateCluster and eks:UpdateClusterConfig asking ${key}=${value}`;
  return `denies ${what}: ${how}, ${regionsOf(c)}`;
}

/** The text report of an SCP generation. */
export function renderScps(out: ScpOutput): string {
  const lines: string[] = [];
  const targets = new Set(out.policies.map((p) => `${p.target.type} ${p.target.id}`));
  lines.push(`${out.policies.length} service control ${out.policies.length === 1 ? 'policy' : 'policies'} for ${targets.size} ${targets.size === 1 ? 'target' : 'targets'}; ${out.guardOnly.length} enforced by the guard only`);
  if (out.policies.length === 0) lines.push('', 'Nothing in this policy can be refused by an SCP (see below).');
  for (const p of out.policies) {
    const doc = JSON.parse(p.document) as { Statement: IamStatement[] };
    lines.push('', `${p.name} → attach to ${p.target.type} ${p.target.id} (${p.size} of ${SCP_MAX_CHARACTERS} characters)`);
    if (p.rules.length > 0) lines.push(`  expresses: ${p.rules.join(', ')}`);
    for (const s of doc.Statement) lines.push(`  ${describe(s)}`);
    const eks = doc.Statement.find((s) => s.Condition?.Bool || s.Condition?.Null);
    const except = eks?.Condition?.ArnNotLike?.['aws:PrincipalArn'];
    if (except !== undefined) lines.push(`  except principals: ${list(except)}`);
    lines.push(`  ${p.document}`);
  }
  if (out.guardOnly.length > 0) {
    lines.push('', 'Enforced by the guard only:');
    for (const g of out.guardOnly) lines.push(`  - ${g.rule}: ${g.reason}`);
  }
  lines.push('', 'Notes:');
  for (const n of out.notes) lines.push(`  - ${n}`);
  return `${lines.join('\n')}\n`;
}
