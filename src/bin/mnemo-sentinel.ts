#!/usr/bin/env node
/**
 * mnemo-sentinel sentinel.conf [--directive value ...]: the same as
 * `mnemo-server sentinel.conf --sentinel`, as redis-sentinel is redis-server.
 */
process.argv.push('--sentinel');
await import('./mnemo-server.js');
