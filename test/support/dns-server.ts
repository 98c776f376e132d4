import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/**
 * A small authoritative DNS server over UDP (RFC 1035 wire format) for tests: it answers A, NS and CNAME
 * queries from a table the test changes as it goes, NXDOMAIN for names it does not know and an empty answer
 * (NODATA) for a known name without the asked type, exactly as a real server does; `down` makes it silent.
 */
export interface DnsTable {
  A?: Record<string, string>;
  NS?: Record<string, string[]>;
  CNAME?: Record<string, string>;
}

export interface DnsServer {
  port: number;
  table: DnsTable;
  /** Every query, `TYPE name`. */
  queries: string[];
  down: boolean;
  close(): Promise<void>;
}

const TYPES: Record<number, keyof DnsTable> = { 1: 'A', 2: 'NS', 5: 'CNAME' };

function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (buf[i]! !== 0) {
    const len = buf[i]!;
    labels.push(buf.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += len + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.');
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    Buffer.from([0]),
  ]);
}

function rr(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function answer(query: Buffer, table: DnsTable, queries: string[]): Buffer {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const kind = TYPES[qtype];
  queries.push(`${kind ?? qtype} ${name}`);
  const known = Object.values(table).some((t) => t && name in t);
  const records: Buffer[] = [];
  if (kind === 'A' && table.A?.[name])
    records.push(rr(1, Buffer.from(table.A[name]!.split('.').map(Number))));
  if (kind === 'NS') for (const ns of table.NS?.[name] ?? []) records.push(rr(2, encodeName(ns)));
  if (kind === 'CNAME' && table.CNAME?.[name]) records.push(rr(5, encodeName(table.CNAME[name]!)));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, end + 4), ...records]);
}

export async function startDnsServer(table: DnsTable): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const server: DnsServer = {
    port: 0,
    table,
    queries: [],
    down: false,
    close: () => new Promise((r) => socket.close(() => r())),
  };
  socket.on('message', (msg, rinfo) => {
    if (server.down) return;
    socket.send(answer(msg, server.table, server.queries), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  server.port = (socket.address() as AddressInfo).port;
  return server;
}
