import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert } from '../workflow/types';
import type { AlertPort } from '../workflow/ports';
import { toGuardError } from './errors';

/** SNS's limit for a message, attributes included. */
export const SNS_MAX_BYTES = 262_144;

/**
 * The SNS message for every kind of subscriber: email gets the text, and chat (Amazon Q Developer in chat
 * applications, subscribed over HTTPS) gets the custom-notification JSON it requires; anything else the text.
 */
export function snsMessage(alert: Alert): string {
  const chat = JSON.stringify(alert.chat);
  const build = (text: string) => JSON.stringify({ default: text, email: text, https: chat, lambda: chat, sqs: chat });
  let message = build(alert.text);
  // The renderer bounds its output; this is the last guard so an oversized alert is shortened, not lost.
  for (let keep = alert.text.length; Buffer.byteLength(message) + 1024 > SNS_MAX_BYTES && keep > 1000; ) {
    keep = Math.floor(keep * 0.8);
    message = build(`${alert.text.slice(0, keep)}\n[... alert shortened to fit SNS's 256 KiB limit]`);
  }
  return message;
}

/** Publishes alerts to one topic with filterable attributes (severity, outcome, account, region, cluster). */
export function createAlertPort(client: SNSClient, topicArn: string): AlertPort {
  return {
    async publish(alert) {
      const MessageAttributes = Object.fromEntries(Object.entries(alert.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
      try {
        const out = await client.send(new PublishCommand({ TopicArn: topicArn, Subject: alert.subject, Message: snsMessage(alert), MessageStructure: 'json', MessageAttributes }));
        return out.MessageId ?? '';
      } catch (err) {
        throw toGuardError(err, `Publish to ${topicArn}`);
      }
    },
  };
}
