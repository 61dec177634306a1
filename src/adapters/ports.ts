// Free TCP ports on 127.0.0.1, asked of the kernel (bind to port 0), for `access: loopback`.
import { createServer, type Server } from "node:net";

const listen = (s: Server) =>
  new Promise<number>((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });

/** `n` distinct ports free right now (all held open together, then released). */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(servers.map(listen));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
