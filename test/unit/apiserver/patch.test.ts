import t from 'tap';
import { applyPatch, jsonPatch, mergePatch, strategicMergePatch } from '../../apiserver/patch.ts';

t.test('JSON merge patch (RFC 7386 examples)', async (t) => {
  const rows: [string, any, any, any][] = [
    ['replace a scalar', { a: 'b' }, { a: 'c' }, { a: 'c' }],
    ['add a key', { a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    ['null deletes', { a: 'b' }, { a: null }, {}],
    ['nested null', { a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    ['arrays replace', { a: ['b'] }, { a: 'c' }, { a: 'c' }],
    ['array replaced whole', { a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    ['deep merge', { a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    ['object onto scalar', { e: null }, { a: 1 }, { e: null, a: 1 }],
    ['into nothing', {}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [name, target, patch, want] of rows) t.same(mergePatch(target, patch), want, name);
});

t.test('strategic merge patch as kubectl apply sends it', async (t) => {
  const svc = { spec: { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], selector: { app: 'a' } }, metadata: { finalizers: ['x'] } };
  const rows: [string, any, any][] = [
    ['merge a list element by key', { spec: { ports: [{ port: 443, targetPort: 8443 }] } }, [{ name: 'http', port: 80 }, { name: 'https', port: 443, targetPort: 8443 }]],
    ['delete an element with $patch', { spec: { ports: [{ port: 80, $patch: 'delete' }] } }, [{ name: 'https', port: 443 }]],
    ['add an element', { spec: { ports: [{ port: 53, name: 'dns' }] } }, [{ name: 'http', port: 80 }, { name: 'https', port: 443 }, { port: 53, name: 'dns' }]],
    [
      'order from $setElementOrder',
      { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }], ports: [{ port: 80, targetPort: 8080 }] } },
      [{ name: 'https', port: 443 }, { name: 'http', port: 80, targetPort: 8080 }],
    ],
  ];
  for (const [name, patch, ports] of rows) t.same(strategicMergePatch(svc, patch).spec.ports, ports, name);
  t.same(strategicMergePatch(svc, { spec: { selector: { $patch: 'replace', tier: 'x' } } }).spec.selector, { tier: 'x' }, '$patch: replace');
  t.same(strategicMergePatch(svc, { metadata: { $deleteFromPrimitiveList: undefined, finalizers: ['y'] } }).metadata.finalizers, ['x', 'y'], 'scalar lists merge as sets');
  t.same(strategicMergePatch(svc, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }).metadata.finalizers, [], '$deleteFromPrimitiveList');
  t.same(strategicMergePatch(svc, { spec: { selector: null } }).spec, { ports: svc.spec.ports }, 'null deletes');
  t.same(svc.spec.ports.length, 2, 'the target is not changed');
});

t.test('JSON patch (RFC 6902)', async (t) => {
  const doc = { a: { b: [1, 2] }, c: 'x' };
  t.same(jsonPatch(doc, [{ op: 'add', path: '/a/b/-', value: 3 }]), { a: { b: [1, 2, 3] }, c: 'x' });
  t.same(jsonPatch(doc, [{ op: 'add', path: '/a/b/0', value: 0 }]).a.b, [0, 1, 2]);
  t.same(jsonPatch(doc, [{ op: 'remove', path: '/c' }]), { a: { b: [1, 2] } });
  t.same(jsonPatch(doc, [{ op: 'replace', path: '/a/b/1', value: 9 }]).a.b, [1, 9]);
  t.same(jsonPatch(doc, [{ op: 'move', from: '/c', path: '/d' }]), { a: { b: [1, 2] }, d: 'x' });
  t.same(jsonPatch(doc, [{ op: 'copy', from: '/c', path: '/e~1f' }]), { a: { b: [1, 2] }, c: 'x', 'e/f': 'x' });
  t.same(jsonPatch(doc, [{ op: 'test', path: '/c', value: 'x' }]), doc);
  t.throws(() => jsonPatch(doc, [{ op: 'test', path: '/c', value: 'y' }]), /test operation failed/);
  t.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), /does not exist/);
  t.throws(() => jsonPatch(doc, { op: 'add' }), /must be an array/);
  t.same(doc, { a: { b: [1, 2] }, c: 'x' }, 'the input is not changed');
});

t.test('applyPatch picks the patch type by content type', async (t) => {
  t.same(applyPatch('application/merge-patch+json', { a: [1] }, { a: [2] }), { a: [2] });
  t.same(applyPatch('application/json-patch+json', { a: 1 }, [{ op: 'replace', path: '/a', value: 2 }]), { a: 2 });
  t.throws(() => applyPatch('application/apply-patch+yaml', {}, {}), /unknown format/);
});
