// esptool-js 0.7.0 against `espflash sim --link-emulation`: bytes arrive at
// the pace of a real UART (115200 baud until the stub switches to 921600, plus
// 2 ms turnaround), so esptool-js's own timeouts (100 ms SYNC replies, 3 s
// OHAI, per-block write timeouts) meet realistic timing for every chip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BIN, assertBytes, md5, randomData, selectedChips, step, withSim } from "./common.mjs";

if (!BIN) {
  test("esptool-js conformance (link emulation)", { skip: "ESPFLASH_BIN is not set (ctest sets it to the built binary)" },
    () => {});
}

for (const [chip, [chipName]] of BIN ? selectedChips() : []) {
  test(`${chip}: esptool-js 0.7.0 over a paced UART at 921600 baud`, { timeout: 120000 }, async (t) => {
    const args = ["--link-emulation", "--latency-us", "2000"];
    await withSim(t, chip, args, { baudrate: 921600 }, async ({ loader, transport }) => {
      const data = randomData(65536);
      let seconds;
      await step("main() and a 64 KiB compressed write", async () => {
        await loader.main();
        assert.equal(loader.chip.CHIP_NAME, chipName);
        assert.equal(transport.baudrate, 921600);
        const t0 = Date.now();
        await loader.writeFlash({ fileArray: [{ data, address: 0x10000 }], flashSize: "keep", flashMode: "keep",
                                  flashFreq: "keep", eraseAll: false, compress: true, calculateMD5Hash: md5 });
        seconds = (Date.now() - t0) / 1000;
      });
      await step("the write took at least the UART time of its bytes", async () => {
        // random data does not compress: >= 65536 bytes * 10 bits / 921600 baud
        assert.ok(seconds >= 0.7, `64 KiB written in ${seconds} s: faster than the emulated link allows`);
      });
      await step("readFlash returns the data", async () => {
        assertBytes(await loader.readFlash(0x10000, data.length), data, "read back");
      });
    });
  });
}
