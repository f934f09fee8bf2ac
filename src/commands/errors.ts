/** Error replies shared by several command groups (exact Redis 7.0 texts). */
export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_SYNTAX = 'ERR syntax error';
export const ERR_NOT_INT = 'ERR value is not an integer or out of range';
