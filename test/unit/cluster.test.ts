/**
 * Hash slots (CRC16 with hash tags) against values the real Redis 7.0.15
 * cluster node returned for CLUSTER KEYSLOT, and the CLUSTER NODES line and
 * nodes.conf formats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc16, keyHashSlot } from '../../src/cluster/slot.js';
import { ClusterNode, ClusterState } from '../../src/cluster/state.js';
import { loadNodesConf, nodeLine, nodesText, saveNodesConf } from '../../src/cluster/nodes-conf.js';

test('KEYSLOT matches redis-server 7.0.15', () => {
  const fromRedis: Array<[string, number]> = [
    ['foo', 12182],
    ['a', 15495],
    ['b', 3300],
    ['c', 7365],
    ['d', 11298],
    ['e', 15363],
    ['f', 3168],
    ['g', 7233],
    ['h', 11694],
    ['{user1000}.following', 3443],
    ['a{}b', 13694],
    ['{a}x', 15495],
    ['{b}x', 3300],
    ['{b}nope', 3300],
  ];
  for (const [key, slot] of fromRedis) assert.equal(keyHashSlot(key), slot, key);
  // The specification's check value for CRC16-XMODEM.
  assert.equal(crc16('123456789'), 0x31c3);
  // Only the first {...} counts, and only when not empty.
  assert.equal(keyHashSlot('{user1000}.{x}'), keyHashSlot('user1000'));
  assert.equal(keyHashSlot('foo{}{bar}'), keyHashSlot('foo{}{bar}'));
  assert.notEqual(keyHashSlot('foo{}{bar}'), keyHashSlot('bar'));
  assert.equal(keyHashSlot('foo{{bar}}zap'), keyHashSlot('{bar'));
});

test('NODES lines: flags, master, epochs, link state, slot ranges, migrations', () => {
  const st = new ClusterState('a'.repeat(40));
  const me = st.myself;
  me.ip = '127.0.0.1';
  me.port = 7000;
  me.cport = 17000;
  me.configEpoch = 1;
  const other = new ClusterNode('b'.repeat(40), '127.0.0.1', 7001, 17001);
  other.configEpoch = 2;
  other.pongRecv = 1700000000000;
  other.connected = true;
  st.addNode(other);
  const replica = new ClusterNode('c'.repeat(40), '127.0.0.1', 7002, 17002);
  replica.master = false;
  replica.masterId = other.id;
  replica.pfail = true;
  st.addNode(replica);
  for (let s = 0; s <= 5460; s++) st.setOwner(s, me);
  st.setOwner(5462, me);
  for (let s = 5463; s <= 16383; s++) st.setOwner(s, other);
  st.migrating.set(100, other);
  assert.equal(nodeLine(st, me), `${'a'.repeat(40)} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 5462 [100->-${'b'.repeat(40)}]`);
  assert.equal(nodeLine(st, other), `${'b'.repeat(40)} 127.0.0.1:7001@17001 master - 0 1700000000000 2 connected 5463-16383`);
  // A replica shows its master's config epoch (2), as Redis.
  assert.equal(nodeLine(st, replica), `${'c'.repeat(40)} 127.0.0.1:7002@17002 slave,fail? ${'b'.repeat(40)} 0 0 2 disconnected`);
  assert.equal(nodesText(st).split('\n').length, 4);
  st.updateState(true);
  assert.equal(st.ok, false); // slot 5461 unassigned
  st.setOwner(5461, me);
  st.updateState(true);
  assert.equal(st.ok, true);

  const dir = mkdtempSync(join(tmpdir(), 'mnemo-nodes-conf-'));
  try {
    st.currentEpoch = 7;
    saveNodesConf(st, join(dir, 'nodes.conf'));
    const back = loadNodesConf(join(dir, 'nodes.conf'))!;
    assert.equal(back.myself.id, me.id);
    assert.equal(back.currentEpoch, 7);
    assert.equal(back.nodes.size, 3);
    assert.equal(back.slots[0], back.myself);
    assert.equal(back.slots[16383]?.id, other.id);
    assert.equal(back.nodes.get(replica.id)?.masterId, other.id);
    assert.equal(loadNodesConf(join(dir, 'missing.conf')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
