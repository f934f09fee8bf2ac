/** Server-wide counters, reported by INFO stats / errorstats and reset by CONFIG RESETSTAT. */
export class ServerStats {
  totalConnections = 0;
  totalCommands = 0;
  rejectedConnections = 0;
  expiredKeys = 0;
  evictedKeys = 0;
  /** Objects Redis would have freed on its lazyfree thread (INFO lazyfreed_objects; server/lazyfree.ts). */
  lazyfreedObjects = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  /** Replication traffic, counted apart as Redis does: the master's stream and snapshots to replicas, and our master's to us. */
  netReplInputBytes = 0;
  netReplOutputBytes = 0;
  totalErrorReplies = 0;
  unexpectedErrorReplies = 0;
  /** Error replies by their first word (ERR, WRONGTYPE, ...), for INFO errorstats. */
  errorCodes = new Map<string, number>();

  countError(msg: string): void {
    this.totalErrorReplies++;
    // The code is the first word; Redis files errors with no space in their
    // first 32 characters under ERR.
    const sp = msg.indexOf(' ');
    const code = sp < 0 || sp >= 32 ? 'ERR' : msg.slice(0, sp);
    this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
  }

  reset(): void {
    const fresh = new ServerStats();
    Object.assign(this, fresh);
  }
}
