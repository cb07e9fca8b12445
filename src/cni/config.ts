// Network configuration: the JSON the runtime writes on stdin (one plugin's
// netconf, with cniVersion/name injected from the conflist and prevResult
// when chained), and the conflist file itself (for the installer).
//
//   {"cniVersion":"1.0.0","name":"netlet","type":"netlet-cni",
//    "mode":"bridge",          // "bridge" (default) | "routed" (Calico style: /32 routes, proxy ARP)
//    "bridge":"netlet0",       // bridge mode: the bridge holding the gateway addresses
//    "mtu":1500,               // absent or 0: the MTU of netlet's tunnel device, else 1500 (pod-mtu.ts)
//    "hairpinMode":true, "nodeName":"node-a",
//    "ipam":{…see src/ipam/config.ts…}, "dns":{…}}
import { CniCode, CniError } from './errors.ts';
import type { CniCommand } from './env.ts';
import { checkVersion } from './version.ts';
import { parsePrevResult } from './result.ts';
import type { CniResult, Dns } from './result.ts';
import type { AttachmentId } from '../ipam/types.ts';

export type Mode = 'bridge' | 'routed';

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  mode: Mode;
  bridge: string;
  /** 0 when the config gives none: the plugin then uses the tunnel's MTU (pod-mtu.ts). */
  mtu: number;
  hairpinMode: boolean;
  /** '' when not set: the plugin then uses the host name. */
  nodeName: string;
  ipam: unknown;
  dns: Dns;
  prevResult?: CniResult;
  /** GC: cni.dev/valid-attachments. */
  validAttachments: AttachmentId[];
}

export const DEFAULTS = { mode: 'bridge' as Mode, bridge: 'netlet0', mtu: 1500, hairpinMode: true };

// Keys of the spec and of runtimes (libcni injects name/cniVersion,
// runtimeConfig for capabilities, args; conflist-level keys may be copied).
const STANDARD_KEYS = ['cniVersion', 'name', 'type', 'ipam', 'dns', 'prevResult', 'runtimeConfig', 'args', 'capabilities', 'cni.dev/valid-attachments', 'cni.dev/attachments'];
const OWN_KEYS = ['mode', 'bridge', 'mtu', 'hairpinMode', 'nodeName'];

// SPEC.md "Configuration format": the network name.
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(key: string, reason: string): CniError {
  return new CniError(CniCode.invalidConfig, `network config: ${key}: ${reason}`);
}

export function decodeJson(text: string, what = 'network config'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.decodeFailure, `${what}: not valid JSON: ${(err as Error).message}`);
  }
}

/** The cniVersion to answer errors in, even for a config that fails to parse further. */
export function versionOf(raw: unknown): string | undefined {
  return isDict(raw) && typeof raw.cniVersion === 'string' ? raw.cniVersion : undefined;
}

/** Parses and checks one plugin's netconf for `command`. */
export function parseNetConf(raw: unknown, command: CniCommand): NetConf {
  if (!isDict(raw)) throw new CniError(CniCode.decodeFailure, 'network config: expected a JSON object');
  if (typeof raw.cniVersion !== 'string' || !raw.cniVersion) throw invalid('cniVersion', 'required (e.g. "1.0.0")');
  checkVersion(raw.cniVersion, command);
  for (const [k, v] of Object.entries(raw)) {
    if (!STANDARD_KEYS.includes(k) && !OWN_KEYS.includes(k)) {
      throw new CniError(CniCode.unsupportedField, `network config: unsupported field '${k}'`, `${k}=${JSON.stringify(v)}`);
    }
  }
  if (typeof raw.name !== 'string' || !NETWORK_NAME.test(raw.name)) throw invalid('name', `required, letters, digits, '_', '.', '-' (got ${JSON.stringify(raw.name)})`);
  if (typeof raw.type !== 'string' || !raw.type) throw invalid('type', 'required');
  const mode = raw.mode ?? DEFAULTS.mode;
  if (mode !== 'bridge' && mode !== 'routed') throw invalid('mode', `must be "bridge" or "routed", got ${JSON.stringify(mode)}`);
  const bridge = raw.bridge ?? DEFAULTS.bridge;
  if (typeof bridge !== 'string' || !/^[^\s/:]{1,15}$/.test(bridge)) throw invalid('bridge', `must be an interface name of 1-15 characters, got ${JSON.stringify(bridge)}`);
  const mtu = raw.mtu ?? 0;
  // 68: the IPv4 minimum (RFC 791); 65535: the largest a veth takes. 0 (or no key) asks for the tunnel's MTU, as Calico's "mtu": 0.
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || (mtu !== 0 && mtu < 68) || mtu > 65535) throw invalid('mtu', `must be 0 (automatic) or an integer between 68 and 65535, got ${JSON.stringify(mtu)}`);
  const hairpinMode = raw.hairpinMode ?? DEFAULTS.hairpinMode;
  if (typeof hairpinMode !== 'boolean') throw invalid('hairpinMode', 'must be true or false');
  const nodeName = raw.nodeName ?? '';
  if (typeof nodeName !== 'string') throw invalid('nodeName', 'must be a string');
  const needsIpam = command !== 'VERSION';
  if (needsIpam && !isDict(raw.ipam)) throw invalid('ipam', 'required: an object such as {"type":"netlet-ipam","pools":[{"cidr":"10.244.0.0/16"}]}');
  const dns = raw.dns ?? {};
  if (!isDict(dns)) throw invalid('dns', 'must be an object');
  let prevResult: CniResult | undefined;
  try {
    prevResult = parsePrevResult(raw.prevResult, raw.cniVersion);
  } catch (err) {
    throw invalid('prevResult', (err as Error).message);
  }
  if (command === 'CHECK' && !prevResult) throw invalid('prevResult', 'required for CHECK');
  return {
    cniVersion: raw.cniVersion,
    name: raw.name,
    type: raw.type,
    mode,
    bridge,
    mtu,
    hairpinMode,
    nodeName,
    ipam: raw.ipam,
    dns: dns as Dns,
    prevResult,
    validAttachments: command === 'GC' ? parseAttachments(raw['cni.dev/valid-attachments']) : [],
  };
}

function parseAttachments(v: unknown): AttachmentId[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid('cni.dev/valid-attachments', 'must be a list of {containerID, ifname}');
  return v.map((a, i) => {
    if (!isDict(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw invalid(`cni.dev/valid-attachments[${i}]`, 'must be {"containerID": "...", "ifname": "..."}');
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/**
 * A conflist file ({cniVersion, name, plugins: [...]}): checks it, and
 * returns the netlet-cni entry as the runtime would hand it to the plugin.
 */
export function parseConflist(raw: unknown, pluginType = 'netlet-cni'): NetConf {
  if (!isDict(raw)) throw new CniError(CniCode.decodeFailure, 'conflist: expected a JSON object');
  if (!Array.isArray(raw.plugins) || raw.plugins.length === 0) throw invalid('plugins', 'required: a non-empty list');
  const entry = raw.plugins.find((p) => isDict(p) && p.type === pluginType);
  if (!isDict(entry)) throw invalid('plugins', `no plugin of type ${pluginType}`);
  return parseNetConf({ ...entry, cniVersion: raw.cniVersion, name: raw.name }, 'ADD');
}
