import t from 'tap';
import { parseCorefile } from '../../../src/dns/corefile/parse.ts';
import type { DnsConfig } from '../../../src/dns/corefile/config.ts';
import { parseDuration } from '../../../src/dns/corefile/syntax.ts';
import { ConfigError } from '../../../src/base/errors.ts';
import { checkRefused } from './refused-corefiles.ts';
import type { RefusedCorefile } from './refused-corefiles.ts';

const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

t.test("kubeadm's Corefile", async (t) => {
  const c = parseCorefile(KUBEADM, 'Corefile');
  t.strictSame(c.listen, [{ host: '0.0.0.0', port: 53 }]);
  t.strictSame(c.zones, ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.']);
  t.strictSame(c.fallthrough, ['in-addr.arpa.', 'ip6.arpa.']);
  t.equal(c.ttl, 30);
  t.equal(c.pods, 'insecure');
  t.strictSame(c.upstreams, ['/etc/resolv.conf']);
  t.equal(c.forward?.maxConcurrent, 1000);
  t.equal(c.forward?.policy, 'random', 'default policy');
  t.strictSame(c.cache, { enabled: true, successTtl: 30, denialTtl: 30, prefetch: 0 });
  t.equal(c.health, ':8080');
  t.equal(c.lameduckMs, 5000);
  t.equal(c.ready, ':8181');
  t.equal(c.prometheus, ':9153');
  t.equal(c.loop, true);
  t.strictSame(c.reload, { intervalMs: 30_000, jitterMs: 15_000 });
  t.equal(c.loadbalance, true);
  t.equal(c.errors, true);
  t.equal(c.log, false, 'log not listed: off');
});

const rows: Array<{ name: string; corefile: string; want: (c: DnsConfig) => unknown; expect: unknown }> = [
  { name: 'port from the server block key', corefile: '.:1053 {\n  errors\n}', want: (c) => c.listen, expect: [{ host: '0.0.0.0', port: 1053 }] },
  { name: 'no port means 53', corefile: '. {\n errors\n}', want: (c) => c.listen[0].port, expect: 53 },
  { name: 'unlisted plugins are off', corefile: '.:53 {\n errors\n}', want: (c) => [c.health, c.ready, c.prometheus, c.cache.enabled, c.upstreams, c.loadbalance], expect: ['', '', '', false, [], false] },
  { name: 'kubernetes fallthrough with no zones: all its zones', corefile: '.:53 {\n kubernetes cluster.local {\n  fallthrough\n }\n}', want: (c) => c.fallthrough, expect: ['cluster.local.'] },
  { name: 'kubernetes pods verified, endpoint_pod_names', corefile: '. {\n kubernetes corp.example {\n  pods verified\n  endpoint_pod_names\n }\n}', want: (c) => [c.zones, c.pods, c.endpointPodNames], expect: [['corp.example.'], 'verified', true] },
  { name: 'kubernetes noendpoints', corefile: '. {\n kubernetes cluster.local {\n  noendpoints\n }\n}', want: (c) => c.noEndpoints, expect: true },
  { name: 'kubernetes ignore empty_service', corefile: '. {\n kubernetes cluster.local {\n  ignore empty_service\n }\n}', want: (c) => c.ignoreEmptyService, expect: true },
  { name: 'kubernetes namespace_labels (arguments joined as CoreDNS does)', corefile: '. {\n kubernetes cluster.local {\n  namespace_labels team in (a,b)\n }\n}', want: (c) => c.namespaceLabels, expect: 'team in (a,b)' },
  { name: 'kubernetes kubeconfig with a context', corefile: '. {\n kubernetes cluster.local {\n  kubeconfig /etc/kube.conf admin@prod\n }\n}', want: (c) => [c.kubeconfig, c.kubeconfigContext], expect: ['/etc/kube.conf', 'admin@prod'] },
  { name: 'kubernetes labels (arguments joined)', corefile: '. {\n kubernetes cluster.local {\n  labels app in (web, db)\n }\n}', want: (c) => c.api, expect: { labels: 'app in (web, db)' } },
  { name: 'kubernetes endpoint, tls and client limits', corefile: '. {\n kubernetes cluster.local {\n  endpoint https://10.0.0.1:6443\n  tls /c.pem /k.pem /ca.pem\n  apiserver_qps 2.5\n  apiserver_burst 4\n  apiserver_max_inflight 3\n }\n}', want: (c) => c.api, expect: { endpoint: 'https://10.0.0.1:6443', tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' }, qps: 2.5, burst: 4, maxInflight: 3 } },
  { name: 'kubernetes tls without endpoint: ignored with a warning, as CoreDNS', corefile: '. {\n kubernetes cluster.local {\n  tls /c.pem /k.pem /ca.pem\n }\n}', want: (c) => [c.api, c.warnings?.some((w) => /'kubernetes tls' is ignored without 'endpoint'/.test(w))], expect: [undefined, true] },
  { name: 'kubernetes startup_timeout', corefile: '. {\n kubernetes cluster.local {\n  startup_timeout 10s\n }\n}', want: (c) => c.startupTimeoutMs, expect: 10_000 },
  { name: 'kubernetes kubeconfig', corefile: '. {\n kubernetes cluster.local {\n  kubeconfig /etc/kube.conf\n }\n}', want: (c) => c.kubeconfig, expect: '/etc/kube.conf' },
  { name: 'forward addresses and knobs', corefile: '. {\n forward . 1.2.3.4 5.6.7.8:5353 [::1]:53 {\n  policy round_robin\n  health_check 2s no_rec\n  force_tcp\n  expire 30s\n  max_fails 3\n }\n}',
    want: (c) => [c.upstreams, c.forward?.policy, c.forward?.healthCheckMs, c.forward?.healthCheckRecursion, c.forward?.forceTcp, c.forward?.expireMs, c.forward?.maxFails],
    expect: [['1.2.3.4', '5.6.7.8:5353', '[::1]:53'], 'round_robin', 2000, false, true, 30_000, 3] },
  { name: 'forward next, failover (rcode names in any case), failfast_all_unhealthy_upstreams', corefile: '. {\n forward . 1.1.1.1 {\n  next NXDOMAIN refused\n  failover SERVFAIL\n  failfast_all_unhealthy_upstreams\n }\n}',
    want: (c) => [c.forward?.nextRcodes, c.forward?.failoverRcodes, c.forward?.failfastAllUnhealthy], expect: [[3, 5], [2], true] },
  { name: 'forward tls:// with tls CERT KEY CA and tls_servername (either order)', corefile: '. {\n forward . tls://9.9.9.9 tls://[2620:fe::fe]:8853 {\n  tls_servername dns.quad9.net\n  tls /c.pem /k.pem /ca.pem\n }\n}',
    want: (c) => [c.upstreams, c.forward?.tls], expect: [['tls://9.9.9.9', 'tls://[2620:fe::fe]:8853'], { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem', serverName: 'dns.quad9.net' }] },
  { name: 'forward tls with a CA only, and with none', corefile: '. {\n forward . tls://9.9.9.9 {\n  tls /ca.pem\n }\n forward example.org tls://1.1.1.1 {\n  tls\n }\n}',
    want: (c) => [c.forward?.tls, c.extraForwards?.[0].options.tls], expect: [{ ca: '/ca.pem' }, {}] },
  { name: 'forward sequential, prefer_udp', corefile: '. {\n forward . 1.1.1.1 {\n  policy sequential\n  prefer_udp\n }\n}', want: (c) => [c.forward?.policy, c.forward?.preferUdp], expect: ['sequential', true] },
  { name: 'cache without TTL: CoreDNS maxima', corefile: '. {\n cache\n}', want: (c) => [c.cache.successTtl, c.cache.denialTtl, c.cacheLimits?.successCapacity], expect: [3600, 1800, 9984] },
  { name: 'cache success/denial capacities and TTLs, prefetch', corefile: '. {\n cache 300 {\n  success 5000 120\n  denial 2500 10 1\n  prefetch 5\n }\n}',
    want: (c) => [c.cacheLimits?.successCapacity, c.cacheLimits?.denialCapacity, c.cacheLimits?.successTtl, c.cacheLimits?.denialTtl, c.cacheLimits?.successMinTtl, c.cacheLimits?.denialMinTtl, c.cache.prefetch],
    expect: [5000, 2500, 120, 10, 5, 1, 5] },
  { name: 'cache TTL and ZONES', corefile: '. {\n cache 30 example.org Cluster.Local\n}', want: (c) => [c.cacheLimits?.successTtl, c.cacheLimits?.zones], expect: [30, ['example.org.', 'cluster.local.']] },
  { name: 'cache ZONES without TTL', corefile: '. {\n cache example.org\n}', want: (c) => [c.cacheLimits?.successTtl, c.cacheLimits?.zones], expect: [3600, ['example.org.']] },
  { name: 'cache without ZONES: the block\'s', corefile: '. {\n cache 30\n}', want: (c) => c.cacheLimits?.zones, expect: ['.'] },
  { name: 'cache prefetch AMOUNT DURATION PERCENTAGE%', corefile: '. {\n cache {\n  prefetch 10 1m30s 20%\n }\n}', want: (c) => c.cacheLimits?.prefetch, expect: { amount: 10, durationMs: 90_000, percentage: 20 } },
  { name: 'cache prefetch defaults: 1m, 10%', corefile: '. {\n cache {\n  prefetch 3\n }\n}', want: (c) => c.cacheLimits?.prefetch, expect: { amount: 3, durationMs: 60_000, percentage: 10 } },
  { name: 'cache serve_stale: 1h, immediate', corefile: '. {\n cache {\n  serve_stale\n }\n}', want: (c) => c.cacheLimits?.serveStale, expect: { upToS: 3600, verify: false, verifyTimeoutMs: 0, responseTtlS: 0, failureRecheckMs: 0 } },
  { name: 'cache serve_stale DURATION verify', corefile: '. {\n cache {\n  serve_stale 10m verify\n }\n}', want: (c) => c.cacheLimits?.serveStale, expect: { upToS: 600, verify: true, verifyTimeoutMs: 0, responseTtlS: 0, failureRecheckMs: 0 } },
  { name: 'cache serve_stale immediate RESPONSE_TTL FAILURE_RECHECK', corefile: '. {\n cache {\n  serve_stale 1h immediate 30s 30s\n }\n}', want: (c) => c.cacheLimits?.serveStale, expect: { upToS: 3600, verify: false, verifyTimeoutMs: 0, responseTtlS: 30, failureRecheckMs: 30_000 } },
  { name: 'cache serve_stale verify VERIFY_TIMEOUT RESPONSE_TTL FAILURE_RECHECK', corefile: '. {\n cache {\n  serve_stale 1h verify 100ms 30s 1m\n }\n}', want: (c) => c.cacheLimits?.serveStale, expect: { upToS: 3600, verify: true, verifyTimeoutMs: 100, responseTtlS: 30, failureRecheckMs: 60_000 } },
  { name: 'cache serve_stale_policy prefer_positive', corefile: '. {\n cache {\n  serve_stale\n  serve_stale_policy prefer_positive\n }\n}', want: (c) => c.cacheLimits?.preferPositive, expect: true },
  { name: 'cache serve_stale verify 0 RESPONSE_TTL', corefile: '. {\n cache {\n  serve_stale 1h verify 0 30s\n }\n}', want: (c) => c.cacheLimits?.serveStale, expect: { upToS: 3600, verify: true, verifyTimeoutMs: 0, responseTtlS: 30, failureRecheckMs: 0 } },
  { name: 'cache servfail', corefile: '. {\n cache {\n  servfail 30s\n }\n}', want: (c) => c.cacheLimits?.servfailTtl, expect: 30 },
  { name: 'cache without servfail: SERVFAIL kept 5s', corefile: '. {\n cache\n}', want: (c) => c.cacheLimits?.servfailTtl, expect: 5 },
  { name: 'kubeadm: cache 30 with disable success/denial cluster.local', corefile: '. {\n cache 30 {\n  disable success cluster.local\n  disable denial cluster.local\n }\n}',
    want: (c) => [c.cacheLimits?.successTtl, c.cacheLimits?.disableSuccess, c.cacheLimits?.disableDenial], expect: [30, ['cluster.local.'], ['cluster.local.']] },
  { name: 'cache disable without zones: all', corefile: '. {\n cache {\n  disable denial\n }\n}', want: (c) => [c.cacheLimits?.disableSuccess, c.cacheLimits?.disableDenial], expect: [[], ['.']] },
  { name: 'cache keepttl', corefile: '. {\n cache {\n  keepttl\n }\n}', want: (c) => c.cacheLimits?.keepTtl, expect: true },
  { name: 'reload interval, jitter capped at half', corefile: '. {\n reload 10s 8s\n}', want: (c) => c.reload, expect: { intervalMs: 10_000, jitterMs: 5000 } },
  { name: 'health and ready addresses', corefile: '. {\n health 127.0.0.1:18080\n ready :18181\n prometheus 127.0.0.1:19153\n}', want: (c) => [c.health, c.ready, c.prometheus], expect: ['127.0.0.1:18080', ':18181', '127.0.0.1:19153'] },
  { name: 'hosts with inline entries and fallthrough', corefile: '. {\n hosts /tmp/h example.org {\n  10.0.0.1 a.example.org\n  fd00::1 a.example.org\n  ttl 60\n  no_reverse\n  fallthrough\n }\n}',
    want: (c) => c.hosts, expect: { file: '/tmp/h', inline: ['10.0.0.1 a.example.org', 'fd00::1 a.example.org'], zones: ['example.org.'], ttl: 60, noReverse: true, fallthrough: [], reloadMs: 5000 } },
  { name: 'hosts without fallthrough', corefile: '. {\n hosts\n}', want: (c) => [c.hosts?.file, c.hosts?.fallthrough], expect: ['/etc/hosts', null] },
  { name: 'comments, quotes and a glued brace', corefile: '# top\n.:53{ # here\n log\n forward . "1.2.3.4"\n}', want: (c) => [c.log, c.upstreams], expect: [true, ['1.2.3.4']] },
  { name: 'forward except, and a second forward', corefile: '. {\n forward . 1.2.3.4 {\n  except corp.example 10.0.0.0/8\n }\n forward corp.example 10.9.9.9\n}',
    want: (c) => [c.forward?.except, c.extraForwards?.map((f) => [f.options.from, f.upstreams])], expect: [['corp.example.', '10.in-addr.arpa.'], [['corp.example.', ['10.9.9.9']]]] },
  { name: 'environment substitution', corefile: '. {\n forward . {$NETLET_DNF_UPSTREAM}\n}', want: (c) => c.upstreams, expect: ['9.9.9.9'] },
];

t.test('Corefile → config', async (t) => {
  process.env.NETLET_DNF_UPSTREAM = '9.9.9.9';
  for (const r of rows) t.strictSame(r.want(parseCorefile(r.corefile, 'Corefile')), r.expect, r.name);
});

const errors: RefusedCorefile[] = [
  { name: 'a CoreDNS plugin netlet does not run', corefile: '.:53 {\n errors\n dnssec\n}', key: 'dnssec', message: /line 3: plugin 'dnssec' is not supported by netlet/ },
  { name: 'kubernetes ignore of something else', corefile: '. {\n kubernetes cluster.local {\n  ignore empty_namespace\n }\n}', key: 'kubernetes ignore', message: /'empty_namespace' is not empty_service/ },
  { name: 'kubernetes noendpoints with an argument', corefile: '. {\n kubernetes cluster.local {\n  noendpoints yes\n }\n}', key: 'kubernetes noendpoints', message: /line 3/ },
  { name: 'kubernetes namespace_labels that does not parse', corefile: '. {\n kubernetes cluster.local {\n  namespace_labels team=a,\n }\n}', key: 'kubernetes namespace_labels', message: /line 3: .*an empty requirement/ },
  { name: 'kubernetes labels that does not parse', corefile: '. {\n kubernetes cluster.local {\n  labels app in (web\n }\n}', key: 'kubernetes labels', message: /line 3: label selector/ },
  { name: 'kubernetes endpoint that is not a URL', corefile: '. {\n kubernetes cluster.local {\n  endpoint 10.0.0.1:6443\n }\n}', key: 'kubernetes endpoint', message: /line 3: '10.0.0.1:6443' is not an http:\/\/ or https:\/\/ URL/ },
  { name: 'kubernetes endpoint with several URLs', corefile: '. {\n kubernetes cluster.local {\n  endpoint https://a:6443 https://b:6443\n }\n}', key: 'kubernetes endpoint', message: /takes 1 argument/ },
  { name: 'kubernetes endpoint and kubeconfig', corefile: '. {\n kubernetes cluster.local {\n  endpoint https://a:6443\n  kubeconfig /k\n }\n}', key: 'kubernetes endpoint', message: /both name an API server/ },
  { name: 'kubernetes tls with two files', corefile: '. {\n kubernetes cluster.local {\n  tls a b\n }\n}', key: 'kubernetes tls', message: /takes 3 argument/ },
  { name: 'kubernetes apiserver_qps zero', corefile: '. {\n kubernetes cluster.local {\n  apiserver_qps 0\n }\n}', key: 'kubernetes apiserver_qps', message: /not a positive number/ },
  { name: 'kubernetes apiserver_burst not an integer', corefile: '. {\n kubernetes cluster.local {\n  apiserver_burst 2.5\n }\n}', key: 'kubernetes apiserver_burst', message: /not an integer/ },
  { name: 'kubernetes apiserver_max_inflight zero', corefile: '. {\n kubernetes cluster.local {\n  apiserver_max_inflight 0\n }\n}', key: 'kubernetes apiserver_max_inflight', message: /not an integer/ },
  { name: 'rewrite edns0 local with a variable', corefile: '. {\n rewrite edns0 local set 0xffee {qname}\n}', key: 'rewrite', message: /variable '\{qname\}' is not supported/ },
  { name: 'rewrite edns0 without an action', corefile: '. {\n rewrite edns0 nsid\n}', key: 'rewrite', message: /needs set, replace or append/ },
  { name: 'rewrite edns0 subnet prefix too long', corefile: '. {\n rewrite edns0 subnet set 33 56\n}', key: 'rewrite', message: /IPv4 prefix length \(0-32\)/ },
  { name: 'rewrite edns0 option netlet does not rewrite', corefile: '. {\n rewrite edns0 cookie set\n}', key: 'rewrite', message: /local, nsid and subnet/ },
  { name: 'rewrite edns0 local code out of range', corefile: '. {\n rewrite edns0 local set 0x1ffff 0x01\n}', key: 'rewrite', message: /not an EDNS0 option code/ },
  { name: 'rewrite rcode to an extended rcode', corefile: '. {\n rewrite rcode a.example SERVFAIL BADCOOKIE\n}', key: 'rewrite', message: /extended rcode/ },
  { name: 'rewrite rcode without TO', corefile: '. {\n rewrite rcode a.example SERVFAIL\n}', key: 'rewrite', message: /needs a NAME, FROM and TO/ },
  { name: 'rewrite rcode of no rcode', corefile: '. {\n rewrite rcode a.example SERVFAIL OK\n}', key: 'rewrite', message: /'OK' is not an rcode/ },
  { name: 'rewrite cname without TO', corefile: '. {\n rewrite cname regex (.*)\\.cdn\\.\n}', key: 'rewrite', message: /'cname' needs FROM and TO/ },
  { name: 'rewrite cname bad regex', corefile: '. {\n rewrite cname regex (a b.\n}', key: 'rewrite', message: /not a regular expression/ },
  { name: 'rewrite bad regex', corefile: '. {\n rewrite name regex (a b\n}', key: 'rewrite', message: /not a regular expression/ },
  { name: 'rewrite answer without name', corefile: '. {\n rewrite name a.example b.example answer other x y\n}', key: 'rewrite', message: /only 'answer auto'/ },
  { name: 'acl unknown action', corefile: '. {\n acl {\n  permit net 10.0.0.0/8\n }\n}', key: 'acl permit', message: /not an acl action/ },
  { name: 'acl bad network', corefile: '. {\n acl {\n  block net 10.0.0.300/8\n }\n}', key: 'acl block', message: /not an address or CIDR/ },
  { name: 'bufsize out of range', corefile: '. {\n bufsize 100\n}', key: 'bufsize', message: /\[512, 4096\]/ },
  { name: 'log custom format', corefile: '. {\n log . "{name} {type}"\n}', key: 'log', message: /only \{common\} and \{combined\}/ },
  { name: 'log bad class', corefile: '. {\n log {\n  class failure\n }\n}', key: 'log class', message: /'failure' is not a class/ },
  { name: 'errors consolidate bad level', corefile: '. {\n errors {\n  consolidate 5m ".*" loud\n }\n}', key: 'errors consolidate', message: /'loud' is not a level/ },
  { name: 'template action netlet does not render', corefile: '. {\n template IN A {\n  answer "{{ .Name | printf }} 60 IN A 1.2.3.4"\n }\n}', key: 'template answer', message: /template action '\{\{ \.Name \| printf \}\}' is not supported/ },
  { name: 'template ederror not a code', corefile: '. {\n template IN A {\n  ederror blocked\n }\n}', key: 'template ederror', message: /'blocked' is not an extended DNS error code/ },
  { name: 'template ederror with three arguments', corefile: '. {\n template IN A {\n  ederror 15 a b\n }\n}', key: 'template ederror', message: /takes 1 to 2/ },
  { name: 'template bad type', corefile: '. {\n template IN BOGUS\n}', key: 'template', message: /'BOGUS' is not a record type/ },
  { name: 'autopath @kubernetes without pods verified', corefile: '. {\n autopath @kubernetes\n kubernetes cluster.local\n}', key: 'autopath', message: /needs the block's kubernetes plugin with 'pods verified'/ },
  { name: 'autopath from another plugin', corefile: '. {\n autopath @etcd\n}', key: 'autopath', message: /only @kubernetes/ },
  { name: 'no CoreDNS plugin at all', corefile: '. {\n fanout . 1.2.3.4\n}', key: 'fanout', message: /plugin 'fanout' is not a plugin CoreDNS ships/ },
  { name: 'etcd plugin', corefile: '. {\n etcd\n}', key: 'etcd', message: /plugin 'etcd'/ },
  { name: 'unknown kubernetes property', corefile: '. {\n kubernetes cluster.local {\n  ndots 5\n }\n}', key: 'kubernetes ndots', message: /line 3: 'kubernetes' property 'ndots'/ },
  { name: 'kubernetes multicluster with a zone kubernetes does not serve, refused with the reason', corefile: '. {\n kubernetes cluster.local {\n  multicluster clusterset.local\n }\n}', key: 'kubernetes multicluster', message: /line 3: 'kubernetes multicluster' zone 'clusterset\.local\.' is not one of the kubernetes zones \(cluster\.local\.\)/ },
  { name: 'kubernetes startup_timeout without a duration', corefile: '. {\n kubernetes cluster.local {\n  startup_timeout soon\n }\n}', key: 'kubernetes startup_timeout', message: /line 3/ },
  { name: 'bad pods mode', corefile: '. {\n kubernetes cluster.local {\n  pods sometimes\n }\n}', key: 'kubernetes pods', message: /'sometimes'/ },
  { name: 'forward over HTTPS', corefile: '. {\n forward . https://9.9.9.9\n}', key: 'forward', message: /no DNS-over-HTTPS\/gRPC/ },
  { name: 'forward tls with no tls:// upstream', corefile: '. {\n forward . 1.2.3.4 {\n  tls\n }\n}', key: 'forward tls', message: /apply to tls:\/\/ upstreams/ },
  { name: 'forward mixing tls:// and plain upstreams', corefile: '. {\n forward . tls://1.2.3.4 5.6.7.8\n}', key: 'forward', message: /mixes tls:\/\/ and plain/ },
  { name: 'forward tls with four files', corefile: '. {\n forward . tls://1.2.3.4 {\n  tls a b c d\n }\n}', key: 'forward tls', message: /line 3/ },
  { name: 'forward next with no rcode', corefile: '. {\n forward . 1.2.3.4 {\n  next\n }\n}', key: 'forward next', message: /line 3/ },
  { name: 'forward failover with an unknown rcode', corefile: '. {\n forward . 1.2.3.4 {\n  failover TIMEOUT\n }\n}', key: 'forward failover', message: /'TIMEOUT' is not an rcode/ },
  { name: 'forward bad policy', corefile: '. {\n forward . 1.2.3.4 {\n  policy fastest\n }\n}', key: 'forward policy', message: /fastest/ },
  { name: 'forward hostname upstream', corefile: '. {\n forward . dns.example.com\n}', key: 'forward', message: /not an IP/ },
  { name: 'cache serve_stale_policy of another policy', corefile: '. {\n cache {\n  serve_stale_policy prefer_negative\n }\n}', key: 'cache serve_stale_policy', message: /'prefer_negative' is not a serve_stale policy/ },
  { name: 'cache serve_stale immediate with three numbers', corefile: '. {\n cache {\n  serve_stale 1h immediate 30s 30s 1s\n }\n}', key: 'cache serve_stale', message: /at most RESPONSE_TTL, FAILURE_RECHECK; '1s' is one too many/ },
  { name: 'cache serve_stale RESPONSE_TTL not whole seconds', corefile: '. {\n cache {\n  serve_stale 1h immediate 1500ms\n }\n}', key: 'cache serve_stale', message: /whole seconds/ },
  { name: 'cache serve_stale with an unknown mode', corefile: '. {\n cache {\n  serve_stale 1h later\n }\n}', key: 'cache serve_stale', message: /refresh mode/ },
  { name: 'cache TTL 0 (CoreDNS reserves it)', corefile: '. {\n cache 0\n}', key: 'cache', message: /integer/ },
  { name: 'cache servfail over 5 minutes', corefile: '. {\n cache {\n  servfail 6m\n }\n}', key: 'cache servfail', message: /5m/ },
  { name: 'cache prefetch percentage without %', corefile: '. {\n cache {\n  prefetch 2 1m 20\n }\n}', key: 'cache prefetch', message: /%/ },
  { name: 'cache prefetch percentage out of range', corefile: '. {\n cache {\n  prefetch 2 1m 95%\n }\n}', key: 'cache prefetch', message: /\[10, 90\]/ },
  { name: 'cache disable of another kind', corefile: '. {\n cache {\n  disable everything\n }\n}', key: 'cache disable', message: /success or denial/ },
  { name: 'cache keepttl with an argument', corefile: '. {\n cache {\n  keepttl 5\n }\n}', key: 'cache keepttl', message: /argument/ },
  { name: 'health unknown property', corefile: '. {\n health {\n  interval 1s\n }\n}', key: 'health interval', message: /interval/ },
  { name: 'bad duration', corefile: '. {\n health {\n  lameduck soon\n }\n}', key: 'health lameduck', message: /not a duration/ },
  { name: 'reload too often', corefile: '. {\n reload 1s\n}', key: 'reload', message: /at least 2s/ },
  { name: 'plugin twice', corefile: '. {\n cache\n cache 30\n}', key: 'cache', message: /appears twice/ },
  { name: 'missing close brace', corefile: '. {\n errors\n', key: 'corefile', message: /missing '\}'/ },
  { name: 'loadbalance weighted without a file', corefile: '. {\n loadbalance weighted\n}', key: 'loadbalance', message: /'weighted' needs a WEIGHTFILE/ },
  { name: 'loadbalance another policy', corefile: '. {\n loadbalance random\n}', key: 'loadbalance', message: /policy 'random' is not supported \(round_robin and weighted are\)/ },
  { name: 'loadbalance prefer of no CIDR', corefile: '. {\n loadbalance {\n  prefer 10.0.0.1\n }\n}', key: 'loadbalance prefer', message: /'10.0.0.1' is not a CIDR/ },
  { name: 'loadbalance round_robin reload', corefile: '. {\n loadbalance round_robin {\n  reload 10s\n }\n}', key: 'loadbalance reload', message: /'loadbalance round_robin' property 'reload'/ },
];

t.test('Corefiles refused by name', async (t) => checkRefused(t, errors));

t.test('durations', async (t) => {
  const rows: Array<[string, number]> = [['500ms', 500], ['5s', 5000], ['1m30s', 90_000], ['1.5h', 5_400_000], ['0', 0]];
  for (const [text, ms] of rows) t.equal(parseDuration(text, 'x'), ms, text);
  t.throws(() => parseDuration('5', 'x'), ConfigError, 'a bare number is not a duration');
});
