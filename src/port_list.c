/* port_list.c: core.list_ports() through libserialport's enumeration. Ports
 * are never opened here (on some machines a listed port is the console). */
#include <libgen.h>
#include <libserialport.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

static void set_str(lua_State *L, const char *key, const char *val) {
  if (!val || !*val) return;
  lua_pushstring(L, val);
  lua_setfield(L, -2, key);
}

/* A native port is "pci" when its sysfs device hangs off the PCI bus. */
static const char *native_type(const char *name) {
  const char *base = strrchr(name, '/');
  char link[PATH_MAX], real[PATH_MAX];
  snprintf(link, sizeof link, "/sys/class/tty/%s/device/subsystem", base ? base + 1 : name);
  if (!realpath(link, real)) return "unknown";
  return strcmp(basename(real), "pci") == 0 ? "pci" : "unknown";
}

static void push_port(lua_State *L, struct sp_port *sp) {
  const char *name = sp_get_port_name(sp);
  lua_createtable(L, 0, 9);
  set_str(L, "name", name);
  set_str(L, "description", sp_get_port_description(sp));
  switch (sp_get_port_transport(sp)) {
  case SP_TRANSPORT_USB: {
    int vid, pid, bus, addr;
    set_str(L, "type", "usb");
    if (sp_get_port_usb_vid_pid(sp, &vid, &pid) == SP_OK) {
      lua_pushinteger(L, vid);
      lua_setfield(L, -2, "vid");
      lua_pushinteger(L, pid);
      lua_setfield(L, -2, "pid");
    }
    set_str(L, "manufacturer", sp_get_port_usb_manufacturer(sp));
    set_str(L, "product", sp_get_port_usb_product(sp));
    set_str(L, "serial", sp_get_port_usb_serial(sp));
    if (sp_get_port_usb_bus_address(sp, &bus, &addr) == SP_OK) {
      lua_pushfstring(L, "%d:%d", bus, addr);
      lua_setfield(L, -2, "location");
    }
    break;
  }
  case SP_TRANSPORT_BLUETOOTH:
    set_str(L, "type", "bluetooth");
    set_str(L, "location", sp_get_port_bluetooth_address(sp));
    break;
  default:
    set_str(L, "type", native_type(name));
    break;
  }
}

/* core.list_ports() -> {{name=, type="usb"|"pci"|"bluetooth"|"unknown", vid=, pid=,
 *   manufacturer=, product=, serial=, location="bus:address", description=}, ...}
 *   | nil, "PORT_IO: ...", "PORT_IO" */
int port_list_ports(lua_State *L) {
  struct sp_port **list = NULL;
  enum sp_return rc = sp_list_ports(&list);
  if (rc != SP_OK) {
    char *msg = rc == SP_ERR_FAIL ? sp_last_error_message() : NULL;
    core_fail(L, "PORT_IO", "cannot list serial ports: %s", msg ? msg : "libserialport error");
    if (msg) sp_free_error_message(msg);
    return 3;
  }
  lua_newtable(L);
  for (int i = 0; list[i]; i++) {
    push_port(L, list[i]);
    lua_rawseti(L, -2, i + 1);
  }
  sp_free_port_list(list);
  return 1;
}
