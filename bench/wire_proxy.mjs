// A counting TCP proxy between a flasher and `espflash sim --listen`: it
// forwards bytes unchanged and adds up what crossed the emulated UART in each
// direction, at the baud rate in force. It follows CHANGE_BAUDRATE (opcode
// 0x0F) by decoding the SLIP frames both ways: the new rate applies from the
// device's reply on, as on a real link. Each client connection gets its own
// counters (the sim resets the chip for every new client, back to 115200).
import net from "node:net";

const ROM_BAUD = 115200;

/** Incremental SLIP decoder: feed(bytes) calls onFrame(payload) per frame. */
class SlipWatcher {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.buf = [];
    this.inFrame = false;
    this.esc = false;
  }

  feed(chunk) {
    for (const b of chunk) {
      if (b === 0xc0) {
        if (this.inFrame && this.buf.length) this.onFrame(Uint8Array.from(this.buf));
        this.buf = [];
        this.inFrame = true;
        this.esc = false;
      } else if (!this.inFrame) {
        // text outside frames (boot banner)
      } else if (this.esc) {
        this.buf.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b);
        this.esc = false;
      } else if (b === 0xdb) {
        this.esc = true;
      } else if (this.buf.length < 64) {
        this.buf.push(b); // only headers matter: keep the first bytes
      }
    }
  }
}

/** What one client connection moved over the emulated UART. */
export class LinkStats {
  constructor() {
    this.upBytes = 0;      // host -> device
    this.downBytes = 0;    // device -> host
    this.upWireUs = 0;     // sum of 10 bit times at the baud in force
    this.downWireUs = 0;
    this.bursts = 0;       // device answers that followed host bytes: turnarounds
    this.baud = ROM_BAUD;
    this.pendingBaud = 0;
    this.lastDir = "";
    this.bauds = [ROM_BAUD];
  }

  /** The wire limit: the busier direction's bytes × 10 / baud, in seconds. */
  wireSeconds() {
    return Math.max(this.upWireUs, this.downWireUs) / 1e6;
  }

  /** A strictly request/response link's own time: both directions plus one latency per turnaround. */
  linkSeconds(latencyUs) {
    return (this.upWireUs + this.downWireUs + this.bursts * latencyUs) / 1e6;
  }

  toJSON() {
    return {
      upBytes: this.upBytes, downBytes: this.downBytes,
      upWireUs: Math.round(this.upWireUs), downWireUs: Math.round(this.downWireUs),
      bursts: this.bursts, bauds: this.bauds,
    };
  }
}

/** Listens on 127.0.0.1:0 and forwards every client to target {host, port}. */
export class WireProxy {
  constructor(target) {
    this.target = target;
    this.current = null;   // LinkStats of the latest connection
    this.server = null;
    this.port = 0;
  }

  async listen() {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
    return this;
  }

  /** Starts new counters (the next connection also does). */
  reset() {
    this.current = new LinkStats();
    return this.current;
  }

  accept(client) {
    const stats = this.reset();
    client.setNoDelay(true);
    const dev = net.connect(this.target);
    dev.setNoDelay(true);
    const up = new SlipWatcher((f) => {
      if (f.length >= 12 && f[0] === 0 && f[1] === 0x0f) {
        stats.pendingBaud = f[8] | (f[9] << 8) | (f[10] << 16) | (f[11] << 24);
      }
    });
    const down = new SlipWatcher((f) => {
      if (f.length >= 2 && f[0] === 1 && f[1] === 0x0f && stats.pendingBaud) {
        stats.switchAfterChunk = stats.pendingBaud;
        stats.pendingBaud = 0;
      }
    });
    const pending = [];   // client bytes before the device socket connected
    let connected = false;
    dev.on("connect", () => {
      connected = true;
      for (const c of pending) dev.write(c);
      pending.length = 0;
    });
    client.on("data", (chunk) => {
      stats.upBytes += chunk.length;
      stats.upWireUs += (chunk.length * 10e6) / stats.baud;
      stats.lastDir = "up";
      up.feed(chunk);
      if (connected) dev.write(chunk); else pending.push(chunk);
    });
    dev.on("data", (chunk) => {
      if (stats.lastDir === "up") stats.bursts++;
      stats.lastDir = "down";
      stats.downBytes += chunk.length;
      stats.downWireUs += (chunk.length * 10e6) / stats.baud;
      down.feed(chunk);
      client.write(chunk);
      if (stats.switchAfterChunk) {
        stats.baud = stats.switchAfterChunk;
        stats.bauds.push(stats.baud);
        stats.switchAfterChunk = 0;
      }
    });
    const end = () => { client.destroy(); dev.destroy(); };
    client.on("close", end);
    dev.on("close", end);
    client.on("error", end);
    dev.on("error", end);
  }

  async close() {
    if (this.server) await new Promise((resolve) => this.server.close(resolve));
  }
}
