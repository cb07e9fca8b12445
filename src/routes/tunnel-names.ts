// The tunnel devices netlet owns and what each costs per packet: one place,
// read by the route modes that make the devices, by `netlet cleanup`, and by
// netlet-cni, which gives pods the MTU of the tunnel they will cross.
import type { Family } from '../base/family.ts';

/** VXLAN devices, one per family (Calico's are vxlan.calico and vxlan-v6.calico). */
export const VXLAN_DEVICE: Record<Family, string> = { 4: 'vxlan.netlet', 6: 'vxlan-v6.netlet' };

/** The ipip module's fallback device, shared by every IPIP user of the node (Calico uses it too). */
export const IPIP_DEVICE = 'tunl0';

/** Set on tunl0 while netlet uses it: cleanup then knows the device's state is netlet's to undo. */
export const IPIP_ALIAS = 'netlet';

/**
 * Bytes the tunnel adds to each packet, taken off the pods' MTU: VXLAN over
 * IPv4 is outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50; over
 * IPv6 the outer header is 40, so 70. IPIP adds one IPv4 header, 20.
 */
export const VXLAN_OVERHEAD: Record<Family, number> = { 4: 50, 6: 70 };
export const IPIP_OVERHEAD = 20;
