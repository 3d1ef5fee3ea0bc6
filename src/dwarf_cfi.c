/* dwarf_cfi.c: stack frame sizes from call frame information, for unwinding
 * esp-backtrace's RISC-V `STACKDUMP:` lines the way espflash 4.2 does: a
 * function's frame size is the largest CFA offset from the stack pointer its
 * FDE sets, and the return address sits in the frame's last word.
 *
 * The FDE covering pc is found by walking the section's entries
 * (dwarf_next_cfi) and decoding their initial_location / address_range with
 * the CIE's pointer encoding; its rows are then read through libdw
 * (dwarf_cfi_addrframe), one row at a time. Little-endian ELFs only (every
 * Espressif chip is). */
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "mon.h"

#define MAX_CIES 64

typedef struct {
  Dwarf_Off off;
  uint8_t enc;   /* FDE pointer encoding (DW_EH_PE_*) */
} cie_t;

/* LEB128: the value's bits, the bits read and the last byte (its 0x40 is the
 * sign of a signed value); -1 when the input ends inside the number. */
static int read_leb(const uint8_t **pp, const uint8_t *end, uint64_t *out, int *bits,
                    uint8_t *last) {
  uint64_t v = 0;
  int shift = 0;
  while (*pp < end) {
    uint8_t b = *(*pp)++;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      *out = v;
      *bits = shift;
      *last = b;
      return 0;
    }
  }
  return -1;
}

static int read_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
  int bits;
  uint8_t last;
  return read_leb(pp, end, out, &bits, &last);
}

static int read_sleb(const uint8_t **pp, const uint8_t *end, int64_t *out) {
  uint64_t v;
  int bits;
  uint8_t last;
  if (read_leb(pp, end, &v, &bits, &last) != 0) return -1;
  if (bits < 64 && (last & 0x40)) v |= ~(uint64_t)0 << bits;
  *out = (int64_t)v;
  return 0;
}

static int read_le(const uint8_t **pp, const uint8_t *end, int n, uint64_t *out) {
  if (end - *pp < n) return -1;
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | (*pp)[i];
  *pp += n;
  *out = v;
  return 0;
}

/* Reads one value encoded as `enc`; `vaddr` is the address of the field
 * itself (for pc-relative values), `apply` = 0 reads a plain length. */
static int read_encoded(uint8_t enc, const uint8_t **pp, const uint8_t *end, int addr_size,
                        uint64_t vaddr, int apply, uint64_t *out) {
  uint64_t v;
  int64_t sv;
  int sign_bits = 0;
  switch (enc & 0x0f) {
    case DW_EH_PE_absptr: if (read_le(pp, end, addr_size, &v)) return -1; break;
    case DW_EH_PE_uleb128: if (read_uleb(pp, end, &v)) return -1; break;
    case DW_EH_PE_udata2: if (read_le(pp, end, 2, &v)) return -1; break;
    case DW_EH_PE_udata4: if (read_le(pp, end, 4, &v)) return -1; break;
    case DW_EH_PE_udata8: if (read_le(pp, end, 8, &v)) return -1; break;
    case DW_EH_PE_sleb128: if (read_sleb(pp, end, &sv)) return -1; v = (uint64_t)sv; break;
    case DW_EH_PE_sdata2: if (read_le(pp, end, 2, &v)) return -1; sign_bits = 16; break;
    case DW_EH_PE_sdata4: if (read_le(pp, end, 4, &v)) return -1; sign_bits = 32; break;
    case DW_EH_PE_sdata8: if (read_le(pp, end, 8, &v)) return -1; break;
    default: return -1;
  }
  if (sign_bits && (v >> (sign_bits - 1)) & 1) v |= ~(uint64_t)0 << sign_bits;
  if (apply) {
    switch (enc & 0x70) {
      case DW_EH_PE_absptr: break;
      case DW_EH_PE_pcrel: v += vaddr; break;
      default: return -1;  /* datarel, textrel, funcrel: not used by these toolchains */
    }
    if (enc & DW_EH_PE_indirect) return -1;
  }
  if (addr_size == 4) v &= 0xffffffffu;
  *out = v;
  return 0;
}

/* The FDE pointer encoding a CIE's augmentation ("zR", "zPLR", ...) sets. */
static uint8_t cie_encoding(const Dwarf_CIE *cie, int eh_frame, int addr_size) {
  if (!eh_frame || !cie->augmentation || cie->augmentation[0] != 'z') return DW_EH_PE_absptr;
  const uint8_t *p = cie->augmentation_data;
  const uint8_t *end = p + cie->augmentation_data_size;
  for (const char *a = cie->augmentation + 1; *a && p < end; a++) {
    if (*a == 'R') return *p;
    if (*a == 'L') {
      p++;
    } else if (*a == 'P') {
      uint8_t penc = *p++;
      uint64_t ignored;
      if (read_encoded(penc, &p, end, addr_size, 0, 0, &ignored)) break;
    } else if (*a != 'S' && *a != 'B') {
      break;
    }
  }
  return DW_EH_PE_absptr;
}

/* Finds the FDE covering pc: [*start, *end). Returns 0, or -1 when none does. */
static int find_fde(Elf *elf, int eh_frame, uint64_t pc, uint64_t *start, uint64_t *end) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return -1;
  const char *want = eh_frame ? ".eh_frame" : ".debug_frame";
  Elf_Scn *scn = NULL;
  GElf_Shdr sh;
  while ((scn = elf_nextscn(elf, scn))) {
    const char *name;
    if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
        strcmp(name, want) == 0 && sh.sh_type != SHT_NOBITS)
      break;
  }
  Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
  const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
  if (!data || !data->d_buf || !ident || ident[EI_DATA] != ELFDATA2LSB) return -1;
  int addr_size = ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
  cie_t cies[MAX_CIES];
  int ncies = 0;
  Dwarf_Off off = 0, next;
  for (;;) {
    Dwarf_CFI_Entry e;
    int rc = dwarf_next_cfi(ident, data, eh_frame, off, &next, &e);
    if (rc > 0 || next == (Dwarf_Off)-1 || (rc < 0 && next <= off)) return -1;
    if (rc == 0 && dwarf_cfi_cie_p(&e)) {
      if (ncies < MAX_CIES) {
        cies[ncies].off = off;
        cies[ncies].enc = cie_encoding(&e.cie, eh_frame, addr_size);
        ncies++;
      }
    } else if (rc == 0) {
      uint8_t enc = DW_EH_PE_absptr;
      int known = 0;
      for (int i = 0; i < ncies; i++)
        if (cies[i].off == e.fde.CIE_pointer) enc = cies[i].enc, known = 1;
      if (!known && eh_frame) {
        Dwarf_CFI_Entry c;
        Dwarf_Off cnext;
        if (dwarf_next_cfi(ident, data, eh_frame, e.fde.CIE_pointer, &cnext, &c) == 0 &&
            dwarf_cfi_cie_p(&c))
          enc = cie_encoding(&c.cie, eh_frame, addr_size);
      }
      const uint8_t *p = e.fde.start;
      uint64_t field = sh.sh_addr + (uint64_t)(p - (const uint8_t *)data->d_buf);
      uint64_t lo, len;
      if (read_encoded(enc, &p, e.fde.end, addr_size, field, 1, &lo) == 0 &&
          read_encoded(enc, &p, e.fde.end, addr_size, 0, 0, &len) == 0 && len > 0 &&
          pc >= lo && pc < lo + len) {
        *start = lo;
        *end = lo + len;
        return 0;
      }
    }
    off = next;
  }
}

long mon_cfi_frame_size(Elf *elf, Dwarf_CFI *cfi, int eh_frame, uint64_t pc, int sp_reg) {
  uint64_t start, end;
  if (!cfi || find_fde(elf, eh_frame, pc, &start, &end) != 0) return -1;
  long best = 0;
  uint64_t a = start;
  while (a < end) {
    Dwarf_Frame *f;
    if (dwarf_cfi_addrframe(cfi, a, &f) != 0) break;
    Dwarf_Addr rs, re;
    Dwarf_Op *ops;
    size_t nops;
    if (dwarf_frame_info(f, &rs, &re, NULL) < 0) re = a + 1;
    if (dwarf_frame_cfa(f, &ops, &nops) == 0 && nops == 1) {
      long off = -1;
      if (ops[0].atom == DW_OP_bregx && (int)ops[0].number == sp_reg)
        off = (long)(int64_t)ops[0].number2;
      else if (ops[0].atom == DW_OP_breg0 + sp_reg)
        off = (long)(int64_t)ops[0].number;
      if (off > best) best = off;
    }
    free(f);
    a = re > a ? re : a + 1;
  }
  return best;
}
