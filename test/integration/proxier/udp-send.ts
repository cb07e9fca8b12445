// Sends one UDP datagram from a fixed source port and waits until it has
// left (nc -w0 sometimes quit before sending, which made flows go missing).
// Usage: node udp-send.ts DST PORT SPORT
import { createSocket } from 'node:dgram';

const [dst, port, sport] = process.argv.slice(2);
const sock = createSocket(dst.includes(':') ? 'udp6' : 'udp4');
sock.bind(Number(sport), () => {
  sock.send('q', Number(port), dst, (err) => {
    sock.close();
    if (err) {
      console.error(err.message);
      process.exitCode = 1;
    }
  });
});
