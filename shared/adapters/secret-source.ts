import { GetParameterError } from '@aws-lambda-powertools/parameters';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LOCAL_BORROWER_REF_KEY, SECRET_ARN_VARIABLES, type SecretsConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { SecretName, SecretReadOptions, SecretSource } from '../ports/secret-source.ts';

/** Secrets Manager's label of a secret's version before the last rotation. */
const PREVIOUS_STAGE = 'AWSPREVIOUS';

/**
 * Reads secrets from Secrets Manager through Powertools Parameters, which caches each value for
 * `maxAgeSeconds`: a warm function reads a secret once per period, and a rotated value reaches it
 * within that period with no redeploy. Powertools keys its cache by name and transform only, not
 * by version stage, so the previous versions get a provider (and cache) of their own.
 */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #arns: Partial<Record<SecretName, string>>;
  readonly #maxAge: number;
  readonly #current: SecretsProvider;
  readonly #previous: SecretsProvider;
  // Powertools caches values only: a secret never rotated would be asked for AWSPREVIOUS every time.
  readonly #noPrevious = new Map<SecretName, number>();

  public constructor(options: {
    client: SecretsManagerClient;
    arns: Partial<Record<SecretName, string>>;
    maxAgeSeconds: number;
  }) {
    this.#arns = options.arns;
    this.#maxAge = options.maxAgeSeconds;
    this.#current = new SecretsProvider({ awsSdkV3Client: options.client });
    this.#previous = new SecretsProvider({ awsSdkV3Client: options.client });
  }

  public async current(name: SecretName, options: SecretReadOptions = {}): Promise<string> {
    const arn = this.#arn(name);
    const value = await this.#read(name, () =>
      this.#current.get(arn, { maxAge: this.#maxAge, forceFetch: options.refresh === true }),
    );
    if (typeof value !== 'string' || value.length === 0) {
      throw new ConfigError(`the secret ${name} (${arn}) holds no string value`);
    }
    return value;
  }

  public async previous(name: SecretName, options: SecretReadOptions = {}): Promise<string | null> {
    const arn = this.#arn(name);
    const absentUntil = this.#noPrevious.get(name);
    if (options.refresh !== true && absentUntil !== undefined && Date.now() < absentUntil) return null;
    try {
      const value = await this.#previous.get(arn, {
        maxAge: this.#maxAge,
        forceFetch: options.refresh === true,
        sdkOptions: { VersionStage: PREVIOUS_STAGE },
      });
      this.#noPrevious.delete(name);
      return typeof value === 'string' && value.length > 0 ? value : null;
    } catch (error) {
      // A secret that was never rotated has no AWSPREVIOUS version.
      if (error instanceof GetParameterError && error.cause instanceof ResourceNotFoundException) {
        this.#noPrevious.set(name, Date.now() + this.#maxAge * 1000);
        return null;
      }
      throw this.#readError(name, error);
    }
  }

  #arn(name: SecretName): string {
    const arn = this.#arns[name];
    if (arn === undefined) {
      throw new ConfigError(
        `this function was not given the ${name} secret (${SECRET_ARN_VARIABLES[name]} is not set)`,
      );
    }
    return arn;
  }

  async #read<T>(name: SecretName, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw this.#readError(name, error);
    }
  }

  #readError(name: SecretName, error: unknown): ConfigError {
    const cause = error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error;
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message.split('\n')[0]}` : String(cause);
    return new ConfigError(`cannot read the ${name} secret from Secrets Manager (${detail})`, {
      cause: error,
    });
  }
}

/**
 * Secrets from plain environment variables, for the embedded stack (it has no Secrets Manager):
 * BORROWER_REF_KEY (a fixed local key by default), REPORT_LINK_KEY, REPORT_LINK_PREVIOUS_KEY.
 */
export class EnvironmentSecretSource implements SecretSource {
  readonly #config: SecretsConfig;

  public constructor(config: SecretsConfig) {
    this.#config = config;
  }

  public async current(name: SecretName): Promise<string> {
    if (name === 'borrowerRefKey') return this.#config.BORROWER_REF_KEY ?? LOCAL_BORROWER_REF_KEY;
    const value = this.#config.REPORT_LINK_KEY;
    if (value === undefined)
      throw new ConfigError(
        'this process was not given the reportLinkKey secret (REPORT_LINK_KEY is not set)',
      );
    return value;
  }

  public async previous(name: SecretName): Promise<string | null> {
    return name === 'reportLinkKey' ? (this.#config.REPORT_LINK_PREVIOUS_KEY ?? null) : null;
  }
}

/** The secret source the configuration names (SECRET_SOURCE). */
export function createSecretSource(
  config: SecretsConfig,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): SecretSource {
  if (config.SECRET_SOURCE === 'environment') return new EnvironmentSecretSource(config);
  const arns: Partial<Record<SecretName, string>> = {};
  for (const [name, variable] of Object.entries(SECRET_ARN_VARIABLES) as [
    SecretName,
    keyof SecretsConfig,
  ][]) {
    const arn = config[variable];
    if (typeof arn === 'string') arns[name] = arn;
  }
  return new SecretsManagerSecretSource({
    client: client(),
    arns,
    maxAgeSeconds: config.SECRET_MAX_AGE_SECONDS,
  });
}
