// What the Corefile says of the plugins that stand in front of a block's
// kubernetes answers and forwarding (src/dns/plugins/ runs them). Read by
// corefile/front-readers.ts; plain data, so that worker threads and
// `netlet dns --check` can carry and print it.

export type NameMatch = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';

/** How a matched rewrite changes the reply's names back. */
export interface AnswerRewrite {
  /** `name`: owner names; `value`: names inside record data (CNAME, PTR, SRV, MX… targets). */
  part: 'name' | 'value';
  /** A regular expression; TO may use {1}, {2}… for its groups. */
  from: string;
  to: string;
}

/**
 * `edns0 local|nsid|subnet set|replace|append …`: an EDNS0 option in the
 * query sent on. `data` is hex (local: DATA; nsid: empty; subnet: made from
 * the client's address and the bits, so unused).
 */
export interface Edns0Rewrite {
  option: 'local' | 'nsid' | 'subnet';
  action: 'set' | 'replace' | 'append';
  code: number;
  data: string;
  v4Bits: number;
  v6Bits: number;
}

export type RewriteRule = { next: 'stop' | 'continue' } & (
  | { field: 'name'; match: NameMatch; from: string; to: string; answers: AnswerRewrite[]; answerAuto: boolean }
  | { field: 'type'; from: number; to: number }
  | { field: 'class'; from: number; to: number }
  | { field: 'ttl'; match: NameMatch; from: string; min: number; max: number }
  /** `rcode [MATCH] NAME FROM TO`: a reply for a matching name with rcode FROM gets TO. */
  | { field: 'rcode'; match: NameMatch; from: string; rcodeFrom: number; rcodeTo: number }
  /** `cname [MATCH] FROM TO`: a CNAME target in the reply that matches becomes TO, and what follows it is TO looked up. */
  | { field: 'cname'; match: NameMatch; from: string; to: string }
  | ({ field: 'edns0' } & Edns0Rewrite)
);

export interface AclRule {
  action: 'allow' | 'block' | 'filter' | 'drop';
  /** Query types the rule applies to; empty: all. */
  types: number[];
  /** Client networks as CIDRs; empty: all. */
  nets: string[];
}

export interface TemplateConfig {
  qclass: number;
  qtype: number;
  zones: string[];
  /** Regular expressions on the question name; empty: any name in the zones. */
  match: string[];
  answer: string[];
  additional: string[];
  authority: string[];
  rcode: number;
  /** `ederror CODE [EXTRA]`: an Extended DNS Error option (RFC 8914) in the reply's OPT; null: none. */
  ederror: { code: number; text: string } | null;
  /** Zones where a name no regex matches goes on to the next plugin; null: no fallthrough. */
  fallthrough: string[] | null;
}

export type FrontPlugin =
  | { plugin: 'bufsize'; size: number }
  | { plugin: 'local' }
  | { plugin: 'acl'; zones: string[]; rules: AclRule[] }
  | { plugin: 'any' }
  | { plugin: 'chaos'; version: string; authors: string[] }
  | { plugin: 'rewrite'; rules: RewriteRule[] }
  | { plugin: 'minimal' }
  | { plugin: 'template'; templates: TemplateConfig[] }
  | { plugin: 'file'; path: string; zones: string[]; reloadMs: number }
  | { plugin: 'whoami' }
  /**
   * `loadbalance weighted WEIGHTFILE { reload DURATION; prefer CIDR… }`, or
   * round_robin's `prefer` (weightFile null): round_robin's rotation itself
   * is the handler's, not a step.
   */
  | { plugin: 'loadbalance'; weightFile: string | null; reloadMs: number; prefer: string[] }
  /** `autopath [ZONES…] @kubernetes|RESOLV-CONF`: `search` is the resolv.conf's search list. */
  | { plugin: 'autopath'; zones: string[]; fromKubernetes: boolean; search: string[] };
