// esptool-js 0.7.0 against `espflash sim`, talking to the ROM loader only
// (no stub upload): detection, flash id, FLASH_BEGIN/DATA and
// FLASH_DEFL_BEGIN/DATA writes with 0x400 blocks, and the ROM's 32-character
// ASCII MD5 reply. Where esptool-js 0.7.0 sends a payload the real ROM
// refuses, the sim must refuse it the same way (status 01 05):
//  - FLASH_BEGIN: esptool-js always sends 5 words; the ESP32 ROM takes exactly 4.
//  - FLASH_DEFL_BEGIN: esptool-js adds the 5th word only for S2, S3, C3 and C2;
//    every ROM but the ESP32's takes exactly 5.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BIN, assertBytes, md5, padded, randomData, selectedChips, step, withSim } from "./common.mjs";

const BEGIN_OK = (chip) => chip !== "esp32";
const DEFL_BEGIN_OK = (chip) => ["esp32", "esp32s2", "esp32s3", "esp32c3", "esp32c2"].includes(chip);
const REFUSED = /failed with status 1,5/;

if (!BIN) {
  test("esptool-js conformance (ROM)", { skip: "ESPFLASH_BIN is not set (ctest sets it to the built binary)" }, () => {});
}

// The ROM answers SPI_FLASH_MD5 with 32 ASCII hex digits; esptool-js hex-encodes those bytes.
const romMd5 = (reply) => Buffer.from(reply, "hex").toString("latin1");

for (const [chip, [chipName]] of BIN ? selectedChips() : []) {
  test(`${chip}: esptool-js 0.7.0 writes flash through the ROM loader`, { timeout: 120000 }, async (t) => {
    await withSim(t, chip, [], { baudrate: 115200 }, async ({ loader, fileBytes }) => {
      await step("detectChip() without the stub", async () => {
        await loader.detectChip("default_reset");
        assert.equal(loader.chip.CHIP_NAME, chipName);
        assert.equal(loader.IS_STUB, false);
        assert.equal((await loader.readFlashId()) >> 16 & 0xff, 0x14, "capacity byte for 1 MB");
        loader.FLASH_WRITE_SIZE = 0x400; // the ROM's block size, as esptool uses with the ROM
      });

      const opts = { flashSize: "keep", flashMode: "keep", flashFreq: "keep", eraseAll: false };
      const a = randomData(5001), addrA = 0x8000;
      await step(`uncompressed write is ${BEGIN_OK(chip) ? "accepted" : "refused (01 05)"}`, async () => {
        const write = loader.writeFlash({ ...opts, fileArray: [{ data: a, address: addrA }], compress: false });
        if (!BEGIN_OK(chip)) {
          await assert.rejects(write, REFUSED);
          return;
        }
        await write;
        assert.equal(romMd5(await loader.flashMd5sum(addrA, 5004)), md5(padded(a)));
        assertBytes(fileBytes().subarray(addrA, addrA + 5004), padded(a), "backing file");
      });

      const b = randomData(9000), addrB = 0x20000;
      await step(`compressed write is ${DEFL_BEGIN_OK(chip) ? "accepted" : "refused (01 05)"}`, async () => {
        const write = loader.writeFlash({ ...opts, fileArray: [{ data: b, address: addrB }], compress: true });
        if (!DEFL_BEGIN_OK(chip)) {
          await assert.rejects(write, REFUSED);
          return;
        }
        await write;
        assert.equal(romMd5(await loader.flashMd5sum(addrB, b.length)), md5(b));
        assertBytes(fileBytes().subarray(addrB, addrB + b.length), b, "backing file");
      });

      await step("the ROM still answers after a refusal", async () => {
        assert.equal((await loader.readFlashId()) & 0xffffff, 0x1440c8);
      });
    });
  });
}
