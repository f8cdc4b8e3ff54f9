/**
 * The correlation key every log line of an invocation carries (`correlationId`): what ties the lines
 * of one enforcement, one intake or one sweep together across functions. Pure.
 */

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const record = (value: unknown): Record<string, unknown> | null => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null);

/**
 * The correlation id of a Lambda event, read off its shape (a handler may serve more than one state,
 * and the state's input is all it has):
 * - an enforcement step (its state carries `executionName`): the execution's name;
 * - an organization sweep step: the sweep's time (`sweepTime` of a unit's state and of RecordCoverage's
 *   input; for ListSweepUnits the schedule's `time`, else the execution's `startTime`, as it takes it);
 * - the intake (an EventBridge event of CloudTrail): the CloudTrail `detail.eventID`, which the
 *   execution it starts is named after (`evt-<eventID>`), else the EventBridge event's `id`.
 * Null for anything else.
 */
export function correlationIdOf(event: unknown): string | null {
  const e = record(event);
  if (!e) return null;
  const executionName = text(e.executionName);
  if (executionName) return executionName;
  const sweepTime = text(e.sweepTime);
  if (sweepTime) return sweepTime;
  if ('startTime' in e) return text(record(e.input)?.time) ?? text(e.startTime);
  return text(record(e.detail)?.eventID) ?? text(e.id);
}
