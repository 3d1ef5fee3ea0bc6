// Shared by the esptool-js conformance tests: installing the pinned
// esptool-js, the chips and what esptool-js should report for them, and a
// harness that runs one scenario against a fresh `espflash sim` server.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TcpSerialPort } from "./tcp_serial_port.mjs";
import { startSim } from "./sim_server.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// Installs the pinned esptool-js (package-lock.json) with `npm ci` when
// node_modules is missing; a lock directory keeps parallel test files from
// running npm at the same time.
async function ensureEsptoolJs() {
  const installed = join(here, "node_modules", "esptool-js", "package.json");
  const lock = join(here, ".npm-ci.lock");
  const deadline = Date.now() + 300000;
  while (!existsSync(installed)) {
    try {
      mkdirSync(lock);
    } catch (e) {
      if (e.code !== "EEXIST" || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200)); // another test file is installing
      continue;
    }
    try {
      if (!existsSync(installed)) {
        execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
          { cwd: here, stdio: "inherit" });
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
await ensureEsptoolJs();
export const { ESPLoader, Transport } = await import("esptool-js");

export const BIN = process.env.ESPFLASH_BIN;
export const TRACE = process.env.ESPFLASH_PEER_TRACE === "1";
export const FLASH_SIZE = 1024 * 1024;

// What esptool-js 0.7.0 reports for each chip's default simulated eFuses
// (docs/chips.md): CHIP_NAME and getChipDescription().
export const CHIPS = {
  esp32: ["ESP32", "ESP32-D0WD-V3 (revision 3)"],
  esp32c2: ["ESP32-C2", "ESP32-C2 (revision 1)"],
  esp32c3: ["ESP32-C3", "ESP32-C3 (QFN32) (revision v0.4)"],
  esp32c5: ["ESP32-C5", "ESP32-C5 (revision v1.0)"],
  esp32c6: ["ESP32-C6", "ESP32-C6 (revision 1)"],
  esp32c61: ["ESP32-C61", "ESP32-C61 (revision v1.0)"],
  esp32h2: ["ESP32-H2", "ESP32-H2 (revision v0.1)"],
  esp32p4: ["ESP32-P4", "ESP32-P4 (revision v3.0)"],
  esp32s2: ["ESP32-S2", "ESP32-S2 (revision v1.0)"],
  esp32s3: ["ESP32-S3", "ESP32-S3 (QFN56) (revision v0.2)"],
  esp32s31: ["ESP32-S31", "ESP32-S31 (revision v0.1)"],
};

/** The chips to test: all, or those in ESPFLASH_PEER_CHIPS=esp32,esp32c3. */
export function selectedChips() {
  const only = process.env.ESPFLASH_PEER_CHIPS ? process.env.ESPFLASH_PEER_CHIPS.split(",") : null;
  return Object.entries(CHIPS).filter(([chip]) => !only || only.includes(chip));
}

export const md5 = (data) => createHash("md5").update(data).digest("hex");

export const randomData = (n) => new Uint8Array(randomBytes(n));

export function randomMac() {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfc) | 0x02; // locally administered, unicast
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Little-endian u32 words, as command payloads. */
export function words(...values) {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(4 * i, v, true));
  return out;
}

/** `data` padded with 0xFF to a multiple of 4, as esptool-js writes it. */
export function padded(data) {
  const out = new Uint8Array((data.length + 3) & ~3).fill(0xff);
  out.set(data);
  return out;
}

/** Runs one step of a scenario; a failure names the step. */
export async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    e.message = `${name}: ${e.message}`;
    throw e;
  }
}

export function assertBytes(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = Buffer.from(actual), e = Buffer.from(expected);
  if (!a.equals(e)) {
    let i = 0;
    while (a[i] === e[i]) i++;
    assert.fail(`${what}: first difference at byte ${i} (0x${(a[i] ?? 0).toString(16)} instead of 0x${e[i].toString(16)})`);
  }
}

/**
 * Starts `espflash sim --chip CHIP` on 127.0.0.1:0 with a 1 MB flash in a
 * temporary backing file and `extraArgs`, makes an ESPLoader on it and runs
 * `scenario({loader, transport, log, flashFile, fileBytes})`. On failure the
 * esptool-js log and the sim's stderr go to the test's diagnostics; the
 * server is stopped and the file removed in every case.
 */
export async function withSim(t, chip, extraArgs, loaderOpts, scenario) {
  const dir = mkdtempSync(join(tmpdir(), `espflash-peer-${chip}-`));
  const flashFile = join(dir, "flash.bin");
  const server = await startSim(BIN, ["--chip", chip, "--listen", "127.0.0.1:0", "--flash", flashFile,
    "--flash-size", "1mb", ...extraArgs]);
  const log = [];
  const terminal = { clean() {}, writeLine(s) { log.push(s); }, write(s) { log.push(s); } };
  const transport = new Transport(new TcpSerialPort(server.host, server.port), TRACE);
  if (!TRACE) transport.trace = () => {}; // Transport logs "readLoop exited" even untraced
  const loader = new ESPLoader({ transport, terminal, debugLogging: TRACE, ...loaderOpts });
  try {
    await scenario({ loader, transport, log, flashFile, fileBytes: () => readFileSync(flashFile) });
  } catch (e) {
    t.diagnostic(`esptool-js log:\n${log.join("\n")}`);
    t.diagnostic(`sim stderr:\n${server.stderr()}`);
    throw e;
  } finally {
    await transport.disconnect().catch(() => {});
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
