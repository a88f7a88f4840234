import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { serviceTopic } from './service-topic.ts';

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
    // The topic policy statement the event destination adds limits publishing to this account's
    // configuration set (aws:SourceAccount, aws:SourceArn).
    this.events = serviceTopic(
      this,
      { key: 'EventsKey', topic: 'Events' },
      {
        displayName: 'risk-audit mail events',
        keyDescription: 'encrypts the risk-audit mail-events topic',
        publisher: 'ses.amazonaws.com',
      },
    );
    this.configurationSet.addEventDestination('ToTopic', {
      destination: ses.EventDestination.snsTopic(this.events),
      events: [...PUBLISHED_MAIL_EVENTS],
    });
  }
}
