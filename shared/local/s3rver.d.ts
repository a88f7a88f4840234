// s3rver ships no types; this covers the part the embedded stack uses.
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Uint8Array)[] }[];
  }

  class S3rver {
    public constructor(options?: S3rverOptions);
    public httpServer?: Server;
    public run(): Promise<AddressInfo>;
    public close(): Promise<void>;
  }

  export default S3rver;
}
