/**
 * maxmemory as scripts see it: a script that did not declare allow-oom may
 * not start (shebang scripts and functions) or run its first denyoom command
 * while the server is above maxmemory with nothing left to evict.
 */
import { EvictResult, performEvictions } from '../server/eviction.js';
import type { Server } from '../server/server.js';

export const SCRIPT_OOM_ERROR =
  "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";

/** Above maxmemory with nothing left to evict (Redis's pre-command OOM state). */
export function isOutOfMemory(server: Server): boolean {
  return server.config.maxmemory > 0 && performEvictions(server) === EvictResult.Fail;
}
