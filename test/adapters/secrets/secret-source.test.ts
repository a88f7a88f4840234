import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createSecretSource,
  EnvironmentSecretSource,
  SecretsManagerSecretSource,
} from '../../../shared/adapters/secret-source.ts';
import { LOCAL_BORROWER_REF_KEY, loadSecretsConfig } from '../../../shared/config.ts';
import { ConfigError } from '../../../shared/errors.ts';

const sm = mockClient(SecretsManagerClient);
const REF_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:BorrowerRefKey-AbCdEf';
const LINK_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ReportLinkKey-GhIjKl';
const client = () => new SecretsManagerClient({ region: 'ap-southeast-1' });

/** The previous stage's absence, as Secrets Manager answers it for a secret never rotated. */
const noPreviousVersion = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    $metadata: {},
  });

describe('Class: SecretsManagerSecretSource', () => {
  beforeEach(() => {
    sm.reset();
    vi.useFakeTimers({ now: new Date('2026-11-26T06:00:00Z'), toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a secret once and serves it from the cache until it is older than maxAge', async () => {
    // Prepare
    sm.on(GetSecretValueCommand, { SecretId: REF_ARN })
      .resolvesOnce({ SecretString: 'first-value' })
      .resolves({
        SecretString: 'rotated-value',
      });
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { borrowerRefKey: REF_ARN },
      maxAgeSeconds: 300,
    });

    // Act
    const first = await source.current('borrowerRefKey');
    const cached = await source.current('borrowerRefKey');
    vi.setSystemTime(new Date('2026-11-26T06:05:01Z'));
    const later = await source.current('borrowerRefKey');

    // Assess
    expect([first, cached, later]).toEqual(['first-value', 'first-value', 'rotated-value']);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: REF_ARN },
      { SecretId: REF_ARN },
    ]);
  });

  it('reads the previous version by its stage, in a cache of its own', async () => {
    sm.on(GetSecretValueCommand, { SecretId: LINK_ARN }).resolves({ SecretString: 'current-key' });
    sm.on(GetSecretValueCommand, { SecretId: LINK_ARN, VersionStage: 'AWSPREVIOUS' }).resolves({
      SecretString: 'previous-key',
    });
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { reportLinkKey: LINK_ARN },
      maxAgeSeconds: 300,
    });

    expect(await source.current('reportLinkKey')).toBe('current-key');
    expect(await source.previous('reportLinkKey')).toBe('previous-key');
    expect(await source.current('reportLinkKey')).toBe('current-key');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('answers null for a secret never rotated, and asks again only after maxAge or when forced', async () => {
    sm.on(GetSecretValueCommand, { SecretId: LINK_ARN, VersionStage: 'AWSPREVIOUS' }).rejects(
      noPreviousVersion(),
    );
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { reportLinkKey: LINK_ARN },
      maxAgeSeconds: 300,
    });

    expect(await source.previous('reportLinkKey')).toBeNull();
    expect(await source.previous('reportLinkKey')).toBeNull();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(await source.previous('reportLinkKey', { refresh: true })).toBeNull();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('forces a read past the cache when asked to refresh', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old' }).resolves({ SecretString: 'new' });
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { reportLinkKey: LINK_ARN },
      maxAgeSeconds: 300,
    });
    expect(await source.current('reportLinkKey')).toBe('old');
    expect(await source.current('reportLinkKey', { refresh: true })).toBe('new');
  });

  it('refuses a secret the function was not given, naming the variable, without calling AWS', async () => {
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { reportLinkKey: LINK_ARN },
      maxAgeSeconds: 300,
    });
    await expect(source.current('borrowerRefKey')).rejects.toThrow(
      new ConfigError(
        'this function was not given the borrowerRefKey secret (BORROWER_REF_KEY_SECRET_ARN is not set)',
      ),
    );
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('turns a denied read into one sentence naming the secret and the AWS error', async () => {
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), {
        name: 'AccessDeniedException',
      }),
    );
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { borrowerRefKey: REF_ARN },
      maxAgeSeconds: 300,
    });
    await expect(source.current('borrowerRefKey')).rejects.toThrow(
      'cannot read the borrowerRefKey secret from Secrets Manager (AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue)',
    );
    await expect(source.previous('borrowerRefKey')).rejects.toThrow(ConfigError);
  });

  it('refuses a secret holding no string (a binary secret)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const source = new SecretsManagerSecretSource({
      client: client(),
      arns: { borrowerRefKey: REF_ARN },
      maxAgeSeconds: 300,
    });
    await expect(source.current('borrowerRefKey')).rejects.toThrow(
      `the secret borrowerRefKey (${REF_ARN}) holds no string value`,
    );
  });
});

describe('Function: createSecretSource', () => {
  beforeEach(() => {
    sm.reset();
  });

  it('reads Secrets Manager with the ARNs of SECRET_SOURCE=secrets-manager', async () => {
    sm.on(GetSecretValueCommand, { SecretId: REF_ARN }).resolves({ SecretString: 'from-aws' });
    const source = createSecretSource(
      loadSecretsConfig({ SECRET_SOURCE: 'secrets-manager', BORROWER_REF_KEY_SECRET_ARN: REF_ARN }),
      client,
    );
    expect(source).toBeInstanceOf(SecretsManagerSecretSource);
    expect(await source.current('borrowerRefKey')).toBe('from-aws');
    await expect(source.current('reportLinkKey')).rejects.toThrow(/REPORT_LINK_KEY_SECRET_ARN is not set/);
  });

  it('reads plain variables on the embedded stack, with the local borrower key by default', async () => {
    const source = createSecretSource(loadSecretsConfig({}), client);
    expect(source).toBeInstanceOf(EnvironmentSecretSource);
    expect(await source.current('borrowerRefKey')).toBe(LOCAL_BORROWER_REF_KEY);
    await expect(source.current('reportLinkKey')).rejects.toThrow(/REPORT_LINK_KEY is not set/);
    const withLink = createSecretSource(
      loadSecretsConfig({ REPORT_LINK_KEY: 'c'.repeat(32), REPORT_LINK_PREVIOUS_KEY: 'p'.repeat(32) }),
      client,
    );
    expect(await withLink.current('reportLinkKey')).toBe('c'.repeat(32));
    expect(await withLink.previous('reportLinkKey')).toBe('p'.repeat(32));
    expect(await withLink.previous('borrowerRefKey')).toBeNull();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});

describe('Function: loadSecretsConfig', () => {
  it('refuses a secret value in the environment of a function that reads Secrets Manager', () => {
    expect(() =>
      loadSecretsConfig({ SECRET_SOURCE: 'secrets-manager', BORROWER_REF_KEY: 'a-plain-value' }),
    ).toThrow(
      'invalid environment: BORROWER_REF_KEY (a secret value must not be in the environment when SECRET_SOURCE is secrets-manager)',
    );
  });

  it('refuses an ARN that is not a secret ARN and an unknown source', () => {
    expect(() =>
      loadSecretsConfig({ SECRET_SOURCE: 'secrets-manager', REPORT_LINK_KEY_SECRET_ARN: 'ReportLinkKey' }),
    ).toThrow(/REPORT_LINK_KEY_SECRET_ARN \(a secret ARN\)/);
    expect(() => loadSecretsConfig({ SECRET_SOURCE: 'ssm' })).toThrow(/invalid environment: SECRET_SOURCE/);
  });

  it('caches for five minutes unless told otherwise', () => {
    expect(loadSecretsConfig({}).SECRET_MAX_AGE_SECONDS).toBe(300);
    expect(loadSecretsConfig({ SECRET_MAX_AGE_SECONDS: '60' }).SECRET_MAX_AGE_SECONDS).toBe(60);
  });
});
