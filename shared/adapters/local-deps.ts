import type { RuntimeConfig, SecretsConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { type AuditDeps, once } from '../use-cases/deps.ts';
import { loadMapping, loadPolicy } from './config-files.ts';
import { FsArtifactStore } from './fs-artifact-store.ts';
import { FsRiskStore } from './fs-risk-store.ts';
import { nodeGzip } from './gzip.ts';
import { stepLogger } from './observability.ts';
import { mjmlReportRenderer } from './report/mjml-report-renderer.ts';
import { jsonQuarantineSamples } from './report/quarantine-sample.ts';
import { EnvironmentSecretSource } from './secret-source.ts';
import { DatedTapeSource } from './tape/local-tape-source.ts';
import { nodeTapeDecoder } from './tape/read-tape.ts';

/**
 * What the workflow's ports are made of with no AWS at all (`risk-audit score`): a folder for
 * the artifacts and the results store, local tape files per date, and the settings. Plain data,
 * so that a worker thread builds the same ports from it.
 */
export interface LocalDepsSpec {
  /** Folder of the run's artifacts (`artifacts/`) and results store (`store/`). */
  root: string;
  /** Each date's tape: a file, or a folder of part files. */
  tapes: Record<string, string>;
  config: RuntimeConfig;
  /** Where the secrets come from: plain values (SECRET_SOURCE `environment`), as on the embedded stack. */
  secrets: SecretsConfig;
}

/** The workflow's ports over local files: the same steps as on AWS, no emulator. */
export function createLocalDeps(spec: LocalDepsSpec): AuditDeps {
  return {
    config: spec.config,
    secrets: new EnvironmentSecretSource(spec.secrets),
    tapes: new DatedTapeSource(spec.tapes),
    tapeDecoder: nodeTapeDecoder,
    gzip: nodeGzip,
    artifacts: new FsArtifactStore(`${spec.root}/artifacts`),
    store: new FsRiskStore(`${spec.root}/store`),
    mailer: {
      sendRaw: async () => {
        throw new ConfigError('local files have no mail service: leave REPORT_RECIPIENTS empty');
      },
    },
    reports: mjmlReportRenderer,
    quarantineSamples: jsonQuarantineSamples,
    policy: once(() => loadPolicy(spec.config.POLICY_FILE)),
    mapping: once(() => loadMapping(spec.config.MAPPING_FILE)),
    now: () => new Date(),
    metrics: { count: () => undefined },
    // The functions' logger (WARN and above outside Lambda): the CLI's output is for people.
    logger: stepLogger,
  };
}
