/**
 * The alert port over SNS: one publish per alert with a per-protocol message. Email gets the plain text;
 * chat subscribers (Amazon Q Developer in chat applications / AWS Chatbot, subscribed over HTTPS) get the
 * custom-notification JSON they require, or they drop the message; Lambda and SQS subscribers get the
 * same JSON, which is machine-readable; everything else the text.
 */
import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { requireConfig } from '../config';
import type { WiringContext } from '../wiring';
import type { AlertPort } from '../workflow/ports';
import type { Alert } from '../workflow/types';
import { call } from './errors';

/** SNS's limit for one message, attributes included. */
export const SNS_MAX_BYTES = 262_144;
/** SNS subjects must be under 100 characters, without line breaks or control characters. */
export const SNS_SUBJECT_MAX_CHARS = 99;

const SHORTENED = '\n\n[... shortened to fit the 256 KiB SNS limit; the execution history has the whole story]';
const MIN_TEXT_CHARS = 2000;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Cuts a string to at most `max` UTF-16 units without leaving half a surrogate pair at the end. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = s.slice(0, Math.max(0, max));
  return /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
}

/** A subject SNS accepts: control characters become spaces, and it ends with "..." when cut. */
export function snsSubject(subject: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = subject.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (clean === '') return 'eks-endpoint-guard alert';
  return clean.length <= SNS_SUBJECT_MAX_CHARS ? clean : `${cut(clean, SNS_SUBJECT_MAX_CHARS - 3)}...`;
}

/** The message attributes subscription filter policies select on; SNS refuses empty values, so they are left out. */
export function snsAttributes(alert: Alert): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(alert.attributes)
      .filter(([, value]) => typeof value === 'string' && value !== '')
      .map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
}

function attributesBytes(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce((sum, [name, a]) => sum + bytes(name) + bytes(a.DataType ?? '') + bytes(a.StringValue ?? ''), 0);
}

/** Every string longer than `max` cut to `max`, every array longer than `maxItems` cut to `maxItems`. */
function shrinkStrings(value: unknown, max: number, maxItems: number): unknown {
  if (typeof value === 'string') return value.length > max ? `${cut(value, max)}...` : value;
  if (Array.isArray(value)) return value.slice(0, maxItems).map((v) => shrinkStrings(v, max, maxItems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrinkStrings(v, max, maxItems)]));
  }
  return value;
}

function structured(text: string, chat: unknown): string {
  const chatJson = JSON.stringify(chat);
  return JSON.stringify({ default: text, email: text, https: chatJson, lambda: chatJson, sqs: chatJson });
}

/**
 * The `MessageStructure: json` message for an alert, at most `budget` bytes. The renderer bounds its own
 * output; this is the last line of defence, so an oversized alert is shortened (the text first, then the
 * chat notification's longest strings) rather than lost.
 */
export function snsMessage(alert: Pick<Alert, 'text' | 'chat'>, budget = SNS_MAX_BYTES): string {
  let text = alert.text;
  let chat: unknown = alert.chat;
  let message = structured(text, chat);
  // Escaping makes the size nonlinear in the text's length, so shrink by the measured ratio and measure again.
  for (let round = 0; bytes(message) > budget && round < 30; round++) {
    const ratio = (budget / bytes(message)) * 0.95;
    if (text.length > MIN_TEXT_CHARS) {
      const keep = Math.max(MIN_TEXT_CHARS, Math.floor((text.length - SHORTENED.length) * ratio));
      text = `${cut(alert.text, keep)}${SHORTENED}`;
    } else {
      const longest = Math.max(64, Math.floor(JSON.stringify(chat).length * ratio * 0.5));
      chat = shrinkStrings(chat, longest, Math.max(3, Math.floor(longest / 64)));
      if (longest === 64) text = cut(text, Math.floor(text.length * ratio));
    }
    message = structured(text, chat);
  }
  if (bytes(message) > budget) message = JSON.stringify({ default: cut(text, Math.floor(budget / 4)) });
  return message;
}

/** Publishes alerts to one topic: subject, per-protocol message, filterable attributes. */
export function createAlertPort(client: SNSClient, topicArn: string): AlertPort {
  return {
    async publish(alert) {
      const Subject = snsSubject(alert.subject);
      const MessageAttributes = snsAttributes(alert);
      const Message = snsMessage(alert, SNS_MAX_BYTES - attributesBytes(MessageAttributes));
      const out = await call({ operation: 'Publish', detail: `topic ${topicArn}, alert "${Subject}"` }, () =>
        client.send(new PublishCommand({ TopicArn: topicArn, Subject, Message, MessageStructure: 'json', MessageAttributes })),
      );
      return out.MessageId ?? '';
    },
  };
}

/** The alert port: the home account's alert topic. */
export const alertWiring = ({ clients, config }: WiringContext): AlertPort => createAlertPort(clients.home(SNSClient, config.AWS_REGION), requireConfig(config, 'ALERT_TOPIC_ARN'));
