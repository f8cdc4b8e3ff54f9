/** The dead-letter queue's two formats and its malformed messages, read into what `redrive` does with them. */
import { readFileSync } from 'node:fs';
import { explainDeadLetter, planRedrive, unwrapDeadLetter, type QueueMessage } from '../../src/redrive/dead-letter';

const event = JSON.parse(readFileSync('test/fixtures/cloudtrail/bare-record-update.json', 'utf8')) as Record<string, unknown>;
const envelope = { version: '0', id: 'e1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.eks', account: '111122223333', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: event };
const eventId = (event as { eventID: string }).eventID;
const failureRecord = (payload: unknown) => ({
  version: '1.0',
  timestamp: '2026-01-01T00:00:05Z',
  requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:eks-endpoint-guard-prod-triageEvent:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: payload,
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'TransientAwsError', errorMessage: 'PutItem failed: ThrottlingException: Rate exceeded', trace: [] },
});
const message = (body: unknown, attributes: Record<string, string> = {}, id = 'm-1'): QueueMessage => ({ messageId: id, receiptHandle: `rh-${id}`, body: typeof body === 'string' ? body : JSON.stringify(body), attributes, receiveCount: 1, sentAt: 1_767_225_600_000 });

describe('explainDeadLetter', () => {
  test.each([
    ['an EventBridge delivery failure, with its reason', message(envelope, { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Unable to invoke Lambda', RULE_ARN: 'arn:aws:events:us-east-1:111122223333:rule/r', TARGET_ARN: 'arn:aws:lambda:us-east-1:111122223333:function:f' }), 'eventbridge-delivery-failure', /could not deliver it by rule arn:aws:events:.*rule\/r to arn:aws:lambda:.*: SDK_CLIENT_ERROR: Unable to invoke Lambda/, true],
    ['a Lambda failure record of the intake', message(failureRecord(envelope)), 'lambda-failure', /the intake ran and failed: TransientAwsError: PutItem failed: ThrottlingException: Rate exceeded, in .*triageEvent.* after 3 attempt\(s\) \(RetriesExhausted\)/, true],
    ['a Lambda failure record of a bare CloudTrail record', message(failureRecord(event)), 'lambda-failure', /the intake ran and failed/, true],
    ['a body that is not JSON', message('not json {'), 'malformed', /the body is not JSON/, false],
    ['a JSON array', message([1, 2]), 'malformed', /not an object/, false],
    ['JSON that is no event: the EventBridge reason first', message({ hello: 'world' }, { ERROR_CODE: 'NO_RESOURCE' }), 'malformed', /^EventBridge could not deliver it \(NO_RESOURCE\), and it is not a CloudTrail event nor a Lambda failure record: /, false],
    ['the sweep schedule EventBridge could not start', message({ version: '0', id: 's', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '111122223333', time: '2026-01-01T06:00:00Z', region: 'us-east-1', resources: [], detail: {} }, { ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: 'not authorized' }), 'eventbridge-delivery-failure', /could not start the scheduled sweep: NO_PERMISSIONS: not authorized; nothing to re-submit/, false],
    ['a bare CloudTrail record put there by hand', message(event), 'cloudtrail-record', /a bare CloudTrail record/, true],
    ['a Lambda failure record whose event was malformed', message(failureRecord({ detail: { eventName: 42 } })), 'malformed', /a Lambda failure record from .* whose event is not a CloudTrail event/, false],
  ])('%s', (_name, msg, kind, explanation, hasEvent) => {
    const letter = explainDeadLetter(msg);
    expect(letter.kind).toBe(kind);
    expect(letter.explanation).toMatch(explanation);
    expect(letter.event !== null).toBe(hasEvent);
    if (hasEvent) expect(letter.triage).toMatchObject({ eventId, eventName: 'UpdateClusterConfig' });
    expect(letter.sentAt).toBe('2026-01-01T00:00:00.000Z');
  });

  test('unwrapDeadLetter gives the event of a failure record and leaves anything else as it is', () => {
    expect(unwrapDeadLetter(failureRecord(envelope))).toEqual(envelope);
    expect(unwrapDeadLetter(envelope)).toBe(envelope);
    expect(unwrapDeadLetter('x')).toBe('x');
  });
});

describe('planRedrive', () => {
  test('the same event in both formats is submitted once, for both messages; malformed messages are kept', () => {
    const letters = [message(envelope, { ERROR_CODE: 'SDK_CLIENT_ERROR' }, 'a'), message(failureRecord(envelope), {}, 'b'), message('garbage', {}, 'c')].map(explainDeadLetter);
    const plan = planRedrive(letters);
    expect(plan.submit).toEqual([{ eventId, event: envelope, messageIds: ['a', 'b'] }]);
    expect(plan.keep.map((k) => k.messageId)).toEqual(['c']);
  });
});
