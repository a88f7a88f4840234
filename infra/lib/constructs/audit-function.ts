import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SECRET_ARN_VARIABLES } from '../../../shared/config.ts';
import type { SecretName } from '../../../shared/ports/secret-source.ts';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../../../shared/schema/metrics.ts';

/** Repository root: entries, lock file and tsconfig are resolved from here, whatever the cwd. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The newest Node.js runtime this aws-cdk-lib offers (cdk-nag AwsSolutions-L1 checks it). */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

// Service name and metrics namespace shared by every function (alarms read the same names).
export { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from '../../../shared/schema/metrics.ts';

// ESM bundles have no `require`/`__dirname`; CommonJS dependencies bundled into them need both.
const ESM_BANNER = [
  "import { createRequire as __ra_createRequire } from 'node:module';",
  "import { fileURLToPath as __ra_fileURLToPath } from 'node:url';",
  "import { dirname as __ra_dirname } from 'node:path';",
  'const require = __ra_createRequire(import.meta.url);',
  'const __filename = __ra_fileURLToPath(import.meta.url);',
  'const __dirname = __ra_dirname(__filename);',
].join(' ');

/** Path of a function's handler file, `functions/<name>/handler.ts`. */
export function handlerEntry(name: string): string {
  return join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/** A file or folder copied into a function's asset. */
export interface BundleCopy {
  /** Path relative to the project root. */
  readonly from: string;
  /** Path relative to the asset root. */
  readonly to: string;
}

// Shell-quotes one argument for the bundling hook commands.
const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** The shell commands that copy files into a bundle; a missing source fails the synth with its path. */
export function copyCommands(copies: readonly BundleCopy[], inputDir: string, outputDir: string): string[] {
  return copies.flatMap(({ from, to }) => {
    const src = join(inputDir, from);
    const dest = join(outputDir, to);
    return [`mkdir -p ${quote(dirname(dest))}`, `cp -R ${quote(src)} ${quote(dest)}`];
  });
}

/** Properties of one audit Lambda function. */
export interface AuditFunctionProps {
  /** Folder under `functions/` holding `handler.ts` (exporting `handler`). */
  readonly name: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * Memory in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout of one invocation.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Environment besides the Powertools and Node variables set here.
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * Reserved concurrency; leave unset on accounts whose concurrency quota is small.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Queue receiving failed asynchronous invocations.
   * @default - no dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Instruction set of the function; x86_64 only for a native module that has no arm64 build here.
   * @default Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Packages left out of the bundle (native add-ons esbuild cannot bundle); each must be listed
   * in `copyIntoBundle` too, so that it is present in the asset's `node_modules`.
   * @default []
   */
  readonly externalModules?: readonly string[];
  /**
   * Files or folders copied into the asset after bundling, from the project root to a path in the
   * asset (which Lambda mounts at /var/task): native packages, fonts.
   * @default []
   */
  readonly copyIntoBundle?: readonly BundleCopy[];
  /**
   * Days the function's log group keeps its events.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Node.js Lambda function bundled locally with esbuild as ESM for arm64, with JSON logs in
 * its own log group, active X-Ray tracing, the Powertools environment and a role that carries
 * no AWS managed policy (grants are added by the stack).
 */
export class AuditFunction extends Construct {
  /** The function. */
  public readonly function: nodejs.NodejsFunction;
  /** Its execution role. */
  public readonly role: iam.Role;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;
  /** Its invocation timeout. */
  public readonly timeout: Duration;

  public constructor(scope: Construct, id: string, props: AuditFunctionProps) {
    super(scope, id);
    const entry = handlerEntry(props.name);
    this.timeout = props.timeout ?? Duration.minutes(1);
    if (!existsSync(entry)) {
      throw new Error(`missing handler for function ${props.name}: expected the file ${entry}`);
    }

    const copies = props.copyIntoBundle ?? [];
    for (const c of Stack.of(this).bundlingRequired ? copies : []) {
      if (!existsSync(join(PROJECT_ROOT, c.from))) {
        throw new Error(
          `cannot bundle function ${props.name}: ${c.from} is missing (run npm ci on linux x64)`,
        );
      }
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `execution role of the ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: NODE_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: this.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.deadLetterQueue === undefined ? {} : { deadLetterQueue: props.deadLetterQueue }),
      environment: {
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Traces must not carry handler responses: they may name files and dates, never borrowers.
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        NODE_OPTIONS: '--enable-source-maps',
        // Secrets come from Secrets Manager only, by the ARNs given with useSecret: a function
        // never given one fails naming it, instead of falling back to a local value.
        SECRET_SOURCE: 'secrets-manager',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_BANNER,
        minify: true,
        // Error classes name themselves from the class (`new.target.name`): Step Functions' Catch
        // and the failure notice show that name, so minification must keep it.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        // Pin the SDK versions the tests ran with instead of the runtime's copy.
        bundleAwsSDK: true,
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
        externalModules: [...(props.externalModules ?? [])],
        ...(copies.length === 0
          ? {}
          : {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) =>
                  copyCommands(copies, inputDir, outputDir),
              },
            }),
      },
    });
  }

  /**
   * Lets the function read one secret at run time: its ARN (never its value) in the environment
   * variable the secret source reads, and read access to that secret alone.
   */
  public useSecret(name: SecretName, secret: Pick<secretsmanager.ISecret, 'secretArn' | 'grantRead'>): void {
    this.function.addEnvironment(SECRET_ARN_VARIABLES[name], secret.secretArn);
    secret.grantRead(this.role);
  }
}
