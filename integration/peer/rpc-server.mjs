// rpc-server.mjs: a JSON-RPC 2.0 server built on the npm "rpc-websockets"
// package (10.0.1), which the Go tests of package rpc start as a
// subprocess (peer.WithScript). It is a real server nobody here wrote:
// every request, reply, error and event notification tether's rpc client
// exchanges with it is rpc-websockets' own.
//
// Usage:
//
//   node peer/rpc-server.mjs [--port N] [--interval MS] [--name NAME]
//
// It listens on 127.0.0.1 (port 0, the default, picks a free one), prints
// "LISTEN <port>" as its first line on stdout, then one JSON event per line
// (the same shape as ws-server.mjs's): "open" and "close" for each
// connection, and "message" for each message a client sends, with the
// message as "payload". It exits when its stdin ends.
//
// Methods:
//   sum [a, b, ...]      the sum of the numbers
//   echo <params>        the params as they came
//   slow [ms, value]     value, after ms milliseconds
//   fail                 throws Error("it broke"): rpc-websockets answers
//                        {code: -32000, message: "Error", data: "it broke"}
//   publish [event, v]   emits event with v to its subscribers, returns true
// Events:
//   tick                 emitted every --interval ms (default 50) with
//                        {n, server}: n counts from 1, server is --name
//   news                 emitted by publish

import { parseArgs } from 'node:util';
import { Server } from 'rpc-websockets';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    interval: { type: 'string', default: '50' },
    name: { type: 'string', default: '' },
  },
});

function emit(ev) {
  process.stdout.write(JSON.stringify(ev) + '\n');
}

const server = new Server({ host: '127.0.0.1', port: Number.parseInt(args.port, 10) });

server.on('listening', () => {
  process.stdout.write(`LISTEN ${server.wss.address().port}\n`);
});
server.on('error', (err) => emit({ event: 'error', message: String(err) }));
server.on('connection', (socket, req) => {
  const path = new URL(req.url, 'http://peer').pathname;
  emit({ event: 'open', path });
  socket.on('message', (data) => emit({ event: 'message', path, payload: data.toString() }));
  socket.on('close', (code, reason) => emit({ event: 'close', path, code, reason: reason.toString() }));
});

server.register('sum', (params) => params.reduce((a, b) => a + b, 0));
server.register('echo', (params) => params);
server.register('slow', ([ms, value]) => new Promise((resolve) => setTimeout(() => resolve(value), ms)));
server.register('fail', () => {
  throw new Error('it broke');
});
server.event('tick');
server.event('news');
server.register('publish', ([name, value]) => {
  server.emit(name, value);
  return true;
});

let n = 0;
setInterval(() => server.emit('tick', { n: ++n, server: args.name }), Number.parseInt(args.interval, 10));

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
