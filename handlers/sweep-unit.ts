import { sweepEksWiring } from '../src/aws/eks';
import { executionWiring } from '../src/aws/sfn';
import { lambdaHandler } from '../src/lambda';
import { sweepUnit } from '../src/sweep/sweep-unit';
import type { UnitState } from '../src/sweep/types';

/**
 * One account × region of the organization sweep, for as long as the invocation's time allows: returns
 * the continuation the state machine loops on until the unit is done.
 */
export const handler = lambdaHandler('SweepUnit', { sweepEks: sweepEksWiring, executions: executionWiring }, (state: UnitState, deps, context) =>
  sweepUnit(state, {
    eks: deps.sweep.eks,
    executions: deps.sweep.executions,
    policy: deps.workflow.policy,
    shadowMode: deps.config.SHADOW_MODE,
    now: deps.intake.now,
    log: deps.log,
    timeLeftMs: () => context.getRemainingTimeInMillis() - deps.sweep.timeMarginMs,
    describeConcurrency: deps.sweep.describeConcurrency,
  }),
);
