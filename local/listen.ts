/**
 * What every local server here shares: listening on 127.0.0.1 only (never every interface), with "address in use"
 * turned into one line that names the port, and reading a request body with a size limit.
 */
import type http from 'node:http';
import net, { type Server } from 'node:net';

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use on 127.0.0.1: stop what holds it, or choose other ports with --port`);
    this.name = 'PortInUseError';
  }
}

export function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port) : err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

/** Throws PortInUseError for the first of `ports` that something already listens on (checked before anything starts). */
export async function assertPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    const probe = net.createServer();
    await listen(probe, port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

/** Reads the whole request body; undefined once it passes `limit` bytes (the rest is read and dropped). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
