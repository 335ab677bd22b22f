// CRC-32 (IEEE 802.3, as zip/png) for frame transfers. Node's zlib has a native one.
import { crc32 as zcrc32 } from 'node:zlib';

export function crc32(data: Uint8Array): number {
  return zcrc32(data) >>> 0;
}
