import { coverageWiring } from '../src/aws/coverage';
import { lambdaHandler } from '../src/lambda';
import type { CoverageInput } from '../src/sweep/coverage';
import { recordCoverage } from '../src/sweep/record-coverage';

/** Last state of the organization sweep: the coverage record, logged, kept, and warned on when incomplete. */
export const handler = lambdaHandler('RecordCoverage', { coverage: coverageWiring }, (input: CoverageInput, deps) =>
  recordCoverage(input, { coverage: deps.sweep.coverage, now: deps.intake.now, log: deps.log, metrics: deps.metrics }),
);
