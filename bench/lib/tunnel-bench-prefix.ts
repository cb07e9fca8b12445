// Imported first by bench/route-tunnels.ts, as bench-prefix.ts is by
// bench/iperf.ts: the demo's layout reads its namespace prefix when first
// evaluated. `netlet-bt-*` never meets a demo's or the iperf bench's names.

process.env.NETLET_DEMO_PREFIX ||= 'netlet-bt';
