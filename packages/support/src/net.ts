// A free TCP port on loopback. Bound and released at once, so another process could take it before the
// caller does; callers that start servers retry on EADDRINUSE.
import { createServer } from "node:net";

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.unref();
    server.on("error", rej);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => res(port));
    });
  });
}
