/* host_embed.h: the Lua sources embedded in the binary (generated table). */
#ifndef ESPFLASH_HOST_EMBED_H
#define ESPFLASH_HOST_EMBED_H

#include <stddef.h>

typedef struct {
  const char *module;  /* "espflash.cli", or "@script/board-info" for scripts/ */
  const char *chunk;   /* "@lua/espflash/cli.lua" */
  const char *source;
  size_t size;
} embedded_file_t;

extern const embedded_file_t embedded_files[];

#endif
