// A real Centrifugo client (centrifuge-js 5 over the `ws` package) driven by the Rust test suites.
//
// Usage: node client.mjs '<spec JSON>'
//   spec = {
//     "url": "ws://127.0.0.1:8000/connection/websocket",
//     "token": "<connection JWT>",          // omit or "" to connect without a token
//     "name": "js",                         // optional client name
//     "origin": "http://localhost:8080",    // optional Origin header of the WebSocket handshake
//     "subscriptions": [{"channel": "news", "token": "<subscription JWT>"}],
//     "quiet_publications": false           // true: count publications, print only `publication_count`
//   }
//
// Prints one JSON object per line on stdout, with an "event" field:
//   ready, connecting {code, reason}, connected {client}, disconnected {code, reason},
//   error {kind, code, message}, subscribing {channel, code, reason}, subscribed {channel},
//   subscribe_error {channel, code, message}, unsubscribed {channel, code, reason},
//   publication {channel, data, offset}, join {channel, user, client}, leave {channel, user, client},
//   publication_count {channel, count}, reply {id, ok, result | error}.
//
// Reads commands as JSON lines on stdin, each with an optional "id" echoed in its reply:
//   {"cmd": "subscribe", "channel": "c", "token": "..."}, {"cmd": "unsubscribe", "channel": "c"},
//   {"cmd": "publish", "channel": "c", "data": {...}}, {"cmd": "presence", "channel": "c"},
//   {"cmd": "presence_stats", "channel": "c"}, {"cmd": "history", "channel": "c", "limit": 10},
//   {"cmd": "disconnect"}, {"cmd": "connect"}, {"cmd": "exit"}.

import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { Centrifuge } from 'centrifuge';

const spec = JSON.parse(process.argv[2] || '{}');

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

// The handshake Origin header, for servers that check allowed origins.
class OriginWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols, spec.origin ? { origin: spec.origin } : {});
  }
}

const client = new Centrifuge(spec.url, {
  websocket: OriginWebSocket,
  token: spec.token || undefined,
  name: spec.name || 'js',
  minReconnectDelay: 100,
  maxReconnectDelay: 1000,
});

client.on('connecting', (ctx) => emit('connecting', { code: ctx.code, reason: ctx.reason }));
client.on('connected', (ctx) => emit('connected', { client: ctx.client, transport: ctx.transport }));
client.on('disconnected', (ctx) => emit('disconnected', { code: ctx.code, reason: ctx.reason }));
client.on('error', (ctx) => emit('error', {
  kind: ctx.type,
  code: ctx.error && ctx.error.code,
  message: ctx.error && ctx.error.message,
}));

const counts = new Map();

function subscribe(channel, token) {
  const existing = client.getSubscription(channel);
  if (existing) {
    client.removeSubscription(existing);
  }
  const sub = client.newSubscription(channel, {
    token: token || undefined,
    minResubscribeDelay: 100,
    maxResubscribeDelay: 1000,
  });
  sub.on('subscribing', (ctx) => emit('subscribing', { channel, code: ctx.code, reason: ctx.reason }));
  sub.on('subscribed', (ctx) => emit('subscribed', {
    channel,
    recoverable: ctx.recoverable,
    positioned: ctx.positioned,
    was_recovering: ctx.wasRecovering,
    recovered: ctx.recovered,
  }));
  sub.on('unsubscribed', (ctx) => emit('unsubscribed', { channel, code: ctx.code, reason: ctx.reason }));
  sub.on('error', (ctx) => emit('subscribe_error', {
    channel,
    kind: ctx.type,
    code: ctx.error && ctx.error.code,
    message: ctx.error && ctx.error.message,
  }));
  sub.on('publication', (ctx) => {
    if (spec.quiet_publications) {
      const count = (counts.get(channel) || 0) + 1;
      counts.set(channel, count);
      emit('publication_count', { channel, count });
    } else {
      emit('publication', { channel, data: ctx.data, offset: ctx.offset, info: ctx.info });
    }
  });
  sub.on('join', (ctx) => emit('join', { channel, user: ctx.info.user, client: ctx.info.client }));
  sub.on('leave', (ctx) => emit('leave', { channel, user: ctx.info.user, client: ctx.info.client }));
  sub.subscribe();
  return sub;
}

for (const s of spec.subscriptions || []) {
  subscribe(s.channel, s.token);
}

async function run(command) {
  const sub = command.channel ? client.getSubscription(command.channel) : null;
  switch (command.cmd) {
    case 'subscribe': subscribe(command.channel, command.token); return {};
    case 'unsubscribe': if (sub) { sub.unsubscribe(); client.removeSubscription(sub); } return {};
    case 'publish': return client.publish(command.channel, command.data);
    case 'presence': return client.presence(command.channel);
    case 'presence_stats': return client.presenceStats(command.channel);
    case 'history': return client.history(command.channel, { limit: command.limit ?? 10 });
    case 'disconnect': client.disconnect(); return {};
    case 'connect': client.connect(); return {};
    case 'exit': client.disconnect(); setTimeout(() => process.exit(0), 50); return {};
    default: throw { code: 0, message: `unknown command ${command.cmd}` };
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (!line.trim()) return;
  let command;
  try {
    command = JSON.parse(line);
  } catch (e) {
    emit('reply', { ok: false, error: { code: 0, message: `bad JSON: ${e.message}` } });
    return;
  }
  try {
    const result = await run(command);
    emit('reply', { id: command.id, ok: true, result });
  } catch (e) {
    emit('reply', { id: command.id, ok: false, error: { code: e && e.code, message: e && (e.message || String(e)) } });
  }
});

// The parent closing our stdin means the test is over.
process.stdin.on('end', () => process.exit(0));

emit('ready');
client.connect();
