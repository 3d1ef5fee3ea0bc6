/* elf.c: reading ELF files through libelf for Lua.
 *
 * core.elf_read(path [, opts]) loads the whole file into memory and returns
 * its headers, sections (with the bytes of the PROGBITS and INIT_ARRAY ones,
 * but not of .debug* sections: only libdw reads those, from the file), program
 * headers, symbols and the file's SHA-256 as plain Lua tables. Every offset and size taken from the file
 * is checked against the file's length before it is used, so truncated,
 * garbage or corrupt files give the fail triple and never a crash. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Refuse absurd inputs before reading them: ESP application ELFs are a few MB. */
#define ELF_MAX_FILE (512u * 1024u * 1024u)

typedef struct {
  unsigned value;
  const char *name;
} elf_name_t;

static const elf_name_t section_types[] = {
  {SHT_NULL, "NULL"}, {SHT_PROGBITS, "PROGBITS"}, {SHT_SYMTAB, "SYMTAB"},
  {SHT_STRTAB, "STRTAB"}, {SHT_RELA, "RELA"}, {SHT_HASH, "HASH"},
  {SHT_DYNAMIC, "DYNAMIC"}, {SHT_NOTE, "NOTE"}, {SHT_NOBITS, "NOBITS"},
  {SHT_REL, "REL"}, {SHT_DYNSYM, "DYNSYM"}, {SHT_INIT_ARRAY, "INIT_ARRAY"},
  {SHT_FINI_ARRAY, "FINI_ARRAY"}, {SHT_PREINIT_ARRAY, "PREINIT_ARRAY"},
  {SHT_GROUP, "GROUP"}, {SHT_SYMTAB_SHNDX, "SYMTAB_SHNDX"}, {0, NULL}};

static const elf_name_t segment_types[] = {
  {PT_NULL, "NULL"}, {PT_LOAD, "LOAD"}, {PT_DYNAMIC, "DYNAMIC"},
  {PT_INTERP, "INTERP"}, {PT_NOTE, "NOTE"}, {PT_PHDR, "PHDR"}, {PT_TLS, "TLS"},
  {PT_GNU_STACK, "GNU_STACK"}, {0, NULL}};

static const elf_name_t symbol_types[] = {
  {STT_NOTYPE, "NOTYPE"}, {STT_OBJECT, "OBJECT"}, {STT_FUNC, "FUNC"},
  {STT_SECTION, "SECTION"}, {STT_FILE, "FILE"}, {STT_COMMON, "COMMON"},
  {STT_TLS, "TLS"}, {0, NULL}};

static const elf_name_t symbol_binds[] = {
  {STB_LOCAL, "LOCAL"}, {STB_GLOBAL, "GLOBAL"}, {STB_WEAK, "WEAK"}, {0, NULL}};

/* Pushes the name for value from table, or the number itself when unknown. */
static void push_name(lua_State *L, const elf_name_t *table, unsigned value) {
  for (const elf_name_t *e = table; e->name; e++) {
    if (e->value == value) {
      lua_pushstring(L, e->name);
      return;
    }
  }
  lua_pushinteger(L, (lua_Integer)value);
}

static void set_int(lua_State *L, const char *key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

#define ERR_LEN 256

/* Copies libelf's last error message into err (ERR_LEN bytes). */
static void libelf_err(char *err) {
  const char *m = elf_errmsg(-1);
  snprintf(err, ERR_LEN, "%s", m ? m : "unknown libelf error");
}

/* Reads the whole file; returns NULL and sets *err on failure. */
static unsigned char *slurp(const char *path, size_t *len, const char **err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = strerror(errno);
    return NULL;
  }
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      if (cap >= ELF_MAX_FILE) {
        *err = "file too large for an ELF image (over 512 MiB)";
        break;
      }
      size_t ncap = cap ? cap * 2 : 1 << 20;
      unsigned char *nb = realloc(buf, ncap);
      if (!nb) {
        *err = "out of memory";
        break;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) *err = strerror(errno);
      else {
        fclose(f);
        *len = n;
        return buf;
      }
      break;
    }
  }
  fclose(f);
  free(buf);
  return NULL;
}

/* True when [off, off + size) lies inside a file of len bytes. */
static int in_file(uint64_t off, uint64_t size, size_t len) {
  return off <= len && size <= len - off;
}

static int push_sections(lua_State *L, Elf *e, const unsigned char *buf, size_t len,
                         char *err) {
  size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) shstrndx = 0;
  lua_newtable(L);
  int i = 0;
  for (Elf_Scn *scn = elf_nextscn(e, NULL); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) {
      lua_pop(L, 1);
      libelf_err(err);
      return -1;
    }
    const char *name = shstrndx ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
    lua_newtable(L);
    lua_pushstring(L, name ? name : "");
    lua_setfield(L, -2, "name");
    set_int(L, "index", (lua_Integer)elf_ndxscn(scn));
    push_name(L, section_types, sh.sh_type);
    lua_setfield(L, -2, "type");
    set_int(L, "flags", (lua_Integer)sh.sh_flags);
    set_int(L, "addr", (lua_Integer)sh.sh_addr);
    set_int(L, "offset", (lua_Integer)sh.sh_offset);
    set_int(L, "size", (lua_Integer)sh.sh_size);
    set_int(L, "link", (lua_Integer)sh.sh_link);
    set_int(L, "align", (lua_Integer)sh.sh_addralign);
    int debug = name && strncmp(name, ".debug", 6) == 0;
    if ((sh.sh_type == SHT_PROGBITS || sh.sh_type == SHT_INIT_ARRAY) && sh.sh_size > 0 && !debug) {
      if (!in_file(sh.sh_offset, sh.sh_size, len)) {
        lua_pop(L, 2);
        snprintf(err, ERR_LEN, "section %s extends past the end of the file",
                 name ? name : "?");
        return -1;
      }
      lua_pushlstring(L, (const char *)buf + sh.sh_offset, (size_t)sh.sh_size);
      lua_setfield(L, -2, "data");
    }
    lua_rawseti(L, -2, ++i);
  }
  return 0;
}

static int push_segments(lua_State *L, Elf *e, char *err) {
  size_t n;
  if (elf_getphdrnum(e, &n) != 0) {
    libelf_err(err);
    return -1;
  }
  lua_newtable(L);
  for (size_t i = 0; i < n; i++) {
    GElf_Phdr ph;
    if (!gelf_getphdr(e, (int)i, &ph)) {
      lua_pop(L, 1);
      libelf_err(err);
      return -1;
    }
    lua_newtable(L);
    push_name(L, segment_types, ph.p_type);
    lua_setfield(L, -2, "type");
    set_int(L, "offset", (lua_Integer)ph.p_offset);
    set_int(L, "vaddr", (lua_Integer)ph.p_vaddr);
    set_int(L, "paddr", (lua_Integer)ph.p_paddr);
    set_int(L, "filesz", (lua_Integer)ph.p_filesz);
    set_int(L, "memsz", (lua_Integer)ph.p_memsz);
    set_int(L, "flags", (lua_Integer)ph.p_flags);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 0;
}

/* Adds the symbols of one SYMTAB section to the table on top of the stack. */
static int push_symtab(lua_State *L, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, int *count,
                       char *err) {
  Elf_Data *d = elf_getdata(scn, NULL);
  if (!d) {
    libelf_err(err);
    return -1;
  }
  size_t entsize = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
  if (entsize == 0) return 0;
  size_t nsyms = d->d_size / entsize;
  for (size_t i = 1; i < nsyms; i++) {
    GElf_Sym sym;
    if (!gelf_getsym(d, (int)i, &sym)) continue;
    const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, name ? name : "");
    lua_setfield(L, -2, "name");
    set_int(L, "value", (lua_Integer)sym.st_value);
    set_int(L, "size", (lua_Integer)sym.st_size);
    push_name(L, symbol_types, GELF_ST_TYPE(sym.st_info));
    lua_setfield(L, -2, "type");
    push_name(L, symbol_binds, GELF_ST_BIND(sym.st_info));
    lua_setfield(L, -2, "bind");
    set_int(L, "section", (lua_Integer)sym.st_shndx);
    lua_rawseti(L, -2, ++*count);
  }
  return 0;
}

static int push_symbols(lua_State *L, Elf *e, char *err) {
  lua_newtable(L);
  int count = 0;
  for (Elf_Scn *scn = elf_nextscn(e, NULL); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB) continue;
    if (push_symtab(L, e, scn, &sh, &count, err) != 0) {
      lua_pop(L, 1);
      return -1;
    }
  }
  return 0;
}

/* Fills the result table (on top of the stack); returns 0 or -1 with *err. */
static int read_elf(lua_State *L, Elf *e, const unsigned char *buf, size_t len, int symbols,
                    char *err) {
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) {
    libelf_err(err);
    return -1;
  }
  int cls = gelf_getclass(e);
  /* libelf quietly reports no sections when the table lies past the end of the
   * file; check the counts the header claims against the real length. */
  uint64_t shnum = eh.e_shnum ? eh.e_shnum : (eh.e_shoff ? 1 : 0);
  uint64_t shsize = shnum * gelf_fsize(e, ELF_T_SHDR, 1, EV_CURRENT);
  uint64_t phsize = (uint64_t)eh.e_phnum * gelf_fsize(e, ELF_T_PHDR, 1, EV_CURRENT);
  if ((shnum && !in_file(eh.e_shoff, shsize, len)) ||
      (eh.e_phnum && !in_file(eh.e_phoff, phsize, len))) {
    snprintf(err, ERR_LEN, "its header tables extend past the end of the file (%zu bytes)", len);
    return -1;
  }
  set_int(L, "class", cls == ELFCLASS64 ? 64 : 32);
  set_int(L, "machine", eh.e_machine);
  set_int(L, "entry", (lua_Integer)eh.e_entry);
  set_int(L, "elf_type", eh.e_type);
  set_int(L, "flags", eh.e_flags);
  set_int(L, "file_size", (lua_Integer)len);
  lua_pushboolean(L, eh.e_ident[EI_DATA] == ELFDATA2LSB);
  lua_setfield(L, -2, "little_endian");
  if (push_sections(L, e, buf, len, err) != 0) return -1;
  lua_setfield(L, -2, "sections");
  if (push_segments(L, e, err) != 0) return -1;
  lua_setfield(L, -2, "segments");
  if (symbols) {
    if (push_symbols(L, e, err) != 0) return -1;
  } else {
    lua_newtable(L);
  }
  lua_setfield(L, -2, "symbols");
  return 0;
}

/* core.elf_read(path [, {symbols=true}]) -> {class, machine, entry, sections,
 *   segments, symbols, file_sha256 (32 raw bytes: the whole file), ...}
 *   | nil, "ELF: message", "ELF" */
static int l_elf_read(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int symbols = 1;
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "symbols");
    if (!lua_isnil(L, -1)) symbols = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  size_t len = 0;
  const char *rerr = "unknown error";
  unsigned char *buf = slurp(path, &len, &rerr);
  if (!buf) return core_fail(L, "FILE", "cannot read %s: %s", path, rerr);
  if (len < 4 || memcmp(buf, ELFMAG, SELFMAG) != 0) {
    free(buf);
    return core_fail(L, "ELF", "%s is not an ELF file (no ELF magic at its start)", path);
  }
  if (elf_version(EV_CURRENT) == EV_NONE) {
    free(buf);
    return core_fail(L, "ELF", "libelf is out of date");
  }
  Elf *e = elf_memory((char *)buf, len);
  if (!e || elf_kind(e) != ELF_K_ELF) {
    /* libelf sets no error when it merely does not recognise the header */
    int code = elf_errno();
    char why[96];
    if (code != 0)
      snprintf(why, sizeof why, "%s", elf_errmsg(code));
    else if (len >= EI_NIDENT && buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
      snprintf(why, sizeof why, "its class byte is 0x%02x, neither 32- nor 64-bit", buf[EI_CLASS]);
    else
      snprintf(why, sizeof why, "unrecognised ELF header");
    if (e) elf_end(e);
    free(buf);
    return core_fail(L, "ELF", "%s is not a valid ELF file: %s", path, why);
  }
  char err[ERR_LEN] = "unknown error";
  lua_newtable(L);
  int rc = read_elf(L, e, buf, len, symbols, err);
  if (rc == 0) {
    struct sha256_ctx ctx;
    uint8_t dig[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, buf);
    sha256_digest(&ctx, sizeof dig, dig);
    lua_pushlstring(L, (const char *)dig, sizeof dig);
    lua_setfield(L, -2, "file_sha256");
  }
  elf_end(e);
  free(buf);
  if (rc != 0) {
    lua_pop(L, 1);
    return core_fail(L, "ELF", "%s is a corrupt or truncated ELF file: %s", path, err);
  }
  return 1;
}

void core_open_elf(lua_State *L) {
  static const luaL_Reg fns[] = {{"elf_read", l_elf_read}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
