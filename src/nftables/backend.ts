// The nftables ProxyBackend: plans → netlet's own table (`ip netlet`, `ip6
// netlet`), one `nft -f` transaction per sync. A full sync (at start, after
// a failure, when intact() found the table changed, every fullSyncPeriod)
// lists the table, rewrites its fixed chains, adds every element over what
// the shared maps hold and removes the ones no plan wants, and deletes the
// chains and sets no plan uses, all in one transaction. It never deletes
// the table or empties a map: a restarted agent adopts the table, and the
// affinity sets keep their clients. A partial sync writes only the changed
// plans' elements and own chains.

import type { Logger } from '../base/log.ts';
import { BackendSyncError } from '../proxier/backend.ts';
import type { ProxyBackend, SyncRequest, SyncResult } from '../proxier/backend.ts';
import type { Family } from '../proxier/plan.ts';
import { NftError, applyScript, listChain, listChains, listTable, readSingleElement, systemNft } from './nft.ts';
import { ElementDigest, canonicalIPv6 } from './element-digest.ts';
import { netlinkRuleCounts } from './rule-counts.ts';
import type { RuleCounter } from './rule-counts.ts';
import type { NftRunner, TableListing } from './nft.ts';
import { fixedChains, fixedDeclarations, masqClassDeclaration, pickChains, pickDeclarations, pickSetNames, sharedSetNames } from './render-fixed.ts';
import type { FixedContext } from './render-fixed.ts';
import { readTable } from './adopt.ts';
import type { HeldTable } from './adopt.ts';
import { hairpinElement, keptRender, keptRenderOf, renderElements, renderPlan } from './render-plan.ts';
import { UseCounts } from './use-counts.ts';
import { RemovalCandidates } from './removal-candidates.ts';
import { NetlinkElementWriter, NoNetlinkSocket } from './element-writer.ts';
import type { ElementWriter } from './element-writer.ts';
import { diffChains, diffElements } from './plan-diff.ts';
import { contestedPlans } from './contested-addresses.ts';
import type { Element, ElementSink, KeptRender, OwnChain, RenderContext } from './render-plan.ts';
import { ElementStatements, affinitySetDeclaration, changeLines, emptyChange, isEmpty } from './transaction.ts';
import type { SetRef, TableChange } from './transaction.ts';
import { SERVICES, SYNC_DIGEST, TABLE, masqOutsideSet, tableRef, wordsFor } from './words.ts';
import type { FamilyWords, PickGroup } from './words.ts';

export interface NftablesBackendOptions {
  family: Family;
  log: Logger;
  /** The fwmark bit that marks packets for masquerading (kube-proxy's masqueradeBit). */
  masqueradeBit: number;
  /** proxy.conntrack.tcpBeLiberal: when set, INVALID packets are not dropped. */
  tcpBeLiberal: boolean;
  nft?: NftRunner;
  /** How intact() counts the kernel's rules per chain; a rule dump over netlink unless a test gives its own. */
  ruleCounts?: RuleCounter;
  /**
   * How partial syncs that change only shared-set elements are written:
   * one nf_tables netlink batch on a kept socket (element-writer.ts; the
   * default with the system nft), or 'nft' for `nft -f` like every other
   * sync (the default when `nft` is given: a test's runner sees every input).
   */
  elements?: ElementWriter | 'nft';
}

/** The mark as nft prints it: "0x00004000". */
export function nftMark(bit: number): string {
  return `0x${(1 << bit >>> 0).toString(16).padStart(8, '0')}`;
}

/** What a full sync's first pass hands to the rest of it. */
interface FirstPass {
  rendered: Map<string, KeptRender>;
  classes: Map<string, number>;
  hairpin: UseCounts;
  picks: Set<PickGroup>;
  change: TableChange;
  /** Plans left out: another plan claims their address and port. */
  contested: ReturnType<typeof contestedPlans>;
}

export class NftablesBackend implements ProxyBackend {
  readonly name = 'nftables';
  readonly #w: FamilyWords;
  readonly #log: Logger;
  readonly #nft: NftRunner;
  readonly #ctx: RenderContext;
  readonly #tcpBeLiberal: boolean;
  /** What each plan rendered to at the last successful sync. */
  #rendered = new Map<string, KeptRender>();
  /** How many plans use each endpoint address's hairpin element (endpoints shared by services). */
  #hairpin = new UseCounts();
  /** How many plans use each masquerade class. */
  #classes = new Map<string, number>();
  /** The pick groups whose chains and maps exist. */
  #picks = new Set<PickGroup>();
  /** The fixed chains' text as last written. */
  #fixedText = '';
  /** Elements and rules the plans' renders put in the table, kept up to date by partial syncs. */
  #planCount = 0;
  #ruleCount = 0;
  /** The last sync succeeded: a partial sync may build on #rendered. */
  #synced = false;
  /**
   * A full sync of this process succeeded: the table holds at least what
   * #rendered says (a failed `nft -f` changes nothing), so a full sync need
   * not empty the shared maps to know what they hold.
   */
  #adopted = false;
  readonly #ruleCounts: RuleCounter;
  /** Rules per fixed and pick chain as the last sync left them; intact() compares the kernel's. */
  #expectedRules = new Map<string, number>();
  /** Rules in the plans' own chains as the last sync left them. */
  #ownRules = 0;
  /** Plans the last full sync left out: another plan keeps an address they claim. */
  #contested = new Set<string>();
  /** The digest of the elements the last sync left, written in the table with them. */
  #digest = new ElementDigest();
  /** Syncs begun: an intact() check that overlapped one says nothing. */
  #syncsBegun = 0;
  #syncing = false;
  /** The rule dump failed once: intact() lists the services chain through nft instead. */
  #noRuleDump = false;
  /** Writes element-only partial syncs; undefined: everything through nft. */
  #elements: ElementWriter | undefined;

  constructor(opts: NftablesBackendOptions) {
    this.#w = wordsFor(opts.family);
    this.#log = opts.log;
    this.#nft = opts.nft ?? systemNft;
    this.#ctx = { words: this.#w, masqMark: nftMark(opts.masqueradeBit) };
    this.#tcpBeLiberal = opts.tcpBeLiberal;
    this.#ruleCounts = opts.ruleCounts ?? netlinkRuleCounts;
    const elements = opts.elements ?? (opts.nft ? 'nft' : new NetlinkElementWriter(opts.family));
    this.#elements = elements === 'nft' ? undefined : elements;
  }

  async sync(req: SyncRequest): Promise<SyncResult> {
    if (req.family !== this.#w.family) throw new Error(`nftables backend for IPv${this.#w.family} got an IPv${req.family} sync`);
    const full = req.full || !this.#synced;
    this.#syncsBegun++;
    this.#syncing = true;
    try {
      const t0 = performance.now();
      const written = full ? await this.#fullSync(req) : await this.#partialSync(req);
      const applyMs = performance.now() - t0;
      this.#log.debug({ family: this.#w.family, full, plans: req.plans.size, written, applyMs }, 'nftables sync');
      return { ruleCount: this.#ruleCount, applyMs, rulesByTable: { [TABLE]: this.#ruleCount } };
    } catch (err) {
      // Whatever landed or not, the next sync is full and reads the table again.
      this.#synced = false;
      if (err instanceof NftError) throw new BackendSyncError('restore', err.message, { cause: err });
      throw err;
    } finally {
      this.#syncing = false;
    }
  }

  /** What intact() will find in the fixed and pick chains: the rules just written. */
  #expectRules(fixedRules: readonly OwnChain[], fixed: FixedContext): void {
    this.#expectedRules = new Map();
    for (const c of fixedRules) this.#expectedRules.set(c.name, c.rules.length);
    for (const g of this.#picks) for (const c of pickChains(g, fixed)) this.#expectedRules.set(c.name, c.rules.length);
  }

  #fixedContext(nodePortAddresses: readonly string[], classes: Map<string, number>): FixedContext {
    const masqClasses = [...classes.keys()].filter((c) => classes.get(c)! > 0).sort();
    return { words: this.#w, masqMark: this.#ctx.masqMark, nodePortAddresses, tcpBeLiberal: this.#tcpBeLiberal, masqClasses };
  }

  /** The elements of a kept render, rendered again from its plan. */
  #elementsOf(r: KeptRender | undefined): Element[] {
    return r ? renderPlan(r.plan, this.#ctx).elements : [];
  }

  /**
   * Every plan rendered and written, in one transaction (a packet sees the
   * old elements or the new), and never by emptying the shared maps: an
   * emptied map refilled in one transaction costs ~2.5x a first load (10k
   * services: 3.1 s against 1.3 s). Every wanted element is added over what
   * is there (a no-op where present) and only the unwanted ones removed: at
   * the first full sync of a process, those the table holds (read back,
   * adopt.ts); later (periodic, after a failure, after intact() found the
   * table changed), those the last sync wrote for plans changed since.
   *
   * Two passes over the plans: the first renders the new ones and keeps
   * what later syncs need (not the elements); the second renders every
   * plan's elements again while nft reads them, so they die young.
   * Removing an element some plan still wants is harmless (every wanted
   * element is added after the removals, in the same transaction): the
   * removals are checked only against the plans rendered in the first pass.
   */
  async #fullSync(req: SyncRequest): Promise<number> {
    const candidates = new RemovalCandidates();
    const restart = !this.#adopted;
    let listing: TableListing | undefined;
    let held: HeldTable | undefined;
    // At a restart (or the first start): the table's digest, compared below with that of what the plans write.
    let wantedDigest: ElementDigest | undefined;
    let tableDigest: string | undefined;
    let readBack = false;
    if (restart) {
      const read = await readSingleElement(this.#nft, this.#w, SYNC_DIGEST);
      tableDigest = read.element;
      if (tableDigest !== undefined) wantedDigest = new ElementDigest();
      else if (read.tableGone) listing = { exists: false, chains: new Set(), sets: new Set(), maps: new Set() };
      else {
        // No table (nothing to read), or one without a digest (an older netlet's): read it back.
        listing = await listChains(this.#nft, this.#w);
        readBack = listing.exists;
      }
    } else {
      // The chains only (reading the sets would read every element): what the last sync made is known.
      listing = await listChains(this.#nft, this.#w);
      for (const [key, r] of this.#rendered) {
        if (req.plans.get(key) === r.plan) continue;
        candidates.addAll(this.#elementsOf(r));
      }
    }

    const { rendered, classes, hairpin, picks, change, contested } = this.#firstPass(req, candidates, wantedDigest);
    if (wantedDigest && tableDigest !== undefined) {
      for (const ip of hairpin.keys()) wantedDigest.add(hairpinElement(ip));
      // Equal: the table holds what these plans write and nothing else netlet wrote.
      if (canonicalIPv6(tableDigest) === wantedDigest.address()) listing = await listChains(this.#nft, this.#w);
      else readBack = true;
    }
    if (readBack) {
      // What the shared sets hold and no plan writes (with the same value) goes: read back and compared with every plan.
      held = await readTable(this.#nft, this.#w);
      listing = held.listing;
      for (const [set, elements] of held.elements) if (set !== SYNC_DIGEST) candidates.addAll(elements);
      for (const r of rendered.values()) candidates.keep(this.#elementsOf(r));
      candidates.keep([...hairpin.keys()].map(hairpinElement));
    }
    if (!listing) throw new Error('nftables full sync: no listing of the table');
    const fixed = this.#fixedContext(req.nodePortAddresses, classes);
    const fixedRules = fixedChains(fixed);
    change.declare.push(...fixedDeclarations(fixed));
    const sortedPicks = [...picks].sort();
    for (const n of sortedPicks) change.declare.push(...pickDeclarations(n, this.#w));
    change.rewriteChains.unshift(...fixedRules, ...sortedPicks.flatMap((n) => pickChains(n, fixed)));
    const wantedSets = [...sharedSetNames(fixed), ...sortedPicks.flatMap((g) => pickSetNames(g))];
    // Every set and map this sync keeps: the shared ones and the plans' own.
    const wantedAll = new Set([...wantedSets.map((s) => s.name), ...change.newSets.map((s) => s.name)]);
    if (held) {
      // A shared set whose elements could not be read back is emptied and refilled.
      for (const ref of wantedSets) {
        if (!held.elements.has(ref.name) && (listing.sets.has(ref.name) || listing.maps.has(ref.name))) change.flushSets.push(ref);
      }
    } else if (listing.exists) {
      // The sets the last sync made and this one does not keep.
      const before: SetRef[] = [
        ...[...this.#picks].flatMap((g) => pickSetNames(g, this.#w)),
        ...[...this.#classes.keys()].map((cidr) => ({ kind: 'set' as const, name: masqOutsideSet(cidr), declaration: masqClassDeclaration(cidr, this.#w) })),
        ...[...this.#rendered.values()].flatMap((r) => r.sets.map((a) => ({ kind: 'set' as const, name: a.name, declaration: affinitySetDeclaration(this.#w, a) }))),
      ];
      for (const ref of before) if (!wantedAll.has(ref.name)) change.deleteSets.push(ref);
    }

    // Adopt: what the table holds that no plan wants any more goes, in the same transaction.
    const wantedChains = new Set(change.rewriteChains.map((c) => c.name));
    for (const c of listing.chains) {
      if (wantedChains.has(c)) continue;
      change.flushChains.push(c);
      change.deleteChains.push(c);
    }
    for (const name of listing.sets) if (!wantedAll.has(name)) change.deleteSets.push({ kind: 'set', name });
    for (const name of listing.maps) if (!wantedAll.has(name)) change.deleteSets.push({ kind: 'map', name });
    // Elements of a set or map deleted whole (or emptied) need no removal (the set may be gone already).
    const notKept = new Set([...change.deleteSets.map((s) => s.name), ...change.flushSets.map((s) => s.name)]);
    if (!restart) for (const ip of this.#hairpin.keys()) if (!hairpin.has(ip)) candidates.addAll([hairpinElement(ip)]);
    change.removeElements = candidates.remaining().filter((e) => !notKept.has(e.set) && wantedAll.has(e.set));

    // The second pass, while nft reads: every plan's elements, then each hairpin element once, straight into statements.
    let added = 0;
    const ctx = this.#ctx;
    const digest = new ElementDigest();
    const statements = new ElementStatements(this.#w);
    const write: ElementSink = (set, key, value) => {
      added++;
      digest.addParts(set, key, value);
      statements.add(set, key, value);
    };
    change.addStream = (function* () {
      for (const r of rendered.values()) {
        renderElements(r.plan, ctx, write);
        yield* statements.take();
      }
      for (const ip of hairpin.keys()) {
        const e = hairpinElement(ip);
        write(e.set, e.key, e.value);
      }
      statements.end();
      yield* statements.take();
    })();
    change.after = () => digestLines(this.#w, digest);

    await applyScript(this.#nft, changeLines(this.#w, change));
    this.#rendered = rendered;
    this.#contested = new Set(contested.keys());
    this.#hairpin = hairpin;
    this.#digest = digest;
    this.#classes = classes;
    this.#picks = picks;
    this.#fixedText = chainsText(fixedRules);
    this.#expectRules(fixedRules, fixed);
    this.#ownRules = 0;
    for (const r of rendered.values()) for (const c of r.chains) this.#ownRules += c.rules.length;
    this.#planCount = 0;
    for (const r of rendered.values()) this.#planCount += renderCount(r);
    this.#ruleCount = this.#planCount + hairpin.size + ruleCount(fixedRules);
    this.#synced = true;
    this.#adopted = true;
    return added;
  }

  /**
   * The first pass of a full sync: each plan rendered (or its last render
   * kept when the plan is the same object), with what the table-wide part
   * needs from them: masquerade classes, hairpin addresses, pick groups, and
   * the chains and sets to write. A render is compared with the removal
   * candidates and added to the digest only when a later step needs it.
   */
  #firstPass(req: SyncRequest, candidates: RemovalCandidates, wantedDigest: ElementDigest | undefined): FirstPass {
    const rendered = new Map<string, KeptRender>();
    const classes = new Map<string, number>();
    const hairpin = new UseCounts();
    const picks = new Set<PickGroup>();
    const change = emptyChange();
    const contested = contestedPlans(req.plans);
    for (const [key, c] of contested) this.#log.warn({ plan: key, address: c.address, keptBy: c.keptBy }, 'two services claim one address: this one is left out of the nftables table');
    for (const [key, plan] of req.plans) {
      if (contested.has(key)) continue;
      const earlier = this.#rendered.get(key);
      let r: KeptRender;
      if (earlier?.plan === plan) {
        r = earlier;
        if (wantedDigest) for (const e of this.#elementsOf(r)) wantedDigest.add(e);
      } else if (wantedDigest || candidates.any()) {
        const fresh = renderPlan(plan, this.#ctx);
        candidates.keep(fresh.elements);
        if (wantedDigest) for (const e of fresh.elements) wantedDigest.add(e);
        r = keptRender(fresh);
      } else r = keptRenderOf(plan, this.#ctx);
      rendered.set(key, r);
      countIn(classes, r.masqClass, 1);
      for (const ip of r.hairpinIps) hairpin.add(ip);
      for (const n of r.picks) picks.add(n);
      for (const c of r.chains) {
        change.newChains.push(c.name);
        change.rewriteChains.push(c);
      }
      change.newSets.push(...r.sets);
    }
    return { rendered, classes, hairpin, picks, change, contested };
  }

  async #partialSync(req: SyncRequest): Promise<number> {
    const change = emptyChange();
    // Changes to #hairpin's counts, applied once the transaction landed (not a copy of 90k counts per sync).
    const hairpinDelta = new Map<string, number>();
    const hairpinCount = (ip: string) => this.#hairpin.count(ip) + (hairpinDelta.get(ip) ?? 0);
    const classes = new Map(this.#classes);
    const picks = new Set(this.#picks);
    const after = new Map<string, KeptRender | undefined>();
    let countDelta = 0;
    let ownRulesDelta = 0;
    for (const key of req.changed) {
      // Left out by the last full sync (contested-addresses.ts); a newly contested one fails and the full sync after it decides.
      if (this.#contested.has(key)) continue;
      const before = this.#rendered.get(key);
      const plan = req.plans.get(key);
      if (before?.plan === plan) continue;
      const fresh = plan && renderPlan(plan, this.#ctx);
      const now = fresh && keptRender(fresh);
      after.set(key, now);
      countDelta += renderCount(now) - renderCount(before);
      ownRulesDelta += ruleCount(now?.chains ?? []) - ruleCount(before?.chains ?? []);
      countIn(classes, before?.masqClass ?? '', -1);
      countIn(classes, now?.masqClass ?? '', 1);
      diffElements(this.#elementsOf(before), fresh?.elements ?? [], change);
      const ipsBefore = new Set(before?.hairpinIps);
      const ipsNow = new Set(now?.hairpinIps);
      for (const ip of ipsNow) {
        if (ipsBefore.has(ip)) continue;
        countIn(hairpinDelta, ip, 1);
        if (hairpinCount(ip) === 1) change.addElements.push(hairpinElement(ip));
      }
      for (const ip of ipsBefore) {
        if (ipsNow.has(ip)) continue;
        countIn(hairpinDelta, ip, -1);
        if (hairpinCount(ip) === 0) change.deleteElements.push(hairpinElement(ip));
      }
      diffChains(before?.chains ?? [], now?.chains ?? [], change);
      const setsBefore = new Set(before?.sets.map((s) => s.name));
      const setsNow = new Set(now?.sets.map((s) => s.name));
      for (const s of now?.sets ?? []) if (!setsBefore.has(s.name)) change.newSets.push(s);
      for (const s of before?.sets ?? []) if (!setsNow.has(s.name)) change.deleteSets.push({ kind: 'set', name: s.name });
      for (const n of now?.picks ?? []) {
        if (picks.has(n)) continue;
        picks.add(n);
        change.declare.push(...pickDeclarations(n, this.#w));
      }
    }
    const fixed = this.#fixedContext(req.nodePortAddresses, classes);
    const newPicks = [...picks].filter((n) => !this.#picks.has(n));
    const pickRules = newPicks.flatMap((n) => pickChains(n, fixed));
    const fixedRules = fixedChains(fixed);
    const fixedText = chainsText(fixedRules);
    // A class nobody uses keeps its set until the next full sync deletes it.
    if (fixedText !== this.#fixedText) change.declare.unshift(...fixedDeclarations(fixed));
    change.rewriteChains.unshift(...(fixedText !== this.#fixedText ? fixedRules : []), ...pickRules);
    if (isEmpty(change)) return 0;
    const digest = this.#digest.copy();
    for (const e of change.deleteElements) digest.remove(e);
    for (const e of change.addElements) digest.add(e);
    if (!(await this.#writeElements(change, digest))) {
      change.after = () => digestLines(this.#w, digest);
      await applyScript(this.#nft, changeLines(this.#w, change));
    }
    for (const [key, r] of after) {
      if (r) this.#rendered.set(key, r);
      else this.#rendered.delete(key);
    }
    for (const [ip, by] of hairpinDelta) this.#hairpin.change(ip, by);
    this.#digest = digest;
    this.#classes = classes;
    this.#picks = picks;
    this.#fixedText = fixedText;
    this.#expectRules(fixedRules, fixed);
    this.#ownRules += ownRulesDelta;
    this.#planCount += countDelta;
    this.#ruleCount = this.#planCount + this.#hairpin.size + ruleCount(fixedRules);
    return change.addElements.length + change.deleteElements.length;
  }

  /**
   * A change of shared-set elements only (and the digest), written over
   * netlink (element-writer.ts: no `nft` process, whose exit waits ~16 ms
   * for any deleted element); false when it needs nft (a chain, a
   * declaration, an interval set) or the socket cannot be opened.
   */
  async #writeElements(change: TableChange, digest: ElementDigest): Promise<boolean> {
    if (!this.#elements || !elementsOnly(change)) return false;
    const messages = this.#elements.encode({
      deletes: change.deleteElements,
      flush: [SYNC_DIGEST],
      adds: [...change.addElements, { set: SYNC_DIGEST, key: digest.address(), value: '' }],
    });
    if (!messages) return false;
    try {
      await this.#elements.apply(messages);
      return true;
    } catch (err) {
      if (!(err instanceof NoNetlinkSocket)) throw err;
      this.#log.warn({ err }, 'no nf_tables netlink socket: partial syncs go through nft -f from now on');
      this.#elements = undefined;
      return false;
    }
  }

  /**
   * Whether the table still holds what the last sync wrote, on every poll:
   * the kernel's rule count per chain (one netlink rule dump, ~1 ms at any
   * number of services, rule-counts.ts) against what the last sync left in
   * each fixed and pick chain and in the plans' own chains together. A
   * deleted table (`nft flush ruleset`, a firewall reload) has no rule, a
   * flushed one (`nft flush table`) or a flushed chain fewer: the proxier
   * then queues a full sync. A check that overlapped a sync says nothing.
   */
  async intact(): Promise<boolean> {
    if (!this.#synced || this.#syncing) return true;
    const begun = this.#syncsBegun;
    if (this.#noRuleDump) return this.#intactByListing();
    let counts: Map<string, number>;
    try {
      counts = await this.#ruleCounts(this.#w.family);
    } catch (err) {
      this.#log.warn({ err }, 'nf_tables rule dump failed: intact() lists the rules through nft from now on');
      this.#noRuleDump = true;
      return this.#intactByListing();
    }
    if (this.#syncsBegun !== begun || this.#syncing) return true;
    let expectedTotal = this.#ownRules;
    for (const [chain, n] of this.#expectedRules) {
      if ((counts.get(chain) ?? 0) !== n) return false;
      expectedTotal += n;
    }
    let total = 0;
    for (const n of counts.values()) total += n;
    return total === expectedTotal;
  }

  /** The fallback without a rule dump: the services chain and the hook still hold their rules (nft reads every set to list them). */
  async #intactByListing(): Promise<boolean> {
    const services = await listChain(this.#nft, this.#w, SERVICES);
    if (!services?.includes('vmap @service-ips')) return false;
    const hook = await listChain(this.#nft, this.#w, 'nat-prerouting');
    return hook?.includes(`jump ${SERVICES}`) ?? false;
  }

  async cleanup(): Promise<void> {
    const listing = await listTable(this.#nft, this.#w);
    if (listing.exists) await applyScript(this.#nft, `delete table ${this.#w.ip} ${TABLE}\n`);
    this.#rendered.clear();
    this.#synced = false;
    this.#adopted = false;
  }
}

/** Whether a change touches only shared-set elements: no chain, rule, set or declaration. */
function elementsOnly(c: TableChange): boolean {
  return (
    c.addStream === undefined &&
    c.declare.length + c.newChains.length + c.newSets.length + c.flushSets.length + c.removeElements.length + c.rewriteChains.length + c.flushChains.length + c.deleteChains.length + c.deleteSets.length === 0
  );
}

/** Adds `by` to `key`'s count ('' is no key); returns the new count. */
function countIn(counts: Map<string, number>, key: string, by: number): number {
  if (!key) return 0;
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
  return n;
}

function chainsText(chains: readonly OwnChain[]): string {
  return chains.map((c) => `${c.name}:\n${c.rules.join('\n')}`).join('\n');
}

/** Elements and own-chain rules of one render, for kubeproxy_sync_proxy_rules_iptables_total's count. */
function renderCount(r: KeptRender | undefined): number {
  return r ? r.elementCount + ruleCount(r.chains) : 0;
}

/** The statements that replace the table's digest element (element-digest.ts). */
function digestLines(w: FamilyWords, d: ElementDigest): string[] {
  return [`flush set ${tableRef(w)} ${SYNC_DIGEST}`, `add element ${tableRef(w)} ${SYNC_DIGEST} { ${d.address()} }`];
}

/** Rules in these chains. */
function ruleCount(chains: readonly OwnChain[]): number {
  let n = 0;
  for (const c of chains) n += c.rules.length;
  return n;
}
