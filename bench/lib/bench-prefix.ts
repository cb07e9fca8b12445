// Imported first by bench/iperf.ts: the demo's layout reads its namespace
// prefix when it is first evaluated, and ES modules are evaluated in the
// order of the import statements, so this must come before any demo import.
// The bench's namespaces are `netlet-bn-*`, which a demo's teardown
// (`netlet-demo-*`) never matches, and the other way round.

process.env.NETLET_DEMO_PREFIX ||= 'netlet-bn';
