/** Connection commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH. */
import type { CommandImpl } from '../server/command-table.js';
import { ReplyMode, type Client } from '../server/client.js';
import { parseInt64 } from '../util/numbers.js';
import { isValidClientName } from './client.js';
import { ERR_DB_RANGE, ERR_SYNTAX, errWrongArity } from './errors.js';
import { parseDbIndex } from './keys.js';
import { Denied } from '../server/acl.js';

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    c.addError(errWrongArity('ping'));
    return;
  }
  if (c.server.pubsubContext?.(c)) {
    // RESP2 clients in subscribed mode get ["pong", msg].
    c.addArrayLen(2);
    c.addBulk('pong');
    c.addBulk(argv.length === 2 ? argv[1] : '');
    return;
  }
  if (argv.length === 1) c.addSimple('PONG');
  else c.addBulk(argv[1]);
}

function echo(c: Client, argv: string[]): void {
  c.addBulk(argv[1]);
}

function select(c: Client, argv: string[]): void {
  const n = parseDbIndex(c, argv[1]);
  if (n === null) return;
  if (!c.select(n)) {
    c.addError(ERR_DB_RANGE);
    return;
  }
  c.addOK();
}

function quit(c: Client): void {
  c.addOK();
  c.closeAfterReply = true;
}

// ---- ACL authentication (server/acl.ts) -------------------------------------

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/** Checks a username/password pair; a failure goes to the ACL LOG as Redis does. */
function checkPassword(c: Client, user: string, pass: string, via: string): boolean {
  const acl = c.server.acl;
  if (acl.authenticate(user, pass)) return true;
  acl.addLog(c, Denied.Auth, c.multi !== null ? 'multi' : 'toplevel', via, user);
  return false;
}

function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.addError(ERR_SYNTAX);
    return;
  }
  let user = 'default';
  let pass = argv[1];
  if (argv.length === 3) {
    user = argv[1];
    pass = argv[2];
  } else if (c.server.acl.defaultUser.nopass) {
    c.addError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    return;
  }
  if (checkPassword(c, user, pass, argv[0])) {
    c.setAuthenticated(true);
    c.user = user;
    c.addOK();
  } else {
    c.addError(WRONGPASS);
  }
}

function hello(c: Client, argv: string[]): void {
  let ver = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseInt64(argv[1]);
    if (v === null) {
      c.addError('ERR Protocol version is not an integer or out of range');
      return;
    }
    next = 2;
    if (v < 2 || v > 3) {
      c.addError('NOPROTO unsupported protocol version');
      return;
    }
    ver = v;
  }
  let authUser: string | null = null;
  let authPass = '';
  let setName: string | null = null;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - j - 1;
    const opt = argv[j].toLowerCase();
    if (opt === 'auth' && more >= 2) {
      authUser = argv[j + 1];
      authPass = argv[j + 2];
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      setName = argv[j + 1];
      j += 1;
    } else {
      c.addError(`ERR Syntax error in HELLO option '${argv[j]}'`);
      return;
    }
  }
  if (authUser !== null) {
    if (!checkPassword(c, authUser, authPass, argv[0])) {
      c.addError(WRONGPASS);
      return;
    }
    c.setAuthenticated(true);
    c.user = authUser;
  }
  if (!c.authenticated) {
    c.addError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    return;
  }
  if (setName !== null) {
    if (!isValidClientName(setName)) {
      c.addError('ERR Client names cannot contain spaces, newlines or special characters.');
      return;
    }
    c.name = setName;
  }
  if (ver !== 0) c.resp = ver as 2 | 3;
  // A Sentinel has no role line (Redis's map of 6 fields in sentinel mode).
  const sentinel = c.server.sentinel !== null;
  c.addMapLen(sentinel ? 6 : 7);
  c.addBulk('server');
  c.addBulk('redis');
  c.addBulk('version');
  c.addBulk(c.server.redisVersion);
  c.addBulk('proto');
  c.addInt(c.resp);
  c.addBulk('id');
  c.addInt(c.id);
  c.addBulk('mode');
  c.addBulk(c.server.mode);
  if (!sentinel) {
    c.addBulk('role');
    c.addBulk(c.server.isReplica ? 'replica' : 'master');
  }
  c.addBulk('modules');
  c.addEmptyArray();
}

/** RESET: back to a fresh connection's state (db 0, RESP2, no name, reply on, unauthenticated if a password is set). */
function reset(c: Client): void {
  c.server.resetHooks.forEach((h) => h(c));
  c.select(0);
  c.resp = 2;
  c.name = '';
  c.replyMode = ReplyMode.On;
  c.noEvict = false;
  c.setAuthenticated(c.server.acl.defaultAuthFree());
  c.user = 'default';
  c.addSimple('RESET');
}

export const commands: CommandImpl[] = [
  { name: 'ping', summary: 'Checks that the server answers; replies PONG or echoes the argument.', handler: ping },
  { name: 'echo', summary: 'Replies with the given message.', handler: echo },
  { name: 'select', summary: 'Switches the connection to another logical database.', handler: select },
  { name: 'quit', summary: 'Closes the connection after replying OK.', handler: quit },
  { name: 'auth', summary: 'Authenticates the connection with a password, or a username and password.', handler: auth },
  { name: 'hello', summary: 'Negotiates the protocol version, optionally authenticating and naming the connection.', handler: hello },
  { name: 'reset', summary: 'Returns the connection to its initial state.', handler: reset },
];
