import { RRType } from './constants.ts';

// The records the zone index holds and the handler answers with. Names are
// absolute, lowercase, in presentation form with the trailing dot.

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export type RData =
  | { type: typeof RRType.A; address: string }
  | { type: typeof RRType.AAAA; address: string }
  | { type: typeof RRType.CNAME; target: string }
  | { type: typeof RRType.PTR; target: string }
  | { type: typeof RRType.NS; target: string }
  | { type: typeof RRType.TXT; texts: string[] }
  | { type: typeof RRType.SRV; srv: SrvData }
  | { type: typeof RRType.SOA; soa: SoaData };

export interface ResourceRecord {
  name: string;
  ttl: number;
  data: RData;
}

export const rr = {
  a: (name: string, ttl: number, address: string): ResourceRecord => ({ name, ttl, data: { type: RRType.A, address } }),
  aaaa: (name: string, ttl: number, address: string): ResourceRecord => ({ name, ttl, data: { type: RRType.AAAA, address } }),
  /** A or AAAA by the address's family. */
  address: (name: string, ttl: number, address: string): ResourceRecord =>
    address.includes(':') ? rr.aaaa(name, ttl, address) : rr.a(name, ttl, address),
  cname: (name: string, ttl: number, target: string): ResourceRecord => ({ name, ttl, data: { type: RRType.CNAME, target } }),
  ptr: (name: string, ttl: number, target: string): ResourceRecord => ({ name, ttl, data: { type: RRType.PTR, target } }),
  ns: (name: string, ttl: number, target: string): ResourceRecord => ({ name, ttl, data: { type: RRType.NS, target } }),
  txt: (name: string, ttl: number, ...texts: string[]): ResourceRecord => ({ name, ttl, data: { type: RRType.TXT, texts } }),
  srv: (name: string, ttl: number, srv: SrvData): ResourceRecord => ({ name, ttl, data: { type: RRType.SRV, srv } }),
  soa: (name: string, ttl: number, soa: SoaData): ResourceRecord => ({ name, ttl, data: { type: RRType.SOA, soa } }),
};
