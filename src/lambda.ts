/**
 * Wraps use cases as Lambda handlers with middy. Dependencies are built once per cold start (see
 * src/dependencies.ts), never per request; errors keep their `name`, which is what the state machine's
 * Retry and Catch match. Every log line of an invocation carries the Lambda context and the correlation
 * key (src/observability/correlation.ts); the metrics the use case recorded are written when it ends.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { getDependencies, type Dependencies } from './dependencies';
import { flushMetrics, logContext, powertoolsLogger } from './observability/powertools';
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
        // The cold start itself failed (a bad policy, a missing setting): the dependencies' log is part of
        // what could not be built, but the Logger the middlewares share needs no configuration.
        powertoolsLogger().error('step failed', fields);
      }
    },
  };
}

/**
 * A Lambda handler for one use case, given the cold-start dependencies built with `wiring`: the ports
 * (and so the SDK clients) this function uses.
 */
export function lambdaHandler<In, Out>(step: string, wiring: Wiring, useCase: (event: In, deps: Dependencies, context: Context) => Promise<Out>) {
  type Middleware = middy.MiddlewareObj<In, Out, Error, Context>;
  // Order matters: middy runs onError (and after) last-in first-out, so the step's failure is logged while
  // the context and correlation keys are still on, and the metrics are written before they are cleared.
  return middy<In, Out, Error, Context>()
    .use(logContext() as Middleware[])
    .use(flushMetrics() as Middleware)
    .use(logErrors(step) as Middleware)
    .handler(async (event: In, context: Context) => useCase(event, await getDependencies(wiring), context));
}
