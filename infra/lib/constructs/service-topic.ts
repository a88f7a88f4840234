import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Construct ids of a service topic's key and topic (ids are a contract: they name the resources). */
export interface ServiceTopicIds {
  readonly key: string;
  readonly topic: string;
}

/**
 * An SNS topic an AWS service publishes to, encrypted and TLS only. A service cannot publish to a
 * topic under the AWS managed SNS key, so the topic has a customer key (rotated yearly) the
 * service may use. Who may publish is the topic policy's business (each caller adds its statement,
 * scoped by aws:SourceAccount and aws:SourceArn); the key only lets the service encrypt.
 */
export function serviceTopic(
  scope: Construct,
  ids: ServiceTopicIds,
  props: { readonly displayName: string; readonly keyDescription: string; readonly publisher: string },
): sns.Topic {
  const key = new kms.Key(scope, ids.key, { description: props.keyDescription, enableKeyRotation: true });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(props.publisher)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  return new sns.Topic(scope, ids.topic, {
    displayName: props.displayName,
    masterKey: key,
    enforceSSL: true,
  });
}
