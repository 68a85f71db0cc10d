// Real PNG files made in the test, without an image library.

import { deflateSync } from 'node:zlib';

/** CRC-32 as PNG chunks need it. */
function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An RGB PNG of `width`×`height` whose byte `i` of the raw scanlines (filter bytes excluded) is `pixel(i)`. */
function rgbPng(width, height, pixel, level) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let i = 0; i < raw.length; i++) raw[i] = i % (width * 3 + 1) === 0 ? 0 : pixel(i);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A PNG of `width`×`height` noise pixels: noise does not compress, so the
 * file is big enough (~width·height·3 bytes) for an upload to take a while
 * under a throttled connection.
 */
export function noisePng(width, height) {
  let seed = 12345;
  return rgbPng(
    width,
    height,
    () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    },
    0,
  );
}

/** A small PNG of one colour (`[r, g, b]`), compressed. */
export function solidPng(width, height, [r, g, b]) {
  const row = width * 3 + 1;
  return rgbPng(width, height, (i) => [r, g, b][((i % row) - 1) % 3], 9);
}
