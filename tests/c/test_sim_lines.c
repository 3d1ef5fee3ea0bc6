/* test_sim_lines.c: the virtual device's modem lines and boot, link
 * emulation timing, fault injection and the flash backing file. */
#include <sys/stat.h>
#include <unistd.h>

#include "test_sim.h"

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Everything the device printed within ms, as a C string (caller frees). */
static char *text(sim_t *s, int ms) {
  char *buf = calloc(1, 8192);
  t_read_raw(s, (uint8_t *)buf, 8191, ms);
  return buf;
}

static int sync_replies(sim_t *s) {
  t_frames_t f;
  t_send_sync(s);
  t_frames(s, &f, 50);
  int n = f.n;
  t_frames_free(&f);
  return n;
}

static void test_classic_reset(void) {
  sim_profile_t p = t_profile_c3();
  sim_options_t o = {0};
  o.app_output = "hello from the app\r\n";
  sim_t *s = t_new(&p, &o);
  char *t = text(s, 20);
  CHECK(strstr(t, "SPI_FAST_FLASH_BOOT") && strstr(t, "hello from the app"), "power-on boot text: %s", t);
  free(t);
  CHECK(sync_replies(s) == 0, "running app answered SYNC");
  /* esptool-js classic: (0,1) EN low; 100 ms; (1,0) EN up with IO0 low; D ms; (0,0). */
  sim_set_lines(s, 0, 1);
  CHECK(strcmp(sim_state_name(s), "off") == 0, "EN low: state %s", sim_state_name(s));
  sleep_ms(20);
  sim_set_lines(s, 1, 0);
  sleep_ms(20);
  sim_set_lines(s, 0, 0);
  t = text(s, 20);
  CHECK(strstr(t, "boot:0x8 (DOWNLOAD") && strstr(t, "waiting for download") && !strstr(t, "hello"),
        "classic reset banner: %s", t);
  free(t);
  CHECK(sync_replies(s) == 8, "no SYNC after classic reset");
  /* Hard reset (RTS pulse with DTR released): normal boot and the app again. */
  sim_set_lines(s, 0, 1);
  sleep_ms(10);
  sim_set_lines(s, 0, 0);
  sleep_ms(10);
  t = text(s, 20);
  CHECK(strstr(t, "SPI_FAST_FLASH_BOOT") && strstr(t, "hello from the app"), "hard reset text: %s", t);
  free(t);
  /* esptool classic passes through (1,1) right as EN rises: IO0 is sampled later, so still download. */
  sim_set_lines(s, 0, 1);
  sleep_ms(10);
  sim_set_lines(s, 1, 1);
  sim_set_lines(s, 1, 0);
  sleep_ms(15);
  sim_set_lines(s, 0, 0);
  t = text(s, 20);
  CHECK(strstr(t, "waiting for download") != NULL, "transient (1,1) broke download entry: %s", t);
  free(t);
  sim_destroy(s);
}

static void test_usb_jtag_and_state_reset(void) {
  sim_profile_t p = t_profile_c3();
  sim_t *s = t_new_download(&p);
  CHECK(sync_replies(s) == 8, "initial SYNC");
  int ohai = 0;
  t_upload_stub(s, C3_STUB_ENTRY, &ohai);
  CHECK(ohai, "stub did not start");
  uint8_t d[8];
  size_t len;
  t_put32(d, 921600); t_put32(d + 4, 115200);
  free(t_cmd(s, 0x0F, d, 8, 0, &len));
  sim_set_host_baud(s, 921600);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "stub at 921600");
  /* USB-Serial/JTAG sequence (esptool-js): ends with both lines released, yet download mode. */
  sim_set_lines(s, 0, 0);
  sleep_ms(5);
  sim_set_lines(s, 1, 0);
  sleep_ms(5);
  sim_set_lines(s, 1, 1);
  sim_set_lines(s, 0, 1);
  sleep_ms(5);
  sim_set_lines(s, 0, 0);
  sleep_ms(10);
  sim_set_host_baud(s, 115200);
  char *t = text(s, 20);
  CHECK(strstr(t, "waiting for download") != NULL, "USB-JTAG reset banner: %s", t);
  free(t);
  CHECK(strcmp(sim_state_name(s), "rom") == 0, "stub survived EN low: %s", sim_state_name(s));
  CHECK(sync_replies(s) == 8, "ROM not at 115200 after reset");
  CHECK(t_read_reg(s, 0x60000014) == 0x0030015B, "CLKDIV not back at 115200");
  sim_destroy(s);
}

static void test_link_emulation(void) {
  sim_profile_t p = t_profile_c3();
  sim_options_t o = {0};
  o.start_in_download = 1;
  o.link_emulation = 1;
  o.latency_us = 5000;
  sim_t *s = t_new(&p, &o);
  int64_t t0 = core_now_us();
  t_send_sync(s);
  /* 46 bytes out at 115200 = 4 ms, then 5 ms latency, then 8 x 14 bytes = 9.7 ms. */
  uint8_t buf[256];
  size_t n = sim_host_read(s, buf, sizeof buf);
  CHECK(n == 0, "bytes readable before they could arrive (%zu)", n);
  int64_t hint = sim_wait_hint_us(s);
  CHECK(hint > 0, "wait hint %lld", (long long)hint);
  n = t_read_raw(s, buf, sizeof buf, 200);
  int64_t dt = core_now_us() - t0;
  CHECK(n == 8 * 14, "link-emulated SYNC replies: %zu bytes", n);
  CHECK(dt >= 18000 && dt < 150000, "8 SYNC replies took %lld us (want ~18.7 ms)", (long long)dt);
  CHECK(sim_wait_hint_us(s) == -1, "something still pending");
  sim_destroy(s);
}

static sim_t *fault_sim(int kind, int at) {
  sim_profile_t p = t_profile_c3();
  sim_options_t o = {0};
  o.start_in_download = 1;
  o.fault_kind = kind;
  o.fault_at = at;
  return t_new(&p, &o);
}

static void test_faults(void) {
  t_frames_t f;
  uint8_t raw[512];
  /* drop: reply 3 (the 4th SYNC reply) loses a byte. */
  sim_t *s = fault_sim(SIM_FAULT_DROP, 3);
  t_send_sync(s);
  size_t n = t_read_raw(s, raw, sizeof raw, 50);
  t_decode(raw, n, &f);
  CHECK(n == 8 * 14 - 1 && f.n == 8 && f.len[3] == 11 && f.len[2] == 12, "drop: %zu bytes", n);
  t_frames_free(&f);
  sim_destroy(s);
  /* flip: reply 0 has one bit flipped. */
  s = fault_sim(SIM_FAULT_FLIP, 0);
  t_send_sync(s);
  t_frames(s, &f, 50);
  int diff = f.n == 8 ? memcmp(f.data[0], f.data[1], 12) != 0 : 0;
  CHECK(diff && memcmp(f.data[1], f.data[2], 12) == 0, "flip: first reply not corrupted alone");
  t_frames_free(&f);
  sim_destroy(s);
  /* stall: from reply 8 on (the READ_REG after SYNC) nothing, until a reset. */
  s = fault_sim(SIM_FAULT_STALL, 8);
  CHECK(sync_replies(s) == 8, "stall: SYNC");
  CHECK(t_read_reg(s, 0x40001000) == 0xDEADBEEF, "stall: READ_REG answered");
  CHECK(sync_replies(s) == 0, "stall: SYNC answered");
  sim_reset(s, 1);
  CHECK(sync_replies(s) == 8, "stall not cleared by reset");
  sim_destroy(s);
  /* reset: command 1 (READ_REG) reboots into download mode instead of answering. */
  s = fault_sim(SIM_FAULT_RESET, 1);
  CHECK(sync_replies(s) == 8, "reset: SYNC");
  uint8_t d[4];
  t_put32(d, 0x40001000);
  t_send(s, 0x0A, d, 4, 0);
  char *t = text(s, 30);
  CHECK(strstr(t, "waiting for download") && !strchr(t, (char)0xC0), "reset fault: %s", t);
  free(t);
  CHECK(t_read_reg(s, 0x40001000) == 0xDEADBEEF, "reset fault: answered before SYNC");
  CHECK(sync_replies(s) == 8, "reset fault: no SYNC after");
  sim_destroy(s);
  /* refuse: command 1 fails with 01 06, later ones work. */
  s = fault_sim(SIM_FAULT_REFUSE, 1);
  CHECK(sync_replies(s) == 8, "refuse: SYNC");
  size_t len;
  uint8_t *r = t_cmd(s, 0x0A, d, 4, 0, &len);
  CHECK(r && r[1] == 0x0A && t_rom_status(r, len) == 6, "refuse: status %d", t_rom_status(r, len));
  free(r);
  CHECK(t_read_reg(s, 0x40001000) == 0x1B31506F, "refuse: next command failed too");
  sim_destroy(s);
}

static void test_backing_file(void) {
  char path[] = "/tmp/test_sim_flashXXXXXX";
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  sim_profile_t p = t_profile_c3();
  sim_options_t o = {0};
  o.start_in_download = 1;
  o.flash_path = path;
  o.flash_size = 1 << 20;
  sim_t *s = t_new(&p, &o);
  struct stat st;
  CHECK(stat(path, &st) == 0 && st.st_size == 1 << 20, "backing file not created at 1 MiB");
  CHECK(sim_flash_size(s) == 1 << 20, "flash size option ignored");
  t_sync_rom(s);
  uint8_t d[20 + 16 + 4] = {0};
  size_t len;
  t_put32(d, 4096); t_put32(d + 4, 1); t_put32(d + 8, 1024); t_put32(d + 12, 0x3000);
  free(t_cmd(s, 0x02, d, 20, 0, &len));
  t_put32(d, 4); t_put32(d + 4, 0); t_put32(d + 8, 0); t_put32(d + 12, 0);
  memcpy(d + 16, "ESPF", 4);
  uint8_t *r = t_cmd(s, 0x03, d, 20, t_xor(d + 16, 4), &len);
  CHECK(t_rom_status(r, len) == 0, "write to file-backed flash");
  free(r);
  sim_destroy(s);
  FILE *fp = fopen(path, "rb");
  uint8_t buf[8] = {0};
  if (fp) {
    fseek(fp, 0x3000, SEEK_SET);
    CHECK(fread(buf, 1, 8, fp) == 8, "short file");
    fseek(fp, 0, SEEK_SET);
    CHECK(fgetc(fp) == 0xFF, "new file not filled with 0xFF");
    fclose(fp);
  }
  CHECK(memcmp(buf, "ESPF\xFF\xFF\xFF\xFF", 8) == 0, "written bytes not in the file");
  /* Reopened: the data is still there; a larger file is refused. */
  s = t_new(&p, &o);
  uint8_t got[4];
  sim_flash_read(s, 0x3000, got, 4);
  CHECK(memcmp(got, "ESPF", 4) == 0, "data lost across sims");
  sim_destroy(s);
  o.flash_size = 1 << 19;
  char err[256];
  CHECK(sim_create(&p, &o, err, sizeof err) == NULL && strstr(err, "larger"), "larger file accepted");
  unlink(path);
  /* Size from the JEDEC capacity byte (0x16 = 4 MiB; 0x18 = 16 MiB). */
  p.jedec_id = 0x1840EF;
  o.flash_path = NULL;
  o.flash_size = 0;
  s = t_new(&p, &o);
  CHECK(sim_flash_size(s) == 16u << 20, "JEDEC size %u", sim_flash_size(s));
  sim_destroy(s);
}

int main(void) {
  test_classic_reset();
  test_usb_jtag_and_state_reset();
  test_link_emulation();
  test_faults();
  test_backing_file();
  return check_finish("test_sim_lines");
}
