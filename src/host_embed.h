/* host_embed.h: the Lua sources embedded in the binary (generated table by
 * src/tools/embed_lua.c): the bytecode that is run, and the source text that
 * the REPL's help() reads doc comments from. */
#ifndef ESPFLASH_HOST_EMBED_H
#define ESPFLASH_HOST_EMBED_H

#include <stddef.h>

typedef struct {
  const char *module;  /* "espflash.cli", or "@script/board-info" for scripts/ */
  const char *chunk;   /* "@lua/espflash/cli.lua" */
  const char *source;  /* the source text */
  size_t size;
  const char *code;    /* its bytecode (lua_dump with debug information) */
  size_t code_size;
} embedded_file_t;

extern const embedded_file_t embedded_files[];

#endif
