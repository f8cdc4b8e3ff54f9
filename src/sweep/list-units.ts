/**
 * ListSweepUnits: reads the organization and plans the sweep, one unit per governed account × region.
 */
import type { OrganizationPort } from '../org/types';
import type { Policy } from '../policy';
import type { Log } from '../workflow/deps';
import { planSweep, type PlanOptions } from './plan';
import type { SweepPlan } from './types';

export type ListUnitsDeps = { organization: OrganizationPort; policy: Policy; options: PlanOptions; log: Log };

/** The plan for the sweep scheduled at `sweepTime`; the skipped accounts are logged with their reasons. */
export async function listSweepUnits(sweepTime: string, deps: ListUnitsDeps): Promise<SweepPlan> {
  const org = await deps.organization.describe();
  const plan = planSweep(org, deps.policy, deps.options, sweepTime);
  if (plan.unknownExclusions.length > 0) deps.log.warn('excluded accounts not in the organization', { unknownExclusions: plan.unknownExclusions });
  if (plan.unknownOus.length > 0) deps.log.warn('governed OUs not in the organization', { unknownOus: plan.unknownOus });
  // Not thrown: the sweep still judges what it governs, and RecordCoverage reports the problems and alerts.
  if (plan.configurationProblems.length > 0) deps.log.warn('sweep scope misconfigured', { configurationProblems: plan.configurationProblems });
  deps.log.info('sweep planned', { sweepTime, organizationId: plan.organizationId, accounts: plan.accounts.length, regions: plan.regions, units: plan.units.length, skipped: plan.skipped });
  return plan;
}
