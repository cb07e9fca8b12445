// The seam between the CNI plugin and the address allocator. cni/ only sees
// this interface; ipam/ provides the block allocator (local file or Kubernetes
// API block claims) and the simple node.spec.podCIDR mode behind it.

/** Who an allocation belongs to: what CNI ADD passes, kept for DEL, GC and debugging. */
export interface AttachmentId {
  containerID: string;
  ifname: string;
}

export interface AllocationOwner extends AttachmentId {
  /** From CNI_ARGS K8S_POD_NAMESPACE / K8S_POD_NAME, '' when absent. */
  podNamespace: string;
  podName: string;
}

export interface AllocatedAddress {
  /** CIDR notation with the block's or pool's prefix length as the CNI result wants, e.g. "10.244.1.5/26". */
  address: string;
  /** The gateway the pod should use in bridge mode (first address of the block or podCIDR). */
  gateway: string;
  family: 4 | 6;
  /** The block (or podCIDR) it came from. */
  block: string;
}

export interface Ipam {
  /** One address per configured family; idempotent for the same attachment. */
  allocate(owner: AllocationOwner): Promise<AllocatedAddress[]>;
  /** Release whatever the attachment holds; succeeds when it holds nothing. */
  release(id: AttachmentId): Promise<void>;
  /** Addresses the attachment holds now (for CHECK). */
  lookup(id: AttachmentId): Promise<AllocatedAddress[]>;
  /** Release every allocation whose attachment is not in `valid` (CNI GC). Returns how many were released. */
  garbageCollect(valid: AttachmentId[]): Promise<number>;
  /** Every attachment that holds an address (GC uses it to find the devices of the ones it releases). */
  attachments?(): Promise<AttachmentId[]>;
  /** Drops what it holds open (API connections); called once the call is done. */
  close?(): Promise<void>;
}
