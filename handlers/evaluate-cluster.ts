import { eksWiring } from '../src/aws/eks';
import { ledgerWiring } from '../src/aws/ledger';
import { organizationWiring } from '../src/aws/organizations';
import { lambdaHandler } from '../src/lambda';
import { evaluateClusterStep } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** EvaluateCluster state: judges the live cluster against the bundled policy. */
export const handler = lambdaHandler('EvaluateCluster', { eks: eksWiring, ledger: ledgerWiring, organization: organizationWiring }, (state: ExecutionState, deps) => evaluateClusterStep(state, deps.workflow));
