/**
 * XADD / XTRIM from our master's stream or the AOF (Redis's mustObeyClient):
 * an approximate trim was propagated as `= <exact result>` with its LIMIT kept,
 * which those clients run as an exact trim without limit, so the replica or the
 * reloaded AOF ends with the same stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newServer, client, run } from './rdb-helpers.js';

test('LIMIT with = is refused from a client but obeyed, without limit, from the master and the AOF', () => {
  const s = newServer();
  const c = client(s);
  for (let i = 1; i <= 20; i++) run(s, c, 'XADD', 'st', `${i}-0`, 'f', 'v');
  assert.equal(run(s, c, 'XADD', 'st', 'MAXLEN', '=', '5', 'LIMIT', '10', '*', 'f', 'v'), '-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n');
  const master = client(s);
  master.isMaster = true;
  run(s, master, 'XADD', 'st', 'MAXLEN', '=', '15', 'LIMIT', '2', '21-0', 'f', 'v');
  assert.equal(run(s, c, 'XLEN', 'st'), ':15\r\n');
  const aof = client(s);
  aof.aofLoader = true;
  run(s, aof, 'XTRIM', 'st', 'MINID', '=', '18-0', 'LIMIT', '1');
  assert.equal(run(s, c, 'XLEN', 'st'), ':4\r\n');
});
