// ws-server.mjs: a WebSocket peer built on the npm "ws" package, which the Go
// interop tests of this module start as a subprocess. It is the real peer we
// did not write: every frame tether exchanges with it is checked by ws.
//
// Usage:
//
//   node peer/ws-server.mjs [--port N] [--cert server.pem --key server-key.pem]
//
// It listens on 127.0.0.1 (port 0, the default, picks a free one), serves
// wss:// when --cert and --key are given and ws:// otherwise, and prints
// "LISTEN <port>" as its first line on stdout. Every later stdout line is one
// JSON event (see emit below) that the Go harness reads. The process exits
// when its stdin ends, so a test binary that dies never leaves it behind.
//
// Behaviours are selected by the URL path; the query may carry id=<string>,
// which every event of that connection repeats, so concurrent tests can tell
// their events apart.
//
//   /echo        echo every text and binary message as received
//   /closeecho   send nothing; the close the client sends is reported as a
//                "close" event (every path reports its close this way)
//   /fragmented  on a text message "<text|binary> <size> <frames> [ping]",
//                send a message of size bytes split into that many frames
//                (a ping between the first two frames when "ping" is given);
//                byte i of the payload is pattern(i) below
//   /ping        on a text message "ping <payload>", ping the client with
//                that payload and answer "pong <payload>" as text when its
//                pong arrives; with interval=<ms>, also ping every interval
//                with payloads "1", "2", ... (reported the same way)
//   /close       close at once with code=<n> and reason=<s> (without code,
//                a close frame with no payload)
//   /big         send one binary message of size=<n> bytes (default 4096) in
//                frames=<k> frames (default 1)
//
// Compression: deflate=1 in the query makes the server accept
// permessage-deflate (RFC 7692) and compress every message it sends, however
// small (threshold 0); snct=1 makes it require server_no_context_takeover,
// cnct=1 client_no_context_takeover, even when the client did not offer
// them. Without deflate=1 the server declines the extension. The open event
// reports the extensions negotiated, and each message event the bytes read
// from the socket so far (after TLS), so a test can see what compression
// saved.
//
// Subprotocols: of those the client offers, the server selects "v2.tether",
// else "v1.tether", else none; pick=<name> in the query selects that name
// whatever was offered (to test a server that selects one not offered).
//
// Events (one JSON object per line, field "event" says which):
//
//   {"event":"open","id":..,"path":..,"protocol":..,"extensions":..}
//   {"event":"message","id":..,"path":..,"binary":bool,"size":n,"wire":n}
//   {"event":"ping","id":..,"path":..,"payload":..}   a ping from the client
//   {"event":"pong","id":..,"path":..,"payload":..}   the client's pong
//   {"event":"close","id":..,"path":..,"code":n,"reason":..}
//   {"event":"error","id":..,"path":..,"message":..}

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});

function emit(ev) {
  process.stdout.write(JSON.stringify(ev) + '\n');
}

// pattern is the byte at offset i of the payloads /fragmented and /big send:
// printable ASCII, so a text message of any length is valid UTF-8. The Go
// tests build the same bytes.
function pattern(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 0x21 + (i % 94);
  return b;
}

// sendFragmented sends data as one message of n frames (n >= 1).
function sendFragmented(ws, data, binary, n, pingBetween) {
  const frames = Math.max(1, Math.min(n, Math.max(1, data.length)));
  const step = Math.ceil(data.length / frames);
  for (let f = 0; f < frames; f++) {
    const chunk = data.subarray(f * step, Math.min(data.length, (f + 1) * step));
    ws.send(chunk, { binary, fin: f === frames - 1 });
    if (f === 0 && pingBetween && frames > 1) ws.ping('between');
  }
}

function selectProtocol(offered, req) {
  const pick = new URL(req.url, 'http://peer').searchParams.get('pick');
  if (pick) return pick;
  for (const p of ['v2.tether', 'v1.tether']) {
    if (offered.has(p)) return p;
  }
  return false;
}

const handlers = {
  '/echo'(ws) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  },
  '/closeecho'() {},
  '/fragmented'(ws, _q, report) {
    ws.on('message', (data) => {
      const [kind, size, frames, ping] = data.toString().split(' ');
      const n = Number.parseInt(size, 10);
      const k = Number.parseInt(frames, 10);
      if ((kind !== 'text' && kind !== 'binary') || !(n >= 0) || !(k >= 1)) {
        report({ event: 'error', message: `bad command ${JSON.stringify(data.toString())}` });
        ws.close(1003, 'bad command');
        return;
      }
      sendFragmented(ws, pattern(n), kind === 'binary', k, ping === 'ping');
    });
  },
  '/ping'(ws, q) {
    ws.on('message', (data) => {
      const s = data.toString();
      if (s.startsWith('ping ')) ws.ping(s.slice(5));
    });
    ws.on('pong', (payload) => ws.send('pong ' + payload.toString()));
    const every = Number.parseInt(q.get('interval') ?? '', 10);
    if (every > 0) {
      let n = 0;
      const timer = setInterval(() => ws.ping(String(++n)), every);
      ws.on('close', () => clearInterval(timer));
    }
  },
  '/close'(ws, q) {
    if (q.has('code')) ws.close(Number.parseInt(q.get('code'), 10), q.get('reason') ?? '');
    else ws.close(); // a close frame without a code: the client sees 1005
  },
  '/big'(ws, q) {
    const size = Number.parseInt(q.get('size') ?? '4096', 10);
    const frames = Number.parseInt(q.get('frames') ?? '1', 10);
    sendFragmented(ws, pattern(size), true, frames, false);
  },
};

const server = args.cert
  ? https.createServer({ cert: readFileSync(args.cert), key: readFileSync(args.key) })
  : http.createServer();
// A client that refuses our certificate fails its TLS handshake: not an
// error of the peer.
server.on('tlsClientError', () => {});

// One WebSocketServer per compression setting (see Compression above),
// made on first use; every upgrade goes to the one its query selects.
const servers = new Map();
function serverFor(q) {
  const deflate = q.get('deflate') === '1';
  const key = deflate ? `deflate snct=${q.get('snct') === '1'} cnct=${q.get('cnct') === '1'}` : 'plain';
  let wss = servers.get(key);
  if (!wss) {
    // Set only when required: ws refuses the whole handshake (400) when
    // the client asks for server_no_context_takeover and the option is
    // false, where undefined lets the client choose.
    const perMessageDeflate = deflate && { threshold: 0 };
    if (deflate && q.get('snct') === '1') perMessageDeflate.serverNoContextTakeover = true;
    if (deflate && q.get('cnct') === '1') perMessageDeflate.clientNoContextTakeover = true;
    wss = new WebSocketServer({ noServer: true, handleProtocols: selectProtocol, perMessageDeflate });
    wss.on('connection', onConnection);
    servers.set(key, wss);
  }
  return wss;
}

server.on('upgrade', (req, socket, head) => {
  const wss = serverFor(new URL(req.url, 'http://peer').searchParams);
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

function onConnection(ws, req) {
  const url = new URL(req.url, 'http://peer');
  const base = { id: url.searchParams.get('id') ?? '', path: url.pathname };
  const report = (ev) => emit({ ...ev, ...base });
  report({ event: 'open', protocol: ws.protocol, extensions: ws.extensions });
  ws.on('message', (data, isBinary) =>
    report({ event: 'message', binary: isBinary, size: data.length, wire: req.socket.bytesRead }),
  );
  ws.on('ping', (p) => report({ event: 'ping', payload: p.toString() }));
  ws.on('pong', (p) => report({ event: 'pong', payload: p.toString() }));
  ws.on('error', (err) => report({ event: 'error', message: String(err?.message ?? err) }));
  ws.on('close', (code, reason) => report({ event: 'close', code, reason: reason.toString() }));
  const handle = handlers[url.pathname];
  if (!handle) {
    report({ event: 'error', message: `unknown path ${url.pathname}` });
    ws.close(1008, 'unknown path');
    return;
  }
  handle(ws, url.searchParams, report);
}

server.listen(Number.parseInt(args.port, 10), '127.0.0.1', () => {
  process.stdout.write(`LISTEN ${server.address().port}\n`);
});

// The harness holds our stdin open; when it ends (the test finished, or its
// process died), stop.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
