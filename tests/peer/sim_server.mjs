// Starts `$ESPFLASH_BIN sim --chip CHIP --listen 127.0.0.1:0 ...` as a child
// process, waits for its "Listening on HOST:PORT" line and stops it again.
import { spawn } from "node:child_process";

// Every server still running is killed when the test process exits, even
// after a test timed out before its own cleanup ran.
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * @param {string} bin path of the espflash binary
 * @param {string[]} args arguments after `sim`
 * @param {number} timeoutMs how long to wait for the address line
 * @returns {Promise<{host: string, port: number, child: import("node:child_process").ChildProcess,
 *   stderr: () => string, stop: () => Promise<number|null>}>}
 */
export async function startSim(bin, args, timeoutMs = 10000) {
  const child = spawn(bin, ["sim", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => { running.delete(child); resolve(code ?? signal); });
    child.once("error", (e) => { running.delete(child); err += `cannot run ${bin}: ${e.message}\n`; resolve(null); });
  });

  const line = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`espflash sim printed no address within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) { clearTimeout(timer); resolve(out.slice(0, nl)); }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`espflash sim exited (${code}) before listening; stdout:\n${out}\nstderr:\n${err}`));
    });
  });

  const m = /^Listening on (.+):(\d+)$/.exec(line.trim());
  if (!m) {
    child.kill("SIGKILL");
    throw new Error(`unexpected first line from espflash sim: ${JSON.stringify(line)}`);
  }

  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  return { host: m[1], port: Number(m[2]), child, stderr: () => err, stop, exited };
}
