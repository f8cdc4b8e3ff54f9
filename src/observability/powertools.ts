/**
 * Powertools for AWS Lambda behind the guard's logs and metrics: one Logger and one Metrics per cold
 * start, shared by the middlewares of src/lambda.ts and the dependencies of src/dependencies.ts, and the
 * middlewares that put the Lambda context and the correlation key on every log line and flush the
 * metrics (CloudWatch embedded metric format, written to stdout) once per invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { correlationIdOf } from './correlation';
import { METRICS_NAMESPACE, SERVICE_NAME, type MetricsSink } from './metrics';

let logger: Logger | undefined;
let metrics: Metrics | undefined;

/** The Logger of this process, built on first use (the cold start). */
export function powertoolsLogger(): Logger {
  logger ??= new Logger({ serviceName: SERVICE_NAME });
  return logger;
}

/** The Metrics of this process, built on first use; its own warnings go to the Logger as JSON lines. */
export function powertoolsMetrics(): Metrics {
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger: powertoolsLogger() });
  return metrics;
}

/**
 * A sink backed by Powertools Metrics. A metric with dimensions of its own is emitted at once as a
 * single metric (an EMF document's dimensions apply to every metric in it); the others are kept and
 * written together when the invocation ends (flushMetrics).
 */
export function powertoolsMetricsSink(target: Metrics = powertoolsMetrics()): MetricsSink {
  return {
    add: ({ name, unit, value, dimensions }) => {
      const entries = Object.entries(dimensions ?? {});
      if (entries.length === 0) {
        target.addMetric(name, unit, value);
        return;
      }
      const single = target.singleMetric();
      for (const [key, dimension] of entries) single.addDimension(key, dimension);
      single.addMetric(name, unit, value);
    },
  };
}

/** The name the correlation key has on every log line (Logs Insights: `filter correlationId = "…"`). */
export const CORRELATION_KEY = 'correlationId';

/**
 * The Lambda context (function name and ARN, request id, cold start) and the correlation key on every
 * line of an invocation, both cleared when it ends: the next invocation of the same process must not
 * carry the last one's keys.
 */
export function logContext(target: Logger = powertoolsLogger()): middy.MiddlewareObj[] {
  const correlate: middy.MiddlewareObj = {
    before: (request) => {
      const id = correlationIdOf(request.event);
      if (id) target.appendKeys({ [CORRELATION_KEY]: id });
    },
  };
  return [injectLambdaContext(target, { resetKeys: true }), correlate];
}

/**
 * Writes the metrics kept during the invocation, after it succeeded or failed. Powertools' own
 * `logMetrics` middleware would do the same, but with `throwOnEmptyMetrics: false` it logs a warning on
 * every invocation that recorded nothing, which is most of them.
 */
export function flushMetrics(target: Metrics = powertoolsMetrics()): middy.MiddlewareObj {
  const flush = async () => {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
