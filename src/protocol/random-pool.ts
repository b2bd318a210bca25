import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes for the many small draws of the push path (a 16-byte cipher
 * prefix and a 4-byte nonce per encrypted reply), taken from a 4 KiB block filled by one
 * randomFillSync instead of one randomBytes call (and its allocation) each. Every refill uses a
 * new block, so bytes already handed out never change and are never handed out twice.
 */
const BLOCK = 4096;
let block = Buffer.alloc(0);
let offset = 0;

export function pooledRandomBytes(n: number): Buffer {
  if (n > BLOCK / 4) return randomBytes(n);
  if (offset + n > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK));
    offset = 0;
  }
  const out = block.subarray(offset, offset + n);
  offset += n;
  return out;
}
