/**
 * Wraps use cases as Lambda handlers with middy. Dependencies are built once per cold start (see
 * src/dependencies.ts), never per request; errors keep their `name`, which is what the state machine's
 * Retry and Catch match.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { getDependencies, type Dependencies } from './dependencies';
import type { Wiring } from './wiring';

/** Logs an error with the step's name and lets it propagate: the state machine (or EventBridge) decides what happens next. */
function logErrors(step: string): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    onError: async (request) => {
      const err = request.error;
      const fields = { step, errorName: err?.name, errorMessage: err?.message };
      try {
        (await getDependencies()).log.error('step failed', fields);
      } catch {
        // The cold start itself failed (a bad policy, a missing setting): the structured logger is part of
        // what could not be built, so say it in the same JSON shape on stderr rather than not at all.
        process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: 'step failed', service: 'eks-endpoint-guard', ...fields })}\n`);
      }
    },
  };
}

/**
 * A Lambda handler for one use case, given the cold-start dependencies built with `wiring`: the ports
 * (and so the SDK clients) this function uses.
 */
export function lambdaHandler<In, Out>(step: string, wiring: Wiring, useCase: (event: In, deps: Dependencies, context: Context) => Promise<Out>) {
  return middy<In, Out, Error, Context>()
    .use(logErrors(step) as middy.MiddlewareObj<In, Out, Error, Context>)
    .handler(async (event: In, context: Context) => useCase(event, await getDependencies(wiring), context));
}
