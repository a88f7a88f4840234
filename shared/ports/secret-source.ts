/** The secrets the functions read at run time, by name. */
export type SecretName = 'borrowerRefKey' | 'reportLinkKey';

/** Options of one read. */
export interface SecretReadOptions {
  /** Fetch again even if a cached value is still fresh (a key rotated since the last read). */
  readonly refresh?: boolean;
}

/**
 * Where a function reads its secrets: Secrets Manager on AWS, the environment on the embedded
 * stack. Values are read when first needed and cached; a function given no access to a secret
 * fails with the secret's name.
 */
export interface SecretSource {
  /** The secret's current value. */
  current(name: SecretName, options?: SecretReadOptions): Promise<string>;
  /** The value it had before its last rotation, or null when it was never rotated. */
  previous(name: SecretName, options?: SecretReadOptions): Promise<string | null>;
}
