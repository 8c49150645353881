import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { motoClientConfig, uniqueName } from './moto';

export const sqs = () => new SQSClient(motoClientConfig());
export const sns = () => new SNSClient(motoClientConfig());
export const eventBridge = () => new EventBridgeClient(motoClientConfig());

export interface Queue {
  readonly url: string;
  readonly arn: string;
}

export async function createQueue(stem: string): Promise<Queue> {
  const client = sqs();
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: uniqueName(stem) }));
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: attrs.Attributes!.QueueArn! };
}

export async function createTopic(name: string): Promise<string> {
  return (await sns().send(new CreateTopicCommand({ Name: name }))).TopicArn!;
}

/** A partner's queue on a feed topic, raw delivery, with a filter policy on the message attributes. */
export async function subscribeQueue(topicArn: string, queue: Queue, filterPolicy?: object): Promise<void> {
  await sns().send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: queue.arn,
      Attributes: { RawMessageDelivery: 'true', ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}) },
    }),
  );
}

/** An EventBridge rule on the default bus that sends every event matching `pattern` to the queue. */
export async function ruleToQueue(pattern: object, queue: Queue, busName = 'default'): Promise<void> {
  const name = uniqueName('rule');
  const client = eventBridge();
  await client.send(new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify(pattern), State: 'ENABLED' }));
  await client.send(new PutTargetsCommand({ Rule: name, EventBusName: busName, Targets: [{ Id: 'queue', Arn: queue.arn }] }));
}

/** Every message waiting in the queue, parsed as JSON, deleted once read. */
export async function drain<T = any>(queue: Queue): Promise<T[]> {
  const client = sqs();
  const out: T[] = [];
  for (;;) {
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const messages = got.Messages ?? [];
    if (messages.length === 0) return out;
    for (const m of messages) out.push(JSON.parse(m.Body!) as T);
    await client.send(
      new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}
