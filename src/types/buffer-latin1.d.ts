/**
 * Node's Buffer has fast latin1 methods that @types/node does not declare.
 * They are the cheapest way to move one-byte JS strings in and out of buffers.
 */
declare global {
  interface Buffer {
    latin1Write(s: string, offset?: number, length?: number): number;
    latin1Slice(start?: number, end?: number): string;
  }
}
export {};
