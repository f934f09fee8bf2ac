/** Mnemo's own version, and the Redis version it reports so clients enable 7.0 features. */
export const VERSION = '0.1.0';
export const REDIS_VERSION = '7.0.15';
