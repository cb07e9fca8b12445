// Serves healthCheckNodePorts from inside a test namespace until killed.
// argv: JSON [["ns/name", {port, localEndpoints}], …]; prints "ready" once listening.
import { silentLogger } from '../../../src/base/log.ts';
import { HttpHealthCheckServers } from '../../../src/proxier/healthcheck-servers.ts';
import type { HealthCheckService } from '../../../src/proxier/healthcheck-servers.ts';

const services = new Map(JSON.parse(process.argv[2]) as [string, HealthCheckService][]);
const hc = new HttpHealthCheckServers({ log: silentLogger, proxyHealthy: () => true });
await hc.sync(services);
process.stdout.write(`ready ${JSON.stringify([...hc.listening()])}\n`);
// The listeners are unref'd (the agent keeps itself alive); here a timer does.
setInterval(() => {}, 1 << 30);
