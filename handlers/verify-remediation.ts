import { eksWiring } from '../src/aws/eks';
import { ledgerWiring } from '../src/aws/ledger';
import { organizationWiring } from '../src/aws/organizations';
import { lambdaHandler } from '../src/lambda';
import { verifyRemediation } from '../src/workflow/steps';
import type { ExecutionState } from '../src/workflow/types';

/** VerifyRemediation state: judges the cluster again after the revert. */
export const handler = lambdaHandler('VerifyRemediation', { eks: eksWiring, ledger: ledgerWiring, organization: organizationWiring }, (state: ExecutionState, deps) => verifyRemediation(state, deps.workflow));
