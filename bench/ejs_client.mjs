// One esptool-js 0.7.0 run for the benchmark, in its own process (so it
// shares no event loop with the counting proxy): connect with main() at
// BAUD, then do OP, and print one JSON line with the times (seconds, from
// creating the Transport) and this process's peak RSS.
//
//   node ejs_client.mjs HOST PORT BAUD connect
//   node ejs_client.mjs HOST PORT BAUD write ADDR FILE
//   node ejs_client.mjs HOST PORT BAUD read ADDR SIZE
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ESPLoader, Transport } from "../tests/peer/common.mjs";
import { TcpSerialPort } from "../tests/peer/tcp_serial_port.mjs";

const [host, port, baud, op, a1, a2] = process.argv.slice(2);
const md5 = (data) => createHash("md5").update(data).digest("hex");
const terminal = { clean() {}, writeLine() {}, write() {} };

const t0 = performance.now();
const transport = new Transport(new TcpSerialPort(host, Number(port)), false);
transport.trace = () => {};
const loader = new ESPLoader({ transport, terminal, baudrate: Number(baud), debugLogging: false });
const out = { op };
try {
  await loader.main();
  out.connect = (performance.now() - t0) / 1000;
  if (op === "write") {
    const data = new Uint8Array(readFileSync(a2));
    await loader.writeFlash({ fileArray: [{ data, address: Number(a1) }], flashSize: "keep",
                              flashMode: "keep", flashFreq: "keep", eraseAll: false, compress: true,
                              calculateMD5Hash: md5 });
  } else if (op === "read") {
    const data = await loader.readFlash(Number(a1), Number(a2));
    out.readBytes = data.length;
  }
  out.total = (performance.now() - t0) / 1000;
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e && e.message ? e.message : e);
}
await transport.disconnect().catch(() => {});
out.maxRssKb = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(out.ok ? 0 : 1);
