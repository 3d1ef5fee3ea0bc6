/* mon.h: the serial monitor's C areas (term.c, dwarf*.c, proc.c).
 *
 * core_open_term() (term.c, called from luaopen_espflash_core) registers the
 * terminal functions and then the other monitor areas through the functions
 * below, so the whole monitor needs one line in core.c. */
#ifndef ESPFLASH_MON_H
#define ESPFLASH_MON_H

#include <stdint.h>
#include <elfutils/libdw.h>
#include <lua.h>

/* dwarf.c: core.dwarf_open and the espflash.Dwarf methods. */
void mon_open_dwarf(lua_State *L);
/* proc.c: core.spawn and the espflash.Proc methods. */
void mon_open_proc(lua_State *L);

/* dwarf_cfi.c: the stack frame size of the function whose FDE covers pc in
 * the ELF's .eh_frame (eh_frame = 1) or .debug_frame (0), read through cfi
 * (the matching libdw CFI handle): the largest CFA offset from register
 * sp_reg that its rules set anywhere in the FDE. Returns that offset (0 when
 * no rule is sp-relative), or -1 when no FDE covers pc. */
long mon_cfi_frame_size(Elf *elf, Dwarf_CFI *cfi, int eh_frame, uint64_t pc, int sp_reg);

/* dwarf_defmt.c: pushes the list of defmt log statement locations in the
 * DWARF of dw (variables named DEFMT_LOG_STATEMENT), each a record
 * {linkage=, addr=, file=, line=, module=}. */
void mon_push_defmt_locations(lua_State *L, Dwarf *dw);

#endif
