// Each API failure is named for what fixes it: RBAC (403), credentials
// (401), the network (no answer), or the API server's own error.
import t from 'tap';
import { ApiError, ApiUnreachableError, WatchStalledError } from '../../../src/k8s/api-errors.ts';
import { describeApiFailure } from '../../../src/k8s/api-failure.ts';

t.test('kinds, headlines and fields', async (t) => {
  const rows: Array<[string, unknown, string, RegExp]> = [
    ['403', new ApiError(403, 'Forbidden', 'no'), 'forbidden', /^forbidden by RBAC: watch services$/],
    ['401', new ApiError(401, 'Unauthorized', 'no'), 'unauthorized', /^unauthorized: .*credentials.* watch services$/],
    ['500', new ApiError(500, 'InternalError', 'no'), 'api-error', /^the API server answered 500 InternalError to watch services$/],
    ['refused', new ApiUnreachableError('https://10.0.0.1:6443', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'unreachable', /^API server unreachable$/],
    ['stalled', new WatchStalledError('/api/v1/services', 180_000), 'unreachable', /^API server unreachable$/],
    ['anything else', new Error('odd'), 'api-error', /^watch services failed$/],
  ];
  for (const [name, err, kind, headline] of rows) {
    const why = describeApiFailure(err, 'watch', 'services');
    t.equal(why.kind, kind, `${name}: kind`);
    t.match(why.headline, headline, `${name}: headline`);
    t.match(why.fields, { failure: kind, verb: 'watch', apiResource: 'services' }, `${name}: fields`);
  }
  t.match(describeApiFailure(new ApiError(403, 'Forbidden', 'no'), 'list', 'endpointslices.discovery.k8s.io').fields.hint, /ClusterRole .* "list" on endpointslices\.discovery\.k8s\.io/);
});
