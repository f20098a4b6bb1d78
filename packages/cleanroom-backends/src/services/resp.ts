// A minimal RESP (Redis protocol) client over node:net: enough for PING, FLUSHALL, AUTH, INFO.
import { connect, type Socket } from "node:net";

export type RespValue = string | number | null | RespValue[] | Error;

function parse(buf: string, at: number): [RespValue, number] | undefined {
  const end = buf.indexOf("\r\n", at);
  if (end < 0) return undefined;
  const type = buf[at];
  const line = buf.slice(at + 1, end);
  switch (type) {
    case "+":
      return [line, end + 2];
    case "-":
      return [new Error(line), end + 2];
    case ":":
      return [Number(line), end + 2];
    case "$": {
      const len = Number(line);
      if (len < 0) return [null, end + 2];
      if (Buffer.byteLength(buf.slice(end + 2)) < len + 2) return undefined;
      const body = Buffer.from(buf.slice(end + 2))
        .subarray(0, len)
        .toString();
      return [body, end + 2 + body.length + 2];
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return [null, end + 2];
      const items: RespValue[] = [];
      let pos = end + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      return [new Error(`unexpected RESP type ${type}`), buf.length];
  }
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

export interface RespTarget {
  host?: string;
  port?: number;
  path?: string;
  password?: string;
}

/** Send commands on one connection; resolves with their replies (errors as Error values). */
export function respCommands(
  target: RespTarget,
  commands: string[][],
  timeoutMs = 2000,
): Promise<RespValue[]> {
  const all = target.password ? [["AUTH", target.password], ...commands] : commands;
  return new Promise((resolve, reject) => {
    const socket: Socket = target.path
      ? connect({ path: target.path })
      : connect({ host: target.host ?? "127.0.0.1", port: target.port ?? 6379 });
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs);
    let buf = "";
    const replies: RespValue[] = [];
    socket.on("connect", () => socket.write(all.map(encode).join("")));
    socket.on("data", (chunk: string) => {
      buf += chunk;
      let pos = 0;
      for (;;) {
        const parsed = parse(buf, pos);
        if (!parsed) break;
        replies.push(parsed[0]);
        pos = parsed[1];
      }
      buf = buf.slice(pos);
      if (replies.length >= all.length) {
        socket.end();
        resolve(target.password ? replies.slice(1) : replies);
      }
    });
    socket.on("timeout", () => {
      socket.destroy();
      reject(new Error("redis: timed out"));
    });
    socket.on("error", reject);
  });
}
