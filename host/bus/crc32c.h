/*
 * CRC-32C (Castagnoli), the checksum of each disk-buffer record: it catches
 * a torn or flipped record at a few ns a byte, which is all the buffer needs
 * (it guards against crashes and bad sectors, not against an adversary).
 */
#ifndef QH_BUS_CRC32C_H
#define QH_BUS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t qh_crc32c(const void *data, size_t len);

#endif
