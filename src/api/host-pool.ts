// The SSH connections of one Agentshare object to the fleet's remote hosts: opened on first use,
// shared by its calls, dropped when they end (the next call reconnects), all closed by close().
// Local listeners forward to guest ports through a host (attach to a remote agent connects here).
import { createServer, type Server, type Socket } from "node:net";
import type { HostEntry } from "../core/fleet.js";
import type { HostConnection } from "../host/connect.js";

export class HostPool {
  private readonly conns = new Map<string, Promise<HostConnection>>();
  private readonly forwards = new Map<string, Promise<{ server: Server; port: number }>>();
  private readonly sockets = new Set<Socket>();

  /** The live connection to `entry`'s host, connecting when there is none. */
  get(entry: HostEntry): Promise<HostConnection> {
    const known = this.conns.get(entry.name);
    if (known) return known;
    const p = import("../host/connect.js").then((m) => m.connectHost(entry));
    this.conns.set(entry.name, p);
    p.then(
      (hc) => void hc.closed.then(() => this.conns.get(entry.name) === p && this.conns.delete(entry.name)),
      () => this.conns.get(entry.name) === p && this.conns.delete(entry.name),
    );
    return p;
  }

  /**
   * A port on this machine's 127.0.0.1 whose connections go to `address:port` as `entry`'s host sees
   * it (each through the host's sshd, reconnecting to the host when the SSH connection dropped).
   */
  async forward(entry: HostEntry, address: string, port: number): Promise<number> {
    const key = `${entry.name}|${address}|${port}`;
    let f = this.forwards.get(key);
    if (!f) {
      f = new Promise((resolve, reject) => {
        const server = createServer((sock) => {
          this.sockets.add(sock);
          sock.once("close", () => this.sockets.delete(sock));
          sock.on("error", () => undefined);
          this.get(entry)
            .then((hc) => hc.host.connectTcp(address, port))
            .then(
              (far) => {
                far.on("error", () => sock.destroy());
                sock.on("close", () => far.destroy());
                far.on("close", () => sock.destroy());
                sock.pipe(far).pipe(sock);
              },
              () => sock.destroy(),
            );
        });
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          const a = server.address();
          resolve({ server, port: typeof a === "object" && a ? a.port : 0 });
        });
      });
      this.forwards.set(key, f);
    }
    return (await f).port;
  }

  async close(): Promise<void> {
    for (const f of this.forwards.values()) {
      const { server } = await f.catch(() => ({ server: undefined }));
      server?.close();
    }
    this.forwards.clear();
    for (const s of this.sockets) s.destroy();
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((p) => p.then((hc) => hc.close()).catch(() => undefined)));
  }
}
