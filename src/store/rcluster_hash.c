/* Copyright 2026 The healthscore Authors. Licensed under the Apache License 2.0. */
/* Script names (SHA1) and key slots (CRC16 of the hash tag). */
#include "rcluster_internal.h"

#include <string.h>

/* SHA1 (FIPS 180-4) as 40 lowercase hex digits: what Redis names scripts by. */
void hs__rc_sha1_hex(const void *data, size_t len, char out[41]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const unsigned char *p = data;
  uint64_t bits = (uint64_t)len * 8;
  size_t total = (len + 8) / 64 * 64 + 64; /* the message, 0x80, zeros, the length */
  for (size_t off = 0; off < total; off += 64) {
    unsigned char blk[64];
    for (size_t i = 0; i < 64; i++) {
      size_t k = off + i;
      blk[i] = k < len ? p[k] : k == len ? 0x80 : 0;
    }
    if (off + 64 == total)
      for (int i = 0; i < 8; i++)
        blk[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
             (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 80; i++) {
      uint32_t x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = x << 1 | x >> 31;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20)
        f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40)
        f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60)
        f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else
        f = b ^ c ^ d, k = 0xCA62C1D6;
      uint32_t t = (a << 5 | a >> 27) + f + e + k + w[i];
      e = d;
      d = c;
      c = b << 30 | b >> 2;
      b = a;
      a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 20; i++) {
    out[2 * i] = hex[(h[i / 4] >> (24 - 8 * (i % 4)) >> 4) & 15];
    out[2 * i + 1] = hex[(h[i / 4] >> (24 - 8 * (i % 4))) & 15];
  }
  out[40] = 0;
}

static uint16_t crc16(const char *p, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)((unsigned char)p[i] << 8);
    for (int b = 0; b < 8; b++)
      crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

uint16_t hs_rc_slot(const char *key, size_t len) {
  const char *open = len ? memchr(key, '{', len) : NULL;
  if (open) {
    const char *tag = open + 1;
    const char *close = memchr(tag, '}', len - (size_t)(tag - key));
    if (close && close > tag)
      return crc16(tag, (size_t)(close - tag)) & (HS_RC_SLOTS - 1);
  }
  return crc16(key, len) & (HS_RC_SLOTS - 1);
}
