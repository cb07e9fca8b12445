// Prints the detected iptables mode of the namespace it runs in.
import { detectMode } from '../../../src/iptables/detect-mode.ts';
process.stdout.write(JSON.stringify(await detectMode(4)) + '\n');
