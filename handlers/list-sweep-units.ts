import { organizationWiring } from '../src/aws/organizations';
import { lambdaHandler } from '../src/lambda';
import { listSweepUnits } from '../src/sweep/list-units';

/** The organization sweep's input: the schedule's event (its `time`), or anything with the execution's start time. */
export type ListSweepUnitsEvent = { input?: { time?: unknown } | null; startTime: string };

/** First state of the organization sweep: one unit per governed account × region, and the accounts skipped. */
export const handler = lambdaHandler('ListSweepUnits', { organization: organizationWiring }, (event: ListSweepUnitsEvent, deps) => {
  // A schedule gives its time; a hand-started execution sweeps as of its own start.
  const time = typeof event.input?.time === 'string' ? event.input.time : event.startTime;
  const { governedOus, excludedAccounts, regions } = deps.governance;
  return listSweepUnits(time, { organization: deps.sweep.organization, policy: deps.workflow.policy, options: { governedOus, excludedAccounts, regions }, log: deps.log });
});
