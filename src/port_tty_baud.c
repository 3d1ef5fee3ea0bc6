/* port_tty_baud.c: arbitrary baud rates through termios2 and BOTHER.
 * <asm/termbits.h> cannot share a translation unit with <termios.h>, so this
 * is the only file that includes it. */
#include <asm/termbits.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "port.h"

int port_tty_set_baud2(int fd, uint32_t baud) {
  struct termios2 t;
  if (ioctl(fd, TCGETS2, &t) < 0) return -1;
  t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
  t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
  t.c_ispeed = baud;
  t.c_ospeed = baud;
  return ioctl(fd, TCSETS2, &t);
}
