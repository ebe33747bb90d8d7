// Conformance scenarios: centrifuge-js 5 (over the `ws` package) against a Centrifugo-protocol
// server, with the same assertions whichever server it is (the embedded server of instant-actix,
// or a real Centrifugo v6).
//
// Usage: node scenarios.mjs <scenario> '<spec JSON>'
//   spec = {
//     "url": "ws://127.0.0.1:8000/connection/websocket",
//     "api_url": "http://127.0.0.1:8000/api", "api_key": "...",
//     "tokens": { "alice", "bob", "alice_expired",      // connection tokens
//                 "alice_users", "alice_users_expired",  // subscription tokens for `$users`
//                 "alice_users_wrong_key", "alice_users_wrong_channel" },
//     "idle_ms": 65000                                   // for `idle`
//   }
// The server declares `news` and `chat` (public, with history, presence and join/leave) and the
// private `$users`; any other channel is undeclared.
//
// Prints one JSON line: {"ok": true} and exits 0, or {"ok": false, "error": "..."} and exits 1.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Centrifuge, UnauthorizedError } from 'centrifuge';

const [scenarioName, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson || '{}');
const T = spec.tokens || {};
const WAIT_MS = 10000;

// Every WebSocket the clients open, so that a scenario can drop one like a network failure would,
// or hold back the client's pongs (`{}`) so that the server closes the connection.
const sockets = [];
let holdPongs = false;
class TrackedWebSocket extends WebSocket {
  constructor(address, protocols) {
    super(address, protocols);
    sockets.push(this);
  }

  send(data) {
    if (holdPongs && data === '{}') return;
    super.send(data);
  }
}

const clients = [];
function client(options = {}) {
  const c = new Centrifuge(spec.url, {
    websocket: TrackedWebSocket,
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
    ...options,
  });
  clients.push(c);
  return c;
}

// Resolves with the first `event` whose context passes `test`; rejects after `waitMs`.
function next(emitter, event, test = () => true, what = event, waitMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out waiting for ${what}`));
    }, waitMs);
    function handler(ctx) {
      if (test(ctx)) {
        clearTimeout(timer);
        emitter.off(event, handler);
        resolve(ctx);
      }
    }
    emitter.on(event, handler);
  });
}

// Collects every context of `event` into an array.
function collect(emitter, event) {
  const seen = [];
  emitter.on(event, (ctx) => seen.push(ctx));
  return seen;
}

async function connect(c) {
  const connected = next(c, 'connected');
  c.connect();
  return connected;
}

async function subscribe(c, channel, options = {}) {
  const sub = c.newSubscription(channel, { minResubscribeDelay: 100, maxResubscribeDelay: 500, ...options });
  const subscribed = next(sub, 'subscribed', () => true, `subscribed to ${channel}`);
  sub.subscribe();
  return { sub, ctx: await subscribed };
}

// Subscribes expecting a refusal; resolves with the `unsubscribed` context.
async function refused(c, channel, options = {}) {
  const sub = c.newSubscription(channel, { minResubscribeDelay: 100, maxResubscribeDelay: 500, ...options });
  const unsubscribed = next(sub, 'unsubscribed', () => true, `refusal of ${channel}`);
  const subscribed = next(sub, 'subscribed').then(
    () => { throw new Error(`subscribed to ${channel} instead of being refused`); },
    () => {},
  );
  sub.subscribe();
  const ctx = await Promise.race([unsubscribed, subscribed]);
  assert.notEqual(sub.state, 'subscribed');
  return ctx;
}

async function api(method, body) {
  const response = await fetch(`${spec.api_url}/${method}`, {
    method: 'POST',
    headers: { 'X-API-Key': spec.api_key, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `${method} answered HTTP ${response.status}`);
  const answer = await response.json();
  assert.equal(answer.error, undefined, `${method} failed: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios = {
  // A connection token and an anonymous connection are both accepted.
  async connect() {
    const alice = client({ token: T.alice });
    const ctx = await connect(alice);
    assert.equal(typeof ctx.client, 'string');
    assert.ok(ctx.client.length > 0);
    const anonymous = client();
    const anonymousCtx = await connect(anonymous);
    assert.notEqual(anonymousCtx.client, ctx.client);
  },

  // Public channels are open to all, a private one needs a subscription token, undeclared ones
  // are refused.
  async subscribe_levels() {
    const anonymous = client();
    await connect(anonymous);
    const { ctx } = await subscribe(anonymous, 'news');
    assert.equal(ctx.channel, 'news');
    const privateRefusal = await refused(anonymous, '$users');
    assert.equal(privateRefusal.code, 103);
    await refused(anonymous, 'undeclared');
    assert.equal(anonymous.state, 'connected');
  },

  // A private channel with a good, an expired, a wrong-key and a wrong-channel token.
  async private_tokens() {
    const alice = client({ token: T.alice });
    await connect(alice);
    const { ctx } = await subscribe(alice, '$users', { token: T.alice_users });
    assert.equal(ctx.channel, '$users');

    // Expired: error 109, then the client asks for a fresh token and subscribes.
    const second = client({ token: T.alice });
    await connect(second);
    let asked = 0;
    const sub = second.newSubscription('$users', {
      token: T.alice_users_expired,
      getToken: async () => { asked += 1; return T.alice_users; },
      minResubscribeDelay: 100,
      maxResubscribeDelay: 500,
    });
    const expired = next(sub, 'error', (e) => e.error && e.error.code === 109, 'error 109');
    const subscribed = next(sub, 'subscribed');
    sub.subscribe();
    await expired;
    await subscribed;
    assert.equal(asked, 1);

    // Signed with another key: permission denied, the connection stays.
    const third = client({ token: T.alice });
    await connect(third);
    const wrongKey = await refused(third, '$users', { token: T.alice_users_wrong_key });
    assert.equal(wrongKey.code, 103);
    assert.equal(third.state, 'connected');

    // A token for another channel: the server closes the connection with 3500 (invalid token),
    // after which the client stays disconnected.
    const fourth = client({ token: T.alice });
    await connect(fourth);
    const disconnected = next(fourth, 'disconnected');
    fourth.newSubscription('$users', { token: T.alice_users_wrong_channel }).subscribe();
    assert.equal((await disconnected).code, 3500);
  },

  // What a subscriber receives for a publication made through the server API.
  async publication_fields() {
    const c = client();
    await connect(c);
    const { sub } = await subscribe(c, 'news');
    const event = {
      channel: 'news', site: 'conformance', message: 'hello', event_class: 'info',
      data: { n: 1, nested: { list: [1, 2] } }, uid: 'u-1', timestamp: 1700000000000,
    };
    const received = next(sub, 'publication');
    const result = await api('publish', { channel: 'news', data: event });
    const publication = await received;
    assert.deepEqual(publication.data, event);
    assert.equal(publication.channel, 'news');
    assert.equal(typeof result.offset, 'number');
    assert.equal(publication.offset, result.offset);
    assert.equal(typeof result.epoch, 'string');
    assert.equal(publication.info, undefined);
  },

  // After unsubscribing, publications stop; the subscription ends with code 0.
  async unsubscribe() {
    const c = client();
    await connect(c);
    const { sub } = await subscribe(c, 'news');
    const seen = collect(sub, 'publication');
    const unsubscribed = next(sub, 'unsubscribed');
    sub.unsubscribe();
    assert.equal((await unsubscribed).code, 0);
    await api('publish', { channel: 'news', data: { after: true } });
    // A second subscriber proves the publication went out.
    const other = client();
    await connect(other);
    const { sub: otherSub } = await subscribe(other, 'news');
    const delivered = next(otherSub, 'publication');
    await api('publish', { channel: 'news', data: { marker: true } });
    await delivered;
    assert.equal(seen.length, 0);
  },

  // Presence lists both users; join and leave reach a subscriber that asked for them.
  async presence_join_leave() {
    const alice = client({ token: T.alice });
    await connect(alice);
    const { sub: aliceSub } = await subscribe(alice, 'chat', { joinLeave: true });
    const bobJoined = next(aliceSub, 'join', (ctx) => ctx.info.user === 'bob', 'join of bob');
    const bob = client({ token: T.bob });
    const bobCtx = await connect(bob);
    const { sub: bobSub } = await subscribe(bob, 'chat', { joinLeave: true });
    const join = await bobJoined;
    assert.equal(join.info.client, bobCtx.client);

    const presence = await aliceSub.presence();
    const users = Object.values(presence.clients).map((info) => info.user).sort();
    assert.deepEqual(users, ['alice', 'bob']);
    assert.ok(presence.clients[bobCtx.client]);
    const stats = await aliceSub.presenceStats();
    assert.equal(stats.numClients, 2);
    assert.equal(stats.numUsers, 2);

    const bobLeft = next(aliceSub, 'leave', (ctx) => ctx.info.user === 'bob', 'leave of bob');
    bobSub.unsubscribe();
    const leave = await bobLeft;
    assert.equal(leave.info.client, bobCtx.client);
    const after = await aliceSub.presenceStats();
    assert.equal(after.numClients, 1);
  },

  // History returns publications in order with their offsets, forwards and backwards.
  async history() {
    const c = client();
    await connect(c);
    const { sub } = await subscribe(c, 'chat');
    const offsets = [];
    for (const n of [1, 2, 3]) {
      offsets.push((await api('publish', { channel: 'chat', data: { n } })).offset);
    }
    const all = await sub.history({ limit: 10 });
    const tail = all.publications.slice(-3);
    assert.deepEqual(tail.map((p) => p.data.n), [1, 2, 3]);
    assert.deepEqual(tail.map((p) => p.offset), offsets);
    assert.equal(all.offset, offsets[2]);
    assert.equal(typeof all.epoch, 'string');
    const reversed = await sub.history({ limit: 2, reverse: true });
    assert.deepEqual(reversed.publications.map((p) => p.data.n), [3, 2]);
    const since = await sub.history({ limit: -1, since: { offset: offsets[0], epoch: all.epoch } });
    assert.deepEqual(since.publications.map((p) => p.data.n), [2, 3]);
  },

  // A dropped connection reconnects and recovers exactly the publications it missed.
  async recovery() {
    // Reconnecting no sooner than after a second leaves time to publish while it is away.
    const c = client({ minReconnectDelay: 1000, maxReconnectDelay: 1500 });
    await connect(c);
    const { sub } = await subscribe(c, 'news');
    const seen = collect(sub, 'publication');
    const first = next(sub, 'publication', (p) => p.data.n === 1);
    await api('publish', { channel: 'news', data: { n: 1 } });
    await first;

    const dropped = next(c, 'connecting');
    for (const socket of sockets) socket.terminate();
    await dropped;
    // Published while the client is away.
    const resubscribed = next(sub, 'subscribed');
    for (const n of [2, 3, 4]) {
      await api('publish', { channel: 'news', data: { n } });
    }
    const ctx = await resubscribed;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    const last = seen.length >= 4 ? null : next(sub, 'publication', (p) => p.data.n === 4);
    if (last) await last;
    await sleep(200);
    assert.deepEqual(seen.map((p) => p.data.n), [1, 2, 3, 4]);
    const offsets = seen.map((p) => p.offset);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  },

  // An idle connection stays up past a minute: the server pings, the client pongs.
  async idle() {
    const c = client({ token: T.alice });
    const ctx = await connect(c);
    const { sub } = await subscribe(c, 'news');
    const drops = collect(c, 'disconnected');
    const reconnects = collect(c, 'connecting');
    await sleep(spec.idle_ms || 65000);
    assert.equal(drops.length, 0, `disconnected: ${JSON.stringify(drops)}`);
    assert.equal(reconnects.length, 0, `reconnected: ${JSON.stringify(reconnects)}`);
    assert.equal(c.state, 'connected');
    const delivered = next(sub, 'publication');
    await api('publish', { channel: 'news', data: { still: 'here' } });
    assert.deepEqual((await delivered).data, { still: 'here' });
    const presence = await sub.presence();
    assert.ok(presence.clients[ctx.client], 'the same connection is still subscribed');
  },

  // The server closes a connection that stops answering its pings (3012, reconnect advised): the
  // client reconnects by itself and resubscribes, and publications flow again.
  async reconnect_after_server_close() {
    const c = client({ token: T.alice });
    await connect(c);
    const { sub } = await subscribe(c, 'news');
    // The server pings within its ping interval and closes within its pong timeout after.
    const closed = next(c, 'connecting', (ctx) => ctx.code !== 0, 'the server closing the connection', 60000);
    holdPongs = true;
    const ctx = await closed;
    holdPongs = false;
    assert.equal(ctx.code, 3012, `closed with ${JSON.stringify(ctx)}`);
    await next(c, 'connected');
    await next(sub, 'subscribed');
    const delivered = next(sub, 'publication');
    await api('publish', { channel: 'news', data: { after: 'reconnect' } });
    assert.deepEqual((await delivered).data, { after: 'reconnect' });
  },

  // Unsubscribing before the subscribe reply arrives leaves the client unsubscribed, on the client
  // and on the server, and the same channel can be subscribed again.
  async unsubscribe_before_reply() {
    const c = client({ token: T.alice });
    await connect(c);
    const sub = c.newSubscription('chat');
    const seen = collect(sub, 'publication');
    const unsubscribed = next(sub, 'unsubscribed');
    sub.subscribe();
    sub.unsubscribe();
    assert.equal((await unsubscribed).code, 0);
    assert.equal(sub.state, 'unsubscribed');
    await sleep(500);
    assert.equal(sub.state, 'unsubscribed');
    const stats = await api('presence_stats', { channel: 'chat' });
    assert.equal(stats.num_clients, 0, `still subscribed on the server: ${JSON.stringify(stats)}`);
    await api('publish', { channel: 'chat', data: { n: 1 } });
    await sleep(300);
    assert.equal(seen.length, 0);
    const again = next(sub, 'subscribed');
    sub.subscribe();
    await again;
    const delivered = next(sub, 'publication');
    await api('publish', { channel: 'chat', data: { n: 2 } });
    assert.deepEqual((await delivered).data, { n: 2 });
    assert.equal(c.state, 'connected');
  },

  // Token refresh failures: an expired connection token whose getToken throws UnauthorizedError
  // or returns nothing ends in `disconnected` (unauthorized); an expired subscription token whose
  // getToken returns '' or throws UnauthorizedError ends in `unsubscribed` (unauthorized), the
  // connection staying up.
  async token_refresh_errors() {
    for (const getToken of [
      async () => { throw new UnauthorizedError('gone'); },
      async () => null,
    ]) {
      const c = client({ token: T.alice_expired, getToken });
      const expired = next(c, 'error', (e) => e.error && e.error.code === 109, 'error 109');
      const disconnected = next(c, 'disconnected');
      c.connect();
      await expired;
      const ctx = await disconnected;
      assert.equal(ctx.code, 1, `disconnected with ${JSON.stringify(ctx)}`);
      assert.equal(c.state, 'disconnected');
    }
    const c = client({ token: T.alice });
    await connect(c);
    for (const getToken of [
      async () => '',
      async () => { throw new UnauthorizedError('gone'); },
    ]) {
      const sub = c.newSubscription('$users', { token: T.alice_users_expired, getToken });
      const expired = next(sub, 'error', (e) => e.error && e.error.code === 109, 'error 109');
      const unsubscribed = next(sub, 'unsubscribed');
      sub.subscribe();
      await expired;
      const ctx = await unsubscribed;
      assert.equal(ctx.code, 1, `unsubscribed with ${JSON.stringify(ctx)}`);
      c.removeSubscription(sub);
    }
    assert.equal(c.state, 'connected');
  },

  // A new subscription from a known position recovers what was published since; so does a
  // subscription kept across a client-side disconnect and connect.
  async recovery_after_resubscribe() {
    const c = client({ token: T.alice });
    await connect(c);
    const { sub } = await subscribe(c, 'chat');
    const first = next(sub, 'publication');
    await api('publish', { channel: 'chat', data: { n: 1 } });
    const position = await first;
    const unsubscribed = next(sub, 'unsubscribed');
    sub.unsubscribe();
    await unsubscribed;
    c.removeSubscription(sub);
    for (const n of [2, 3]) await api('publish', { channel: 'chat', data: { n } });

    const since = { offset: position.offset, epoch: (await api('history', { channel: 'chat' })).epoch };
    const again = c.newSubscription('chat', { since });
    const seen = collect(again, 'publication');
    const subscribed = next(again, 'subscribed');
    again.subscribe();
    const ctx = await subscribed;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await sleep(200);
    assert.deepEqual(seen.map((p) => p.data.n), [2, 3]);

    // Away by the client's own disconnect: the subscription comes back with what it missed.
    const resubscribed = next(again, 'subscribed');
    c.disconnect();
    await api('publish', { channel: 'chat', data: { n: 4 } });
    c.connect();
    const back = await resubscribed;
    assert.equal(back.wasRecovering, true);
    assert.equal(back.recovered, true);
    await sleep(200);
    assert.deepEqual(seen.map((p) => p.data.n), [2, 3, 4]);
  },

  // A position the server cannot serve (another epoch) subscribes without recovery.
  async unrecoverable_position() {
    const c = client();
    await connect(c);
    await api('publish', { channel: 'news', data: { n: 1 } });
    const sub = c.newSubscription('news', { since: { offset: 1, epoch: 'not-the-epoch' } });
    const seen = collect(sub, 'publication');
    const subscribed = next(sub, 'subscribed');
    sub.subscribe();
    const ctx = await subscribed;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.equal(seen.length, 0);
    const delivered = next(sub, 'publication');
    await api('publish', { channel: 'news', data: { n: 2 } });
    assert.deepEqual((await delivered).data, { n: 2 });
  },
};

async function main() {
  const scenario = scenarios[scenarioName];
  if (!scenario) {
    throw new Error(`unknown scenario ${scenarioName}; known: ${Object.keys(scenarios).join(', ')}`);
  }
  await scenario();
}

main().then(
  () => {
    for (const c of clients) c.disconnect();
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
    process.exit(0);
  },
  (error) => {
    for (const c of clients) c.disconnect();
    const text = error instanceof Error ? String(error.stack || error) : JSON.stringify(error);
    process.stdout.write(JSON.stringify({ ok: false, error: text }) + '\n');
    process.exit(1);
  },
);
