// Which side of a node-to-node mesh session dials. As Calico's BIRD template
// does, the node whose peer's address sorts after its own (as text, not as a
// number) is passive, so only one side ever dials and the two never collide.

export const meshPassive = (localAddress: string, peerAddress: string): boolean => peerAddress > localAddress;
