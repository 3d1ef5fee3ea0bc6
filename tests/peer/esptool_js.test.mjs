// esptool-js 0.7.0 against `espflash sim`, through the flasher stub: for
// every chip, a peer written by Espressif connects through its own Transport
// (over a TCP-backed fake Web Serial port), detects the chip, reads the MAC
// and flash id, uploads its flasher stub, changes baud, writes flash
// compressed and uncompressed (with its MD5 verification), reads back,
// erases a region and the whole chip; results are compared with the sim's
// flash backing file.
//
// Run: ESPFLASH_BIN=build/espflash node --test tests/peer/esptool_js.test.mjs
// ESPFLASH_PEER_TRACE=1 prints esptool-js's byte trace; ESPFLASH_PEER_CHIPS=esp32,esp32c3 limits the chips.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BIN, FLASH_SIZE, assertBytes, md5, padded, randomData, randomMac, selectedChips, step, withSim, words,
} from "./common.mjs";

if (!BIN) {
  test("esptool-js conformance (stub)", { skip: "ESPFLASH_BIN is not set (ctest sets it to the built binary)" }, () => {});
}

for (const [chip, [chipName, description]] of BIN ? selectedChips() : []) {
  test(`${chip}: esptool-js 0.7.0 connects, flashes through its stub, reads back and erases`,
    { timeout: 180000 }, async (t) => {
      const mac = randomMac();
      await withSim(t, chip, ["--mac", mac], { baudrate: 921600 }, async ({ loader, transport, log, fileBytes }) => {
        await step("main(): connect, detect, read eFuses, run the stub, change baud", async () => {
          const desc = await loader.main();
          assert.equal(loader.chip.CHIP_NAME, chipName);
          assert.equal(desc, description);
          assert.equal(loader.IS_STUB, true, "the flasher stub runs");
          assert.ok(log.includes("Stub running..."), "stub handshake (OHAI) seen");
          assert.equal(transport.baudrate, 921600);
        });

        await step("the MAC address is the one given to the sim", async () => {
          assert.equal(await loader.chip.readMac(loader), mac);
        });

        await step("the flash id is the simulated 1 MB GigaDevice flash", async () => {
          const id = await loader.readFlashId();
          assert.equal(id & 0xff, 0xc8, "manufacturer");
          assert.equal((id >> 16) & 0xff, 0x14, "capacity byte for 1 MB");
          assert.equal(await loader.detectFlashSize(), "1MB");
        });

        const a = randomData(70000);         // compressed: several 16 KiB blocks
        const b = padded(randomData(20003)); // uncompressed: esptool-js pads to 4 bytes
        const addrA = 0x10000, addrB = 0x40000;

        await step("writeFlash compressed and uncompressed, verified by esptool-js's MD5 check", async () => {
          const opts = { flashSize: "keep", flashMode: "keep", flashFreq: "keep", eraseAll: false,
                         calculateMD5Hash: (image) => md5(image) };
          await loader.writeFlash({ ...opts, fileArray: [{ data: a, address: addrA }], compress: true });
          await loader.writeFlash({ ...opts, fileArray: [{ data: b.subarray(0, 20003), address: addrB }],
                                    compress: false });
          assert.equal(log.filter((l) => l === "Hash of data verified.").length, 2, "both MD5 checks passed");
        });

        await step("flashMd5sum matches", async () => {
          assert.equal(await loader.flashMd5sum(addrA, a.length), md5(a));
          assert.equal(await loader.flashMd5sum(addrB, b.length), md5(b));
        });

        await step("readFlash returns the written bytes, and so does the backing file", async () => {
          assertBytes(await loader.readFlash(addrA, a.length), a, "read back (compressed write)");
          assertBytes(await loader.readFlash(addrB, b.length), b, "read back (uncompressed write)");
          const f = fileBytes();
          assert.equal(f.length, FLASH_SIZE, "backing file size");
          assertBytes(f.subarray(addrA, addrA + a.length), a, "backing file at 0x10000");
          assertBytes(f.subarray(addrB, addrB + b.length), b, "backing file at 0x40000");
          assertBytes(f.subarray(0, addrA), new Uint8Array(addrA).fill(0xff), "untouched flash stays erased");
        });

        await step("ERASE_REGION (esptool-js 0.7.0 has no eraseRegion(): its checkCommand sends it)", async () => {
          await loader.checkCommand("erase region", loader.ESP_ERASE_REGION, words(addrA, 0x2000), 0, 0, 10000);
          const back = await loader.readFlash(addrA, 0x3000);
          assertBytes(back.subarray(0, 0x2000), new Uint8Array(0x2000).fill(0xff), "erased region");
          assertBytes(back.subarray(0x2000), a.subarray(0x2000, 0x3000), "after the erased region");
        });

        await step("eraseFlash leaves every byte 0xFF", async () => {
          await loader.eraseFlash();
          const all = new Uint8Array(FLASH_SIZE).fill(0xff);
          assert.equal(await loader.flashMd5sum(0, FLASH_SIZE), md5(all));
          assertBytes(await loader.readFlash(0, FLASH_SIZE), all, "read back after erase");
          assertBytes(fileBytes(), all, "backing file after erase");
        });
      });
    });
}
