/**
 * HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST.
 *
 * An HLL is a plain string value in Redis's byte layout (data/hyperloglog.ts),
 * so every string command works on it and GET returns Redis's bytes. Writers
 * first make the value a MutableString (Redis's dbUnshareStringValue) and then
 * change its registers in place. Check order, replies, dirty counts and
 * notifications follow Redis 7.0's hyperloglog.c.
 */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { isString, type StringValue, type Value } from '../data/values.js';
import {
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  cardinalityReply,
  createHll,
  decodeSparse,
  encodingOf,
  denseGet,
  denseSet,
  estimateFromHistogram,
  hasValidCache,
  hllAdd,
  hllCount,
  hllSelfTest,
  invalidateCache,
  isValidHll,
  mergeInto,
  newHistogram,
  rawHistogram,
  readCachedCard,
  sparseSet,
  sparseToDense,
  writeCachedCard,
} from '../data/hyperloglog.js';
import { WRONGTYPE } from './errors.js';
import { mutableString, optIs } from './strings.js';

const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const ERR_CORRUPTED = 'INVALIDOBJ Corrupted HLL object detected';

/**
 * Redis's isHLLObjectOrReply: true for a string holding a valid HLL header,
 * otherwise replies (plain WRONGTYPE for other types) and returns false.
 */
function checkHll(c: Client, v: Value): v is StringValue {
  if (!isString(v)) {
    c.addError(WRONGTYPE);
    return false;
  }
  if (!isValidHll(v)) {
    c.addError(ERR_NOT_HLL);
    return false;
  }
  return true;
}

function sparseMaxBytes(c: Client): number {
  return c.server.config.getNumber('hll-sparse-max-bytes');
}

/** The bytes of a string value without copying a MutableString. */
function bytesOf(v: StringValue): { buf: Uint8Array; len: number } {
  if (typeof v === 'string') return { buf: Buffer.from(v, 'latin1'), len: v.length };
  return v;
}

// ---- PFADD ---------------------------------------------------------------------------------

function pfadd(c: Client, argv: string[]): void {
  const key = argv[1];
  const db = c.db;
  const v = db.lookupWrite(key);
  let updated = 0;
  let m;
  if (v === undefined) {
    m = createHll();
    db.set(key, m);
    updated++;
  } else {
    if (!checkHll(c, v)) return;
    m = mutableString(db, key, v);
  }
  const argc = argv.length;
  if (argc > 2) {
    // Only a sparse sketch needs the size limit; read the config once.
    const maxBytes = encodingOf(m) === HLL_SPARSE ? sparseMaxBytes(c) : 0;
    for (let j = 2; j < argc; j++) {
      const r = hllAdd(m, argv[j], maxBytes);
      if (r === 1) updated++;
      else if (r < 0) {
        c.addError(ERR_CORRUPTED);
        return;
      }
    }
  }
  if (updated) {
    invalidateCache(m);
    // db.set already signalled a new key
    if (v !== undefined) db.signalModified(key);
    c.server.notifier.notify('$', 'pfadd', key, db.id);
    c.server.dirty += updated;
  }
  c.addInt(updated ? 1 : 0);
}

// ---- PFCOUNT -------------------------------------------------------------------------------

function pfcount(c: Client, argv: string[]): void {
  const db = c.db;
  if (argv.length > 2) {
    // Union of several keys: merge into scratch registers, change nothing.
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < argv.length; j++) {
      const v = db.lookupRead(argv[j]);
      if (v === undefined) continue;
      if (!checkHll(c, v)) return;
      const { buf, len } = bytesOf(v);
      if (!mergeInto(max, buf, len)) {
        c.addError(ERR_CORRUPTED);
        return;
      }
    }
    const histo = newHistogram();
    rawHistogram(max, histo);
    c.addInt(cardinalityReply(estimateFromHistogram(histo)));
    return;
  }

  const key = argv[1];
  const v = db.lookupRead(key);
  if (v === undefined) {
    c.addInt(0);
    return;
  }
  if (!checkHll(c, v)) return;
  const m = mutableString(db, key, v);
  if (hasValidCache(m)) {
    c.addInt(readCachedCard(m));
    return;
  }
  const card = hllCount(m);
  if (card === null) {
    c.addError(ERR_CORRUPTED);
    return;
  }
  // Caching the result changes the string's bytes, so it is a write Redis propagates.
  writeCachedCard(m, card);
  db.signalModified(key);
  c.server.dirty++;
  c.addInt(cardinalityReply(card));
}

// ---- PFMERGE -------------------------------------------------------------------------------

function pfmerge(c: Client, argv: string[]): void {
  const db = c.db;
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  // Sources include the destination itself (argv[1]).
  for (let j = 1; j < argv.length; j++) {
    const v = db.lookupRead(argv[j]);
    if (v === undefined) continue;
    if (!checkHll(c, v)) return;
    const bytes = bytesOf(v);
    if (encodingOf(bytes) === HLL_DENSE) useDense = true;
    if (!mergeInto(max, bytes.buf, bytes.len)) {
      c.addError(ERR_CORRUPTED);
      return;
    }
  }

  const key = argv[1];
  const v = db.lookupWrite(key);
  let m;
  if (v === undefined) {
    m = createHll();
    db.set(key, m);
  } else {
    m = mutableString(db, key, v as StringValue);
  }
  // A dense input makes the result dense straight away rather than after growing.
  if (useDense && !sparseToDense(m)) {
    c.addError(ERR_CORRUPTED);
    return;
  }
  let maxBytes = -1;
  for (let j = 0; j < HLL_REGISTERS; j++) {
    if (max[j] === 0) continue;
    if (encodingOf(m) === HLL_DENSE) denseSet(m.buf, j, max[j]);
    else {
      if (maxBytes < 0) maxBytes = sparseMaxBytes(c);
      sparseSet(m, j, max[j], maxBytes);
    }
  }
  invalidateCache(m);
  if (v !== undefined) db.signalModified(key); // db.set signalled a new key
  // Redis reports a merge as a mass PFADD.
  c.server.notifier.notify('$', 'pfadd', key, db.id);
  c.server.dirty++;
  c.addOK();
}

// ---- PFDEBUG -------------------------------------------------------------------------------

function pfdebug(c: Client, argv: string[]): void {
  const sub = argv[1];
  const key = argv[2];
  const db = c.db;
  const v = db.lookupWrite(key);
  if (v === undefined) {
    c.addError('ERR The specified key does not exist');
    return;
  }
  if (!checkHll(c, v)) return;
  const m = mutableString(db, key, v);

  if (optIs(sub, 'getreg')) {
    if (encodingOf(m) === HLL_SPARSE) {
      if (!sparseToDense(m)) {
        c.addError(ERR_CORRUPTED);
        return;
      }
      c.server.dirty++; // the encoding changed: propagate
    }
    c.addArrayLen(HLL_REGISTERS);
    for (let j = 0; j < HLL_REGISTERS; j++) c.addInt(denseGet(m.buf, j));
  } else if (optIs(sub, 'decode')) {
    if (encodingOf(m) !== HLL_SPARSE) {
      c.addError('ERR HLL encoding is not sparse');
      return;
    }
    c.addBulk(decodeSparse(m));
  } else if (optIs(sub, 'encoding')) {
    c.addSimple(encodingOf(m) === HLL_DENSE ? 'dense' : 'sparse');
  } else if (optIs(sub, 'todense')) {
    let converted = false;
    if (encodingOf(m) === HLL_SPARSE) {
      if (!sparseToDense(m)) {
        c.addError(ERR_CORRUPTED);
        return;
      }
      converted = true;
      c.server.dirty++;
    }
    c.addInt(converted ? 1 : 0);
  } else {
    // Redis prints the subcommand as a C string: it ends at a NUL byte.
    const nul = sub.indexOf('\0');
    c.addError(`ERR Unknown PFDEBUG subcommand '${nul >= 0 ? sub.slice(0, nul) : sub}'`);
  }
}

// ---- PFSELFTEST ------------------------------------------------------------------------------

function pfselftest(c: Client): void {
  const failure = hllSelfTest();
  if (failure === null) c.addOK();
  else c.addError(failure);
}

export const commands: CommandImpl[] = [
  { name: 'pfadd', summary: 'Adds elements to a HyperLogLog sketch, creating it if needed', handler: pfadd },
  { name: 'pfcount', summary: 'Estimates the number of distinct elements in one or more HyperLogLogs', handler: pfcount },
  { name: 'pfmerge', summary: 'Stores the union of HyperLogLogs in a destination key', handler: pfmerge },
  { name: 'pfdebug', summary: 'Inspects or converts the internal encoding of a HyperLogLog', handler: pfdebug },
  { name: 'pfselftest', summary: 'Runs the HyperLogLog implementation self-test', handler: pfselftest },
];
