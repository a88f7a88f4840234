// Worker-thread entry without esbuild: registers tsx's loader in this thread, then runs the
// TypeScript worker entry the pool names in workerData (its URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
