#!/usr/bin/env node
// Package bin: registers tsx's loader so the TypeScript CLI runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../shared/cli/main.ts');
