// The speed benchmark (bench/run.sh runs it): espflash and esptool-js 0.7.0
// doing the same work against `espflash sim --listen --link-emulation`
// (115200 baud until the baud change, then 921600; 2 ms turnaround), each
// through a counting proxy (wire_proxy.mjs) that measures the bytes on the
// emulated UART. Writes bench/results.md (or BENCH_OUT).
//
// Environment: ESPFLASH_BIN (required), ESPFLASH_STUBS, ESPFLASH_TESTDATA,
// BENCH_CHIPS (default esp32,esp32c3), BENCH_CASES (comma list, default all:
// connect,write-random,write-compressible,reflash-same,reflash-4k,read,save-image),
// BENCH_PEER=0 (skip esptool-js), BENCH_OUT (results file).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSim } from "../tests/peer/sim_server.mjs";
import { WireProxy } from "./wire_proxy.mjs";
import { report } from "./report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.ESPFLASH_BIN;
if (!BIN || !existsSync(BIN)) {
  console.error("bench: ESPFLASH_BIN must name the built espflash binary (bench/run.sh sets it)");
  process.exit(2);
}
const BAUD = 921600;
const LATENCY_US = 2000;
const MIB = 1 << 20;
const CHIPS = (process.env.BENCH_CHIPS || "esp32,esp32c3").split(",");
const ALL_CASES = ["connect", "write-random", "write-compressible", "reflash-same", "reflash-4k", "read", "save-image"];
const CASES = new Set((process.env.BENCH_CASES || ALL_CASES.join(",")).split(","));
const PEER = process.env.BENCH_PEER !== "0";
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const work = mkdtempSync(join(tmpdir(), "espflash-bench-"));

/** Runs argv; resolves {seconds, code, stdout, stderr, maxRssKb}. */
function run(argv, opts = {}) {
  const rss = join(work, "rss.txt");
  const full = TIME && opts.rss !== false ? [TIME, "-f", "%M", "-o", rss, ...argv] : argv;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(full[0], full.slice(1), { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      let maxRssKb = null;
      if (full !== argv && existsSync(rss)) maxRssKb = Number(readFileSync(rss, "utf8").trim().split("\n").pop());
      resolve({ seconds, code, stdout, stderr, maxRssKb });
    });
  });
}

function ensureOk(r, what) {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** espflash SUBCOMMAND ARGS through the proxy; returns {seconds, link, maxRssKb}. */
async function ours(proxy, args) {
  proxy.reset();
  const r = ensureOk(await run([BIN, ...args, "--port", `socket://127.0.0.1:${proxy.port}`, "-B", String(BAUD)]),
    `espflash ${args[0]}`);
  await settle();
  return { seconds: r.seconds, link: proxy.current, maxRssKb: r.maxRssKb };
}

/** esptool-js in its own process; seconds = its own time from creating the Transport. */
async function peer(proxy, args) {
  if (!PEER) return null;
  proxy.reset();
  const r = await run([process.execPath, join(here, "ejs_client.mjs"), "127.0.0.1", String(proxy.port),
    String(BAUD), ...args], { rss: false });
  const line = r.stdout.trim().split("\n").pop();
  let res;
  try { res = JSON.parse(line); } catch { throw new Error(`esptool-js ${args[0]}: no result\n${r.stdout}\n${r.stderr}`); }
  if (!res.ok) throw new Error(`esptool-js ${args.join(" ")} failed: ${res.error}`);
  await settle();
  return { seconds: res.total, processSeconds: r.seconds, connect: res.connect, link: proxy.current,
           maxRssKb: res.maxRssKb };
}

// The proxy's counters are complete once the client's socket closed.
const settle = () => new Promise((r) => setTimeout(r, 50));

function writeFile(name, data) {
  const p = join(work, name);
  writeFileSync(p, data);
  return p;
}

/** 1 MiB that compresses like firmware with large zero areas: random bytes here and there. */
function compressible() {
  const b = Buffer.alloc(MIB, 0);
  for (let off = 0; off < MIB; off += 0x10000) randomBytes(384).copy(b, off);
  return b;
}

async function benchChip(chip, files) {
  const server = await startSim(BIN, ["--chip", chip, "--listen", "127.0.0.1:0", "--flash-size", "4mb",
    "--link-emulation", "--latency-us", String(LATENCY_US)]);
  const proxy = await new WireProxy({ host: server.host, port: server.port }).listen();
  const rows = [];
  const add = (name, mine, theirs, extra = {}) => {
    rows.push({ name, ours: mine, peer: theirs, ...extra });
    const p = theirs ? ` | esptool-js ${theirs.seconds.toFixed(3)} s` : "";
    console.error(`  ${chip} ${name}: espflash ${mine.seconds.toFixed(3)} s (wire ${mine.link.wireSeconds().toFixed(3)} s)${p}`);
  };
  try {
    if (CASES.has("connect")) {
      add("connect", await ours(proxy, ["board-info"]), await peer(proxy, ["connect"]));
    }
    const app = 0x10000, other = 0x200000;
    if (CASES.has("write-random") || CASES.has("reflash-same") || CASES.has("reflash-4k")) {
      add("write-random", await ours(proxy, ["write-bin", String(app), files.random]),
        await peer(proxy, ["write", String(app), files.random]), { payload: MIB });
    }
    if (CASES.has("write-compressible")) {
      add("write-compressible", await ours(proxy, ["write-bin", String(other), files.compressible]),
        await peer(proxy, ["write", String(other), files.compressible]), { payload: files.compressedSize });
    }
    if (CASES.has("reflash-same")) {
      add("reflash-same", await ours(proxy, ["write-bin", String(app), files.random]),
        await peer(proxy, ["write", String(app), files.random]));
    }
    if (CASES.has("reflash-4k")) {
      add("reflash-4k", await ours(proxy, ["write-bin", String(app), files.random4k]),
        await peer(proxy, ["write", String(app), files.random4k]));
    }
    if (CASES.has("read")) {
      const out = join(work, "read.bin");
      add("read", await ours(proxy, ["read-flash", "0", String(4 * MIB), out]),
        await peer(proxy, ["read", "0", String(4 * MIB)]));
      if (statSync(out).size !== 4 * MIB) throw new Error("read-flash wrote a short file");
    }
  } finally {
    await proxy.close();
    await server.stop();
  }
  return rows;
}

/** save-image of the largest ELF in $ESPFLASH_TESTDATA/elf: the median of 15 runs. */
async function benchSaveImage() {
  const td = process.env.ESPFLASH_TESTDATA;
  const dir = td && join(td, "elf");
  if (!dir || !existsSync(dir)) return { skipped: "ESPFLASH_TESTDATA/elf is absent" };
  const elfs = readdirSync(dir).filter((f) => f.endsWith(".elf"))
    .map((f) => ({ f, size: statSync(join(dir, f)).size })).sort((a, b) => b.size - a.size);
  if (!elfs.length) return { skipped: "no ELF in ESPFLASH_TESTDATA/elf" };
  const { f, size } = elfs[0];
  const chip = f.replace(/[_.].*$/, "");
  const args = ["save-image", "--chip", chip];
  const bl = join(td, "bootloaders", `${chip}-bootloader.bin`);
  if (existsSync(bl)) args.push("--bootloader", bl);
  const out = join(work, "image.bin");
  const times = [];
  let rss = null;
  for (let i = 0; i < 15; i++) {
    const r = ensureOk(await run([BIN, ...args, join(dir, f), out], { rss: i === 0 }), "espflash save-image");
    if (i === 0) rss = r.maxRssKb;
    times.push(r.seconds);
  }
  const versions = [];
  for (let i = 0; i < 5; i++) versions.push((await run([BIN, "--version"], { rss: false })).seconds);
  versions.sort((a, b) => a - b);
  // the conversion alone, in-process (ELF load and image build)
  const coreArgs = [BIN, "run", join(here, "save_image_core.lua"), join(dir, f), chip];
  if (existsSync(bl)) coreArgs.push(bl);
  const [coreBest, coreMedian] = ensureOk(await run(coreArgs, { rss: false }), "save_image_core.lua")
    .stdout.trim().split(/\s+/).map(Number);
  times.sort((a, b) => a - b);
  return { elf: f, elfSize: size, chip, median: times[7], min: times[0], maxRssKb: rss,
           imageSize: statSync(out).size, versionSeconds: versions[2], coreBestMs: coreBest,
           coreMedianMs: coreMedian };
}

async function main() {
  const t0 = performance.now();
  const zlib = await import("node:zlib");
  const random = randomBytes(MIB);
  const random4k = Buffer.from(random);
  randomBytes(4096).copy(random4k, 0x80000);
  const comp = compressible();
  const files = {
    random: writeFile("random.bin", random),
    random4k: writeFile("random4k.bin", random4k),
    compressible: writeFile("compressible.bin", comp),
    compressedSize: zlib.deflateSync(comp, { level: 9 }).length,
  };
  const results = { chips: {}, baud: BAUD, latencyUs: LATENCY_US, peer: PEER };
  const chipCases = ALL_CASES.filter((c) => c !== "save-image" && CASES.has(c));
  for (const chip of chipCases.length ? CHIPS : []) {
    console.error(`bench: ${chip}`);
    results.chips[chip] = await benchChip(chip, files);
  }
  if (CASES.has("save-image")) {
    results.saveImage = await benchSaveImage();
    const s = results.saveImage;
    console.error(s.skipped ? `  save-image: skipped (${s.skipped})`
      : `  save-image ${s.elf}: median ${(s.median * 1000).toFixed(1)} ms`);
  }
  results.benchSeconds = (performance.now() - t0) / 1000;
  results.machine = { cpu: cpus()[0]?.model || "unknown", cores: cpus().length,
                      memGiB: (totalmem() / 2 ** 30).toFixed(1), kernel: release(), node: process.version };
  let ejsVersion = "?";
  try {
    ejsVersion = JSON.parse(readFileSync(join(here, "../tests/peer/node_modules/esptool-js/package.json"))).version;
  } catch { /* reported as ? */ }
  results.esptoolJs = ejsVersion;
  const basePath = join(here, "baseline.json");
  if (existsSync(basePath)) results.baseline = JSON.parse(readFileSync(basePath, "utf8"));
  const md = report(results, readFileSync(join(here, "findings.md"), "utf8"));
  const outPath = process.env.BENCH_OUT || join(here, "results.md");
  writeFileSync(outPath, md);
  console.error(`bench: ${results.benchSeconds.toFixed(0)} s; results in ${outPath}`);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 1));
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
