import { ec2Wiring } from '../src/aws/ec2';
import { lambdaHandler } from '../src/lambda';
import { preflightCheck } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** PreflightCheck state: checks the VPC resolves the private endpoint before relying on it. */
export const handler = lambdaHandler('PreflightCheck', { ec2: ec2Wiring }, (state: ExecutionState, deps) => preflightCheck(state, deps.workflow));
