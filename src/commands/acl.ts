/** ACL and its subcommands: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE, HELP. */
import type { CommandImpl } from '../server/command-table.js';
import type { Client } from '../server/client.js';
import { ACL_CATEGORIES, Denied, type Selector } from '../server/acl.js';
import { parseInt64 } from '../util/numbers.js';
import { ERR_NOT_INT, errWrongArity } from './errors.js';
import { replyHelp } from './client.js';

const ERR_NO_ACLFILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

function setuser(c: Client, argv: string[]): void {
  const name = argv[2];
  if (name.includes(' ') || name.includes('\0')) {
    c.addError("ERR Usernames can't contain spaces or null characters");
    return;
  }
  const err = c.server.acl.setUser(name, argv.slice(3), c);
  if (err !== null) c.addError(err);
  else c.addOK();
}

function writeSelector(c: Client, s: Selector): void {
  c.addBulk('commands');
  c.addBulk(s.describeCommands());
  c.addBulk('keys');
  c.addBulk(s.describeKeys());
  c.addBulk('channels');
  c.addBulk(s.describeChannels());
}

function getuser(c: Client, argv: string[]): void {
  const u = c.server.acl.users.get(argv[2]);
  if (u === undefined) {
    c.addNull();
    return;
  }
  c.addMapLen(6);
  c.addBulk('flags');
  const flags = u.flagList();
  c.addSetLen(flags.length);
  for (const f of flags) c.addBulk(f);
  c.addBulk('passwords');
  c.addBulks(u.passwords);
  writeSelector(c, u.root);
  c.addBulk('selectors');
  c.addArrayLen(u.selectors.length);
  for (const s of u.selectors) {
    c.addMapLen(3);
    writeSelector(c, s);
  }
}

function deluser(c: Client, argv: string[]): void {
  const acl = c.server.acl;
  let n = 0;
  const gone = new Set<string>();
  for (let j = 2; j < argv.length; j++) {
    if (argv[j] === 'default') {
      acl.killClientsOf(gone, c);
      acl.refresh();
      c.addError("ERR The 'default' user cannot be removed");
      return;
    }
    if (acl.deleteUser(argv[j])) {
      n++;
      gone.add(argv[j]);
    }
  }
  acl.killClientsOf(gone, c);
  acl.refresh();
  c.addInt(n);
}

function list(c: Client): void {
  const lines = c.server.acl.listLines();
  c.addArrayLen(lines.length);
  for (const l of lines) c.addBulk(l);
}

function users(c: Client): void {
  c.addBulks([...c.server.acl.users.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
}

function whoami(c: Client): void {
  c.addBulk(c.user);
}

/** Too many arguments for a subcommand that takes an optional one, as Redis words it. */
function tooMany(c: Client, argv: string[], max: number): boolean {
  if (argv.length <= max) return false;
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try ACL HELP.`);
  return true;
}

function cat(c: Client, argv: string[]): void {
  if (tooMany(c, argv, 3)) return;
  if (argv.length === 2) {
    c.addBulks(ACL_CATEGORIES);
    return;
  }
  const name = argv[2].toLowerCase();
  if (!ACL_CATEGORIES.includes(name)) {
    c.addError(`ERR Unknown category '${argv[2]}'`);
    return;
  }
  const tag = '@' + name;
  const names: string[] = [];
  for (const cmd of c.server.table.all()) if (cmd.facts.aclCategories.includes(tag)) names.push(cmd.fullName);
  c.addBulks(names);
}

function genpass(c: Client, argv: string[]): void {
  if (tooMany(c, argv, 3)) return;
  let bits = 256;
  if (argv.length === 3) {
    const v = parseInt64(argv[2]);
    if (v === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    if (v <= 0 || v > 4096) {
      c.addError('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
      return;
    }
    bits = Number(v);
  }
  c.addBulk(c.server.acl.genpass(bits));
}

function log(c: Client, argv: string[]): void {
  if (tooMany(c, argv, 3)) return;
  const acl = c.server.acl;
  let count = 10;
  if (argv.length === 3) {
    if (argv[2].toLowerCase() === 'reset') {
      acl.log = [];
      c.addOK();
      return;
    }
    const v = parseInt64(argv[2]);
    if (v === null) {
      c.addError(ERR_NOT_INT);
      return;
    }
    count = v < 0n ? 0 : Number(v > 1000000n ? 1000000n : v);
  }
  const now = c.server.clock.now();
  const entries = acl.log.slice(0, count);
  c.addArrayLen(entries.length);
  for (const e of entries) {
    c.addMapLen(7);
    c.addBulk('count');
    c.addInt(e.count);
    c.addBulk('reason');
    c.addBulk(e.reason);
    c.addBulk('context');
    c.addBulk(e.context);
    c.addBulk('object');
    c.addBulk(e.object);
    c.addBulk('username');
    c.addBulk(e.username);
    c.addBulk('age-seconds');
    c.addDouble((now - e.ctime) / 1000);
    c.addBulk('client-info');
    c.addBulk(e.clientInfo);
  }
}

function dryrun(c: Client, argv: string[]): void {
  const server = c.server;
  const u = server.acl.users.get(argv[2]);
  if (u === undefined) {
    c.addError(`ERR User '${argv[2]}' not found`);
    return;
  }
  const args = argv.slice(3);
  let cmd = server.table.lookup(args[0]);
  if (cmd !== undefined && cmd.subcommands !== null && args.length >= 2) cmd = cmd.subcommands.get(args[1].toLowerCase());
  if (cmd === undefined) {
    c.addError(`ERR Command '${args[0]}' not found`);
    return;
  }
  const arity = cmd.arity;
  if ((arity > 0 && args.length !== arity) || args.length < -arity) {
    c.addError(errWrongArity(cmd.fullName));
    return;
  }
  const at = { pos: 0 };
  const denied = server.acl.check(u, cmd, args, at);
  if (denied === Denied.None) c.addOK();
  else if (denied === Denied.Cmd) c.addBulk(`This user has no permissions to run the '${cmd.fullName}' command`);
  else if (denied === Denied.Key) c.addBulk(`This user has no permissions to access the '${args[at.pos]}' key`);
  else c.addBulk(`This user has no permissions to access the '${args[at.pos]}' channel`);
}

function load(c: Client): void {
  const acl = c.server.acl;
  if (acl.aclfilePath() === '') {
    c.addError(ERR_NO_ACLFILE);
    return;
  }
  const err = acl.loadFile(c);
  if (err !== null) c.addError('ERR ' + err);
  else c.addOK();
}

function save(c: Client): void {
  const acl = c.server.acl;
  if (acl.aclfilePath() === '') {
    c.addError(ERR_NO_ACLFILE);
    return;
  }
  const err = acl.saveFile();
  if (err !== null) c.addError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  else c.addOK();
}

function help(c: Client): void {
  replyHelp(c, 'ACL', [
    'CAT [<category>]',
    '    List all commands that belong to <category>, or all command categories',
    '    when no category is specified.',
    'DELUSER <username> [<username> ...]',
    '    Delete a list of users.',
    'DRYRUN <username> <command> [<arg> ...]',
    '    Returns whether the user can execute the given command without executing the command.',
    'GETUSER <username>',
    "    Get the user's details.",
    'GENPASS [<bits>]',
    '    Generate a secure 256-bit user password. The optional `bits` argument can',
    '    be used to specify a different size.',
    'LIST',
    '    Show users details in config file format.',
    'LOAD',
    '    Reload users from the ACL file.',
    'LOG [<count> | RESET]',
    '    Show the ACL log entries.',
    'SAVE',
    '    Save the current config to the ACL file.',
    'SETUSER <username> <attribute> [<attribute> ...]',
    '    Create or modify a user with the specified attributes.',
    'USERS',
    '    List all the registered usernames.',
    'WHOAMI',
    '    Return the current connection username.',
  ]);
}

export const commands: CommandImpl[] = [
  { name: 'acl', summary: 'Access control lists: users, their permissions and the log of refusals.' },
  { name: 'acl|setuser', summary: 'Creates a user or changes its rules, all rules or none.', handler: setuser },
  { name: 'acl|getuser', summary: "Describes a user's flags, password hashes, keys, channels, commands and selectors.", handler: getuser },
  { name: 'acl|deluser', summary: 'Deletes users and disconnects their clients; replies how many existed.', handler: deluser },
  { name: 'acl|list', summary: 'Lists every user as a rule line, in ACL file format.', handler: list },
  { name: 'acl|users', summary: 'Lists the user names.', handler: users },
  { name: 'acl|whoami', summary: 'Replies the name of the user this connection is authenticated as.', handler: whoami },
  { name: 'acl|cat', summary: 'Lists the command categories, or the commands of one category.', handler: cat },
  { name: 'acl|genpass', summary: 'Replies random hex digits from the system CSPRNG, 256 bits by default.', handler: genpass },
  { name: 'acl|log', summary: 'Lists recent refused commands and failed logins, or clears that log.', handler: log },
  { name: 'acl|dryrun', summary: 'Tells whether a user could run a command, without running it.', handler: dryrun },
  { name: 'acl|load', summary: 'Replaces the users with those of the ACL file.', handler: load },
  { name: 'acl|save', summary: 'Writes the users to the ACL file.', handler: save },
  { name: 'acl|help', summary: 'Describes the ACL subcommands.', handler: help },
];
