// A Web Serial `SerialPort` look-alike backed by a TCP socket, so that
// esptool-js's Transport (lib/webserial.js) can talk to `espflash sim
// --listen` from Node: open/close, `readable` (ReadableStream of Uint8Array),
// `writable` (WritableStream), setSignals, getInfo and an in-place
// setBaudRate (Transport prefers it to closing and reopening the port).
import net from "node:net";

export class TcpSerialPort {
  /** @param {string} host @param {number} port */
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.readable = null;
    this.writable = null;
    this.baudRate = 0;
    this.socket = null;
    this.opens = 0;
  }

  getInfo() {
    return {}; // no USB vendor/product: a plain UART bridge
  }

  async open({ baudRate }) {
    if (this.socket) throw new Error("InvalidStateError: the port is already open");
    const socket = net.connect({ host: this.host, port: this.port });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.baudRate = baudRate;
    this.opens += 1;
    let closed = false;
    this.readable = new ReadableStream({
      start(controller) {
        socket.on("data", (chunk) => {
          if (!closed) controller.enqueue(new Uint8Array(chunk));
        });
        socket.on("end", () => {
          if (!closed) { closed = true; controller.close(); }
        });
        socket.on("error", (err) => {
          if (!closed) { closed = true; controller.error(err); }
        });
      },
      cancel() {
        closed = true;
      },
    });
    this.writable = new WritableStream({
      write(chunk) {
        return new Promise((resolve, reject) => {
          socket.write(chunk, (err) => (err ? reject(err) : resolve()));
        });
      },
    });
  }

  /** Modem lines do not exist over TCP; the sim server starts each client in download mode. */
  async setSignals(_signals) {}

  /** The sim has no line rate over TCP: changing it keeps the connection. */
  async setBaudRate(baudRate) {
    this.baudRate = baudRate;
  }

  async close() {
    const socket = this.socket;
    this.socket = null;
    this.readable = null;
    this.writable = null;
    if (!socket) return;
    await new Promise((resolve) => {
      socket.once("close", resolve);
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
    });
  }
}
