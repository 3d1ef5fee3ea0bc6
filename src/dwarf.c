/* dwarf.c: what the serial monitor knows about a firmware ELF: address ->
 * function name(s) and source location through the DWARF debug information
 * (elfutils' libdw), with the symbol table as the fallback; whether an
 * address lies in a loadable segment; symbol addresses; the stack frame size
 * of a function from its call frame information (dwarf_cfi.c); and the
 * locations of defmt log statements (dwarf_defmt.c).
 *
 *   local dw = core.dwarf_open("app.elf")   -- or nil, "FILE: ..." / "ELF: ..."
 *   dw:frames(0x42001280)  --> { {name="hal_main", linkage=..., file=..., line=...}, ..., lang="rust" } */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <lauxlib.h>

#include "core.h"
#include "mon.h"

#define DWARF_CLASS "espflash.Dwarf"
#define MAX_SCOPES 64

typedef struct {
  uint64_t lo, hi;
} range_t;

typedef struct {
  uint64_t addr, size;
  const char *name;   /* points into the ELF's string table */
} sym_t;

typedef struct {
  int fd;             /* -1 once closed */
  Elf *elf;
  Dwarf *dw;          /* NULL: no DWARF */
  Dwarf_CFI *eh_cfi;  /* .eh_frame, owned; NULL when absent */
  range_t *segs;
  size_t nsegs;
  sym_t *syms;        /* sized symbols, sorted by address */
  size_t nsyms;
  int machine;
} dw_t;

static dw_t *check_dw(lua_State *L) {
  dw_t *d = luaL_checkudata(L, 1, DWARF_CLASS);
  if (d->fd < 0) luaL_error(L, "attempt to use a closed ELF");
  return d;
}

static uint64_t check_addr(lua_State *L, int idx) {
  lua_Integer a = luaL_checkinteger(L, idx);
  luaL_argcheck(L, a >= 0, idx, "address must not be negative");
  return (uint64_t)a;
}

static void dw_free(dw_t *d) {
  if (d->eh_cfi) dwarf_cfi_end(d->eh_cfi);
  if (d->dw) dwarf_end(d->dw);
  if (d->elf) elf_end(d->elf);
  if (d->fd >= 0) close(d->fd);
  free(d->segs);
  free(d->syms);
  d->eh_cfi = NULL;
  d->dw = NULL;
  d->elf = NULL;
  d->segs = NULL;
  d->syms = NULL;
  d->fd = -1;
}

static int read_segments(dw_t *d) {
  size_t n;
  if (elf_getphdrnum(d->elf, &n) != 0) return 0;
  d->segs = calloc(n ? n : 1, sizeof *d->segs);
  if (!d->segs) return -1;
  for (size_t i = 0; i < n; i++) {
    GElf_Phdr ph;
    if (!gelf_getphdr(d->elf, (int)i, &ph) || ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    d->segs[d->nsegs].lo = ph.p_vaddr;
    d->segs[d->nsegs].hi = ph.p_vaddr + ph.p_memsz;
    d->nsegs++;
  }
  return 0;
}

static int cmp_sym(const void *a, const void *b) {
  const sym_t *x = a, *y = b;
  return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Symbols with a size and a real name ($x, $d mapping symbols and .L labels excluded). */
static int read_symbols(dw_t *d) {
  size_t cap = 0;
  for (Elf_Scn *scn = elf_nextscn(d->elf, NULL); scn; scn = elf_nextscn(d->elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0) continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data) continue;
    size_t n = sh.sh_size / sh.sh_entsize;
    for (size_t i = 1; i < n; i++) {
      GElf_Sym s;
      if (!gelf_getsym(data, (int)i, &s) || s.st_size == 0 || s.st_shndx == SHN_UNDEF) continue;
      int type = GELF_ST_TYPE(s.st_info);
      if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
      const char *name = elf_strptr(d->elf, sh.sh_link, s.st_name);
      if (!name || !*name || name[0] == '$' || strncmp(name, ".L", 2) == 0) continue;
      if (d->nsyms == cap) {
        cap = cap ? cap * 2 : 1024;
        sym_t *g = realloc(d->syms, cap * sizeof *g);
        if (!g) return -1;
        d->syms = g;
      }
      d->syms[d->nsyms].addr = s.st_value;
      d->syms[d->nsyms].size = s.st_size;
      d->syms[d->nsyms].name = name;
      d->nsyms++;
    }
  }
  if (d->nsyms) qsort(d->syms, d->nsyms, sizeof *d->syms, cmp_sym);
  return 0;
}

/* core.dwarf_open(path) -> Dwarf | nil, "FILE: ..." | "ELF: ...", code */
static int l_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  dw_t *d = lua_newuserdatauv(L, sizeof *d, 0);
  memset(d, 0, sizeof *d);
  d->fd = -1;
  luaL_setmetatable(L, DWARF_CLASS);
  if (elf_version(EV_CURRENT) == EV_NONE) return core_fail(L, "ELF", "libelf is out of date");
  d->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (d->fd < 0) return core_fail(L, "FILE", "cannot open %s: %s", path, strerror(errno));
  d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
  GElf_Ehdr eh;
  if (!d->elf || elf_kind(d->elf) != ELF_K_ELF || !gelf_getehdr(d->elf, &eh)) {
    const char *msg = elf_errmsg(-1);
    dw_free(d);
    return core_fail(L, "ELF", "%s is not an ELF file%s%s", path, msg ? ": " : "", msg ? msg : "");
  }
  d->machine = eh.e_machine;
  if (read_segments(d) < 0 || read_symbols(d) < 0) {
    dw_free(d);
    return luaL_error(L, "out of memory reading %s", path);
  }
  d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);  /* NULL: no debug info */
  d->eh_cfi = dwarf_getcfi_elf(d->elf);
  return 1;
}

/* dw:machine() -> e_machine (243 RISC-V, 94 Xtensa) */
static int l_machine(lua_State *L) {
  lua_pushinteger(L, check_dw(L)->machine);
  return 1;
}

/* dw:has_dwarf() -> boolean */
static int l_has_dwarf(lua_State *L) {
  lua_pushboolean(L, check_dw(L)->dw != NULL);
  return 1;
}

/* dw:in_segment(addr) -> boolean: inside a PT_LOAD segment's memory */
static int l_in_segment(lua_State *L) {
  dw_t *d = check_dw(L);
  uint64_t a = check_addr(L, 2);
  int in = 0;
  for (size_t i = 0; i < d->nsegs && !in; i++) in = a >= d->segs[i].lo && a < d->segs[i].hi;
  lua_pushboolean(L, in);
  return 1;
}

/* dw:symbol(addr) -> name, start | nil: the smallest sized symbol covering addr */
static int l_symbol(lua_State *L) {
  dw_t *d = check_dw(L);
  uint64_t a = check_addr(L, 2);
  const sym_t *best = NULL;
  for (size_t i = 0; i < d->nsyms && d->syms[i].addr <= a; i++) {
    const sym_t *s = &d->syms[i];
    if (a < s->addr + s->size && (!best || s->size < best->size)) best = s;
  }
  if (!best) return 0;
  lua_pushstring(L, best->name);
  lua_pushinteger(L, (lua_Integer)best->addr);
  return 2;
}

/* dw:symbol_address(name) -> address | nil (any symbol with that name) */
static int l_symbol_address(lua_State *L) {
  dw_t *d = check_dw(L);
  const char *name = luaL_checkstring(L, 2);
  for (Elf_Scn *scn = elf_nextscn(d->elf, NULL); scn; scn = elf_nextscn(d->elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0) continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t n = data ? sh.sh_size / sh.sh_entsize : 0;
    for (size_t i = 1; i < n; i++) {
      GElf_Sym s;
      if (!gelf_getsym(data, (int)i, &s)) continue;
      const char *sn = elf_strptr(d->elf, sh.sh_link, s.st_name);
      if (sn && strcmp(sn, name) == 0) {
        lua_pushinteger(L, (lua_Integer)s.st_value);
        return 1;
      }
    }
  }
  return 0;
}

/* The compilation unit whose ranges cover addr. */
static int find_cu(dw_t *d, Dwarf_Addr addr, Dwarf_Die *cu) {
  if (!d->dw) return 0;
  if (dwarf_addrdie(d->dw, addr, cu)) return 1;
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
    if (dwarf_offdie(d->dw, off + hsize, cu) && dwarf_haspc(cu, addr) > 0) return 1;
    off = next;
  }
  return 0;
}

static const char *attr_string(Dwarf_Die *die, int name) {
  Dwarf_Attribute a;
  return dwarf_formstring(dwarf_attr_integrate(die, name, &a));
}

/* Sets field `file` to path, made absolute with the CU's comp_dir. */
static void set_path(lua_State *L, Dwarf_Die *cu, const char *path) {
  if (!path) return;
  const char *dir = path[0] == '/' ? NULL : attr_string(cu, DW_AT_comp_dir);
  if (dir && *dir)
    lua_pushfstring(L, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path);
  else
    lua_pushstring(L, path);
  lua_setfield(L, -2, "file");
}

static void set_line_at(lua_State *L, Dwarf_Die *cu, Dwarf_Addr addr) {
  Dwarf_Line *line = dwarf_getsrc_die(cu, addr);
  int lineno = 0;
  if (!line || dwarf_lineno(line, &lineno) != 0 || lineno <= 0) return;
  set_path(L, cu, dwarf_linesrc(line, NULL, NULL));
  lua_pushinteger(L, lineno);
  lua_setfield(L, -2, "line");
}

/* The call site of an inlined_subroutine DIE (DW_AT_call_file/line). */
static void set_call_site(lua_State *L, Dwarf_Die *cu, Dwarf_Die *inl) {
  Dwarf_Attribute a;
  Dwarf_Word file = 0, line = 0;
  Dwarf_Files *files;
  size_t nfiles;
  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &file) != 0 ||
      dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &line) != 0 || line == 0 ||
      dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file >= nfiles)
    return;
  set_path(L, cu, dwarf_filesrc(files, file, NULL, NULL));
  lua_pushinteger(L, (lua_Integer)line);
  lua_setfield(L, -2, "line");
}

static const char *lang_name(int lang) {
  switch (lang) {
    case DW_LANG_Rust: return "rust";
    case DW_LANG_C_plus_plus: case DW_LANG_C_plus_plus_11: case DW_LANG_C_plus_plus_14:
      return "c++";
    case DW_LANG_C: case DW_LANG_C89: case DW_LANG_C99: case DW_LANG_C11: return "c";
    default: return "other";
  }
}

/* Collects the DIEs on the way from parent down to pc: functions, inlined
 * functions and blocks whose ranges cover pc, looking through namespaces and
 * types (which have no ranges). Returns the new depth. dwarf_getscopes does
 * not find these in rustc's output. */
static int find_scopes(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *path, int depth) {
  Dwarf_Die child;
  if (depth >= MAX_SCOPES || dwarf_child(parent, &child) != 0) return depth;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_subprogram: case DW_TAG_inlined_subroutine: case DW_TAG_lexical_block:
        if (dwarf_haspc(&child, pc) > 0) {
          path[depth] = child;
          return find_scopes(&path[depth], pc, path, depth + 1);
        }
        break;
      case DW_TAG_namespace: case DW_TAG_structure_type: case DW_TAG_class_type:
      case DW_TAG_union_type: case DW_TAG_module: {
        int d = find_scopes(&child, pc, path, depth);
        if (d > depth) return d;
        break;
      }
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return depth;
}

/* dw:frames(addr) -> {{name=, linkage=, file=, line=}, ..., lang=} innermost
 * function first (inlined functions, then the function they are inlined
 * into); an empty table when no DWARF subprogram covers addr */
static int l_frames(lua_State *L) {
  dw_t *d = check_dw(L);
  Dwarf_Addr addr = check_addr(L, 2);
  lua_newtable(L);
  Dwarf_Die cu;
  if (!find_cu(d, addr, &cu)) return 1;
  lua_pushstring(L, lang_name(dwarf_srclang(&cu)));
  lua_setfield(L, -2, "lang");
  Dwarf_Die scopes[MAX_SCOPES];
  int n = find_scopes(&cu, addr, scopes, 0);
  int count = 0;
  Dwarf_Die *inner = NULL;  /* the previous frame's DIE, when inlined */
  for (int i = n - 1; i >= 0; i--) {
    int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    lua_newtable(L);
    const char *name = attr_string(&scopes[i], DW_AT_name);
    const char *link = attr_string(&scopes[i], DW_AT_linkage_name);
    if (!link) link = attr_string(&scopes[i], DW_AT_MIPS_linkage_name);
    if (name) {
      lua_pushstring(L, name);
      lua_setfield(L, -2, "name");
    }
    if (link) {
      lua_pushstring(L, link);
      lua_setfield(L, -2, "linkage");
    }
    if (!inner)
      set_line_at(L, &cu, addr);
    else
      set_call_site(L, &cu, inner);
    lua_rawseti(L, -2, ++count);
    inner = tag == DW_TAG_inlined_subroutine ? &scopes[i] : NULL;
    if (tag == DW_TAG_subprogram) break;
  }
  return 1;
}

/* dw:location(addr) -> {file=, line=} | nil: the line table row for addr */
static int l_location(lua_State *L) {
  dw_t *d = check_dw(L);
  Dwarf_Addr addr = check_addr(L, 2);
  Dwarf_Die cu;
  if (!find_cu(d, addr, &cu)) return 0;
  lua_newtable(L);
  set_line_at(L, &cu, addr);
  if (lua_getfield(L, -1, "line") == LUA_TNIL) return 0;
  lua_pop(L, 1);
  return 1;
}

/* dw:frame_size(pc [, sp_reg = 2]) -> bytes | nil: the stack frame size of
 * the function whose call frame information covers pc (.eh_frame, then
 * .debug_frame): the largest CFA offset from the stack pointer it sets */
static int l_frame_size(lua_State *L) {
  dw_t *d = check_dw(L);
  uint64_t pc = check_addr(L, 2);
  int sp = (int)luaL_optinteger(L, 3, 2);
  long size = -1;
  if (d->eh_cfi) size = mon_cfi_frame_size(d->elf, d->eh_cfi, 1, pc, sp);
  if (size < 0 && d->dw) {
    Dwarf_CFI *dbg = dwarf_getcfi(d->dw);
    if (dbg) size = mon_cfi_frame_size(d->elf, dbg, 0, pc, sp);
  }
  if (size < 0) return 0;
  lua_pushinteger(L, size);
  return 1;
}

/* dw:defmt_locations() -> {{linkage=, addr=, file=, line=, module=}, ...} */
static int l_defmt_locations(lua_State *L) {
  dw_t *d = check_dw(L);
  if (!d->dw) {
    lua_newtable(L);
    return 1;
  }
  mon_push_defmt_locations(L, d->dw);
  return 1;
}

/* dw:close() -> true; idempotent, also __gc and __close */
static int l_close(lua_State *L) {
  dw_t *d = luaL_checkudata(L, 1, DWARF_CLASS);
  dw_free(d);
  lua_pushboolean(L, 1);
  return 1;
}

void mon_open_dwarf(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"machine", l_machine}, {"has_dwarf", l_has_dwarf}, {"in_segment", l_in_segment},
    {"symbol", l_symbol}, {"symbol_address", l_symbol_address}, {"frames", l_frames},
    {"location", l_location}, {"frame_size", l_frame_size},
    {"defmt_locations", l_defmt_locations}, {"close", l_close}, {NULL, NULL}};
  core_new_class(L, DWARF_CLASS, methods, l_close);
  lua_pushcfunction(L, l_open);
  lua_setfield(L, -2, "dwarf_open");
}
