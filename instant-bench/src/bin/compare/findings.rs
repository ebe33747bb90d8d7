//! What the profiles showed, written into `BENCHMARKS.md` beside the figures. The figures of a run
//! are in its tables; these paragraphs hold what a profile found and what changed because of it,
//! with the before/after ratios of the suite's own runs.

/// The middleware: the profile, the fixes, what remains.
pub(crate) const MIDDLEWARE: &[&str] = &[
    "**Profile** (`perf record` on the server process while `wrk` loaded one page; release \
     build). Before the fix, the HTML rewriter (lol_html) parsed every byte of every page: on the \
     10 KB page lol_html's tokenizer and selector matching took 20% of all the server's samples \
     (kernel included), and the 1 MB page cost 13.8 ms per request (median) against 0.96 ms \
     without the middleware, the whole page going through the parser after the client was \
     already in.",
    "**Fixes** (`instant-actix/src/body.rs`): (1) the rewriter is fed up to a little past each \
     `</head` candidate; as soon as the client is in, the rewriter is ended (it flushes, \
     unchanged, the bytes it held back) and the rest of the chunk and every later chunk pass \
     through untouched, as slices of the same buffer: the cost no longer grows with the page. A \
     `</head` inside a comment, a script, a style, a title or an attribute only makes a shorter \
     write; the rewriter still decides, and `instant-actix/tests/inject_streaming.rs` checks \
     those cases at every chunk cut. (2) The `head` and `body` selectors are parsed once per \
     process and borrowed by every response's rewriter. Before the fix (a run of this suite with \
     the previous `body.rs`, on this machine while it was busy, load average about 4–5), the \
     with/without ratios were: 10 KB page 0.10× (0.06–0.13), 1 MB page 0.08× (0.05–0.09), JSON \
     1.00× (0.72–1.55). After: the ratios in the table above. lol_html's share of the server's \
     samples on the 10 KB page fell from 20% \
     to 9%.",
    "**What remains on the 10 KB page** (same profile, after the fix), and why the 5% target is \
     missed there: the inserted snippet is about 9.5 KB (the browser config, then the client \
     script and its CSS inline), so the 10,337-byte page leaves the server as 19,857 bytes: the \
     server writes 1.9× the bytes, which alone rules out 5% on a page this small. Per response \
     the server also renders the snippet (`escape_json_for_script`, which escapes the config \
     character by character: 3.6% of the samples; serde's JSON of the config: 1.4%), mints two \
     HMAC-SHA256 tokens (sha2 and base64: about 2%), allocates (malloc and free: about 10%), and \
     builds a rewriter and parses the head (lol_html: 9%). What would close it, outside the \
     rewriter: serve the client script and CSS as a cacheable file so that a page carries only \
     the config (about 700 bytes) and two tags; escape the config with a byte-level fast path. (The \
     tokens no longer re-key their HMAC per token: see the tokens comparison.)",
    "**JSON**: the pass-through path is a few header checks; its ratio is within the run-to-run \
     noise of `wrk` on this shared machine (the spread of the with/without ratio is far wider \
     than 1%), so the 1% target can be neither confirmed nor refuted by this measurement; an \
     instruction count (callgrind) of the pass-through would settle it.",
];

/// Publishing: what the profile showed; the core client is not changed by this suite.
pub(crate) const PUBLISH: &[&str] = &[
    "**Profile** (`perf record` on the suite's process during the runs): the client's own \
     thread (`instant-centrifugo…`) took about 5% of the samples, the suite's thread 9%, Python \
     the rest; so instant's gap to the floor is waiting, not CPU on its side. Where it most \
     likely goes, to be confirmed by a profile of the core client (not changed here): every \
     awaited publish crosses two threads (the caller's runtime → the client's awc thread → \
     back through a oneshot), which on a busy 2-core machine costs a wake-up each way; the \
     batch body is built as a `serde_json::Value` tree (`to_value` per event, then `json!`) and \
     the replies parsed into one, where the floor posts prepared bytes; and awc is not hyper. \
     The batch gap (25–40 ms per 1,000 events over the prepared body) is larger than building \
     and serializing 1,000 events costs (about 2 µs each), which points at the transport: \
     whether awc sets `TCP_NODELAY` on its connections is the first thing to check (a large \
     body written after its headers can wait for a delayed ACK).",
    "django-instant's figures include a new TCP connection per event (it makes a new `cent` \
     client per call); `cent` 5.2 with one client keeps its connection alive, and its \
     remaining cost is Python's.",
];

/// Tokens: what changed in minting.
pub(crate) const TOKENS: &[&str] = &[
    "**Fix** (`instant-core/src/token.rs`): minting used to lose to jsonwebtoken (1.26× its time \
     for a connection token, 1.05× for a subscription token, in an earlier run of this suite) \
     because `Tokens::sign` keyed a new HMAC per token (`HmacSha256::new_from_slice`: two extra \
     SHA-256 blocks for the padded key), base64-encoded the constant header every time and built \
     three `String`s with `format!`. `Tokens` now keys the HMAC once when it is made and clones \
     that state per token (minting and verifying), the header's base64 is a constant, and a \
     token is written into one buffer of the right size. Verification was already faster than \
     jsonwebtoken's and gains the same saving.",
];

/// The cluster: why one machine cannot show it, and what Centrifugo's own benchmark carried.
pub(crate) const CLUSTER: &[&str] = &[
    "**Read the ratio with care**: on one 2-core machine a second node adds no CPU. The two \
     nodes, Redis, the subscribers' client threads and the publisher all share the same two \
     cores, so the ratio says that the set-up works and how the work spreads over those cores \
     (two Centrifugo processes, each fanning out to half the subscribers, against one fanning \
     out to all), not what a cluster gains. A second node also adds work: a second Redis \
     subscription and a second fan-out loop per publication. The real gain comes from nodes on \
     machines of their own, each holding its share of the connections.",
    "**What a Centrifugo cluster carries**, from Centrifugo's published benchmark \
     ([Million connections with Centrifugo](https://centrifugal.dev/blog/2020/02/10/million-connections-with-centrifugo), \
     a test stand in Kubernetes built on the Centrifuge library, Centrifugo's core): 20 server \
     pods on a Redis engine sharded over 5 Redis instances (each using at most 1 CPU), 100 \
     client pods of about 10,000 connections each; 1 million WebSocket connections, each \
     subscribed to 2 channels (about 1.1 million active channels); about 28 million messages \
     per minute (about 500,000 per second) delivered to clients, which the post rounds to \
     \"about 30 million\"; 200,000 connects and disconnects per minute; delivery latency at most \
     200 ms at the 99th percentile. instant publishes to such a cluster unchanged: \
     `centrifugo_urls` lists the nodes' API addresses, and the publisher spreads its requests \
     over them and steps around a failed node.",
];

/// The embedded server's burst fan-out beside Centrifugo's.
pub(crate) const SERVERS_BURST: &[&str] = &[
    "The embedded server queues each publication of the batch to every subscriber as it goes \
     (the hub serializes a publication once and shares the bytes), and each connection's writer \
     sends what it finds queued. Centrifugo handles the batch's publications one after another \
     too and merges the pushes queued for a client into one frame (the line above gives how \
     many per frame). The clients run on the same 2 cores as the server under test, so a server \
     that makes the clients read more frames also slows itself; the burst figures include that, \
     as a real crowd of browsers would not. This measures delivery from one process on one \
     machine; it says nothing about a Centrifugo cluster (see the cluster comparison).",
];

/// The embedded server's latency beside Centrifugo's.
pub(crate) const SERVERS_LATENCY: &[&str] = &[
    "**Profile** (`perf record -g -p <pid>` on the embedded server's process for 4 s of the \
     latency phase, release build, 999 Hz): 1,580 samples in 4 s, about 0.4 of one core, so \
     at 100 publications per second to 1,000 subscribers (100,000 deliveries per second) the \
     server's CPU is not what sets the latency. 55% of its samples are in the kernel's TCP send \
     path: one `sendto` per subscriber per publication (`tcp_sendmsg_locked`, \
     `__tcp_transmit_skb`, the loopback's receive softirq run on the sender's stack); the rest \
     is the outbox (`ClientHandle::send`: 3.9%), actix-ws's body stream (2.5%), tokio's mpsc \
     queues and wake-ups (about 8%). The latencies of both servers (tens of milliseconds at the \
     median) come mostly from the shared machine: the load generator parses 100,000 WebSocket \
     messages per second on the same 2 cores, beside the server under test and whatever else \
     runs (see the load averages at the top), so the p99 moves a lot from run to run; read the \
     run-by-run ratio.",
    "**What would help the embedded server** (in `instant-actix/src/embedded/`, not changed by \
     this suite): coalesce writes. When a connection's writer wakes up with several \
     publications queued, put them in one WebSocket frame, newline-separated as Centrifugo's \
     JSON protocol allows (Centrifugo merged about 3 per frame in the burst above; the embedded \
     server sends 1 per frame), and write them in one syscall. That cuts the kernel's share \
     (the largest one) and the clients' wake-ups whenever publications come faster than one \
     connection drains them, which is when latency grows.",
];

/// The embedded server's memory per connection beside Centrifugo's.
pub(crate) const SERVERS_MEMORY: &[&str] = &[
    "Resident memory counts the pages a process has touched, allocator caches and (for Go) \
     garbage not yet collected included, so it is what the operating system charges, not what \
     is live. The embedded server's figure agrees with the memory check's count of bytes still \
     allocated per subscribed client (`cargo run -p instant-bench --release --bin memory`, \
     about 27 KB asked of the allocator, of which not every page is touched). Centrifugo keeps \
     goroutines per connection, each with its own stack, and Go's collector lets the heap grow \
     to twice its live size before collecting (`GOGC=100`), which its RSS includes.",
];

/// The streamed page's memory.
pub(crate) const STREAM: &[&str] = &[
    "The middleware rewrites only the start of the page: it feeds the HTML rewriter up to \
     `</head>`, injects the config and the client there, ends the rewriter, and passes every \
     later chunk through unchanged, so it holds no more than one chunk at a time, and \
     actix-web polls the next chunk only once the last one is written: a page of any length \
     streams in constant memory. The client here reads as fast as it can; a slow reader was not \
     measured.",
];
