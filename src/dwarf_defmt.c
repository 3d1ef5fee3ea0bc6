/* dwarf_defmt.c: where defmt log statements are in the source. Each
 * `defmt::info!` and friends leaves a static called DEFMT_LOG_STATEMENT in the
 * DWARF, inside the namespaces of its module path, with the interned format
 * string's symbol as linkage name, its table index as location (DW_OP_addr)
 * and its source position as decl_file / decl_line (what defmt-decoder's
 * get_locations reads). */
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <lauxlib.h>

#include "mon.h"

#define MAX_DEPTH 64

typedef struct {
  lua_State *L;
  Dwarf_Die *cu;
  const char *ns[MAX_DEPTH];
  int count;
} walk_t;

static void push_module(walk_t *w, int depth) {
  luaL_Buffer b;
  luaL_buffinit(w->L, &b);
  for (int i = 0; i < depth; i++) {
    if (i) luaL_addstring(&b, "::");
    luaL_addstring(&b, w->ns[i] ? w->ns[i] : "?");
  }
  luaL_pushresult(&b);
}

static void add_statement(walk_t *w, Dwarf_Die *var, int depth) {
  Dwarf_Attribute a;
  const char *link = dwarf_formstring(dwarf_attr(var, DW_AT_linkage_name, &a));
  int line = 0;
  const char *file = dwarf_decl_file(var);
  Dwarf_Op *expr;
  size_t n;
  if (!link || !file || dwarf_decl_line(var, &line) != 0 ||
      dwarf_getlocation(dwarf_attr(var, DW_AT_location, &a), &expr, &n) != 0 || n < 1 ||
      expr[0].atom != DW_OP_addr)
    return;
  lua_State *L = w->L;
  lua_createtable(L, 0, 5);
  lua_pushstring(L, link);
  lua_setfield(L, -2, "linkage");
  lua_pushinteger(L, (lua_Integer)expr[0].number);
  lua_setfield(L, -2, "addr");
  const char *dir = file[0] == '/' ? NULL : dwarf_formstring(dwarf_attr(w->cu, DW_AT_comp_dir, &a));
  if (dir && *dir)
    lua_pushfstring(L, "%s/%s", dir, file);
  else
    lua_pushstring(L, file);
  lua_setfield(L, -2, "file");
  lua_pushinteger(L, line);
  lua_setfield(L, -2, "line");
  push_module(w, depth);
  lua_setfield(L, -2, "module");
  lua_rawseti(L, -2, ++w->count);
}

static void walk(walk_t *w, Dwarf_Die *parent, int depth) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_namespace) {
      if (depth < MAX_DEPTH) {
        w->ns[depth] = dwarf_diename(&child);
        walk(w, &child, depth + 1);
      }
    } else if (tag == DW_TAG_variable) {
      const char *name = dwarf_diename(&child);
      if (name && strcmp(name, "DEFMT_LOG_STATEMENT") == 0) add_statement(w, &child, depth);
    } else if (dwarf_haschildren(&child) > 0) {
      walk(w, &child, depth);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

void mon_push_defmt_locations(lua_State *L, Dwarf *dw) {
  walk_t w;
  memset(&w, 0, sizeof w);
  w.L = L;
  lua_newtable(L);
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dw, off + hsize, &cu)) {
      w.cu = &cu;
      luaL_checkstack(L, 8, "defmt locations");
      walk(&w, &cu, 0);
    }
    off = next;
  }
}
