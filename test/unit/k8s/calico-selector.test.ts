// Calico selector expressions (BGPPeer nodeSelector/peerSelector): which label sets each selects, and which texts are refused by name.
import t from 'tap';
import { calicoSelects, parseCalicoSelector } from '../../../src/k8s/calico-selector.ts';

const rr = { 'route-reflector': 'true', rack: 'a', 'netlet.io/route-reflector-cluster-id': '10.0.0.1' };
const worker = { rack: 'b' };
const none = {};

const rows: Array<[selector: string, labels: Record<string, string>, selected: boolean]> = [
  ['all()', none, true],
  ["route-reflector == 'true'", rr, true],
  ["route-reflector == 'true'", worker, false],
  ['route-reflector == "true"', rr, true],
  ["route-reflector != 'true'", worker, true],
  ["route-reflector != 'true'", rr, false],
  ['has(netlet.io/route-reflector-cluster-id)', rr, true],
  ['has(netlet.io/route-reflector-cluster-id)', worker, false],
  ['!has(route-reflector)', worker, true],
  ["rack in {'a', 'c'}", rr, true],
  ["rack in {'a', 'c'}", worker, false],
  ["rack in {'a'}", none, false],
  ["rack not in {'a'}", worker, true],
  ["rack not in {'a'}", none, true],
  ["rack not in {'a'}", rr, false],
  ["rack == 'b' || has(route-reflector)", rr, true],
  ["rack == 'b' || has(route-reflector)", worker, true],
  ["rack == 'b' && has(route-reflector)", worker, false],
  ["!(rack == 'a' && has(route-reflector))", rr, false],
  ["!(rack == 'a' && has(route-reflector))", worker, true],
  ["has(rack) && rack != 'a' || all()", none, true],
];

for (const [text, labels, selected] of rows) {
  t.equal(calicoSelects(parseCalicoSelector(text)!, labels), selected, `${text} on ${JSON.stringify(labels)}`);
}

t.equal(parseCalicoSelector(''), undefined, "'' is no selector");
t.equal(parseCalicoSelector('   '), undefined, 'blank is no selector');

const refused: Array<[text: string, names: RegExp]> = [
  ["rack contains 'a'", /unsupported operator "contains"/],
  ["rack == a", /expected a quoted value, got "a"/],
  ["(rack == 'a'", /expected \) at the end/],
  ["rack == 'a')", /unexpected "\)"/],
  ["rack in {'a' 'b'}", /expected , or }/],
  ['has()', /expected a label key, got "has\(\)"/],
  ["rack ~ 'a'", /unexpected "~ 'a'"/],
  ['x'.repeat(500) + ' ==', /selector "x{64}…": expected a quoted value at the end|unexpected end/],
];
for (const [text, names] of refused) {
  t.throws(() => parseCalicoSelector(text), names, `refused: ${text.slice(0, 40)}`);
}
