import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The SES sending events published to the mail-events topic: the ones that need a person. */
export const PUBLISHED_MAIL_EVENTS = [
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
] as const;

/**
 * How the reports are sent: an SES configuration set (TLS required, reputation metrics, the
 * account's suppression list for bounces and complaints) whose bounce, complaint and reject
 * events go to an encrypted SNS topic, for a subscriber to record and the mail alarms to watch.
 */
export class MailDelivery extends Construct {
  /** The configuration set every report and notice is sent with. */
  public readonly configurationSet: ses.ConfigurationSet;
  /** Topic receiving SES's bounce, complaint and reject events. */
  public readonly events: sns.Topic;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      // Reports carry portfolio figures: never in clear text between mail servers.
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    // SES cannot publish to a topic under the AWS managed SNS key: a customer key it may use. The
    // topic policy (added by the event destination) is what limits publishing to this account's
    // configuration set (aws:SourceAccount, aws:SourceArn).
    const key = new kms.Key(this, 'EventsKey', {
      description: 'encrypts the risk-audit mail-events topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.events = new sns.Topic(this, 'Events', {
      displayName: 'risk-audit mail events',
      masterKey: key,
      enforceSSL: true,
    });
    this.configurationSet.addEventDestination('ToTopic', {
      destination: ses.EventDestination.snsTopic(this.events),
      events: [...PUBLISHED_MAIL_EVENTS],
    });
  }
}
