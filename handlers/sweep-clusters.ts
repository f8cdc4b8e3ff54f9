import type { ScheduledEvent } from 'aws-lambda';
import { InputError } from '../src/errors';
import { eksWiring } from '../src/aws/eks';
import { executionWiring } from '../src/aws/sfn';
import { lambdaHandler } from '../src/lambda';
import { sweepClusters } from '../src/workflow/intake';

/** Scheduled sweep: judges every cluster of the covered accounts in this region and starts an execution per violation. */
export const handler = lambdaHandler('SweepClusters', { eks: eksWiring, executions: executionWiring }, async (event: ScheduledEvent, deps) => {
  if (deps.sweepAccounts.length === 0) throw new InputError(['environment HOME_ACCOUNT_ID: required by the sweep but missing']);
  const result = await sweepClusters(deps.sweepAccounts, deps.region, event.time, deps.intake);
  // Report partial failure loudly: the invocation fails (and alarms) after every cluster was tried.
  if (result.failures.length > 0) throw new Error(`sweep could not judge ${result.failures.length} cluster(s): ${result.failures.map((f) => `${f.account}/${f.cluster}: ${f.error}`).join('; ')}`);
  return result;
});
