//! What the profiles showed, written into `BENCHMARKS.md` beside the figures. The figures of a run
//! are in its tables; these paragraphs hold what a profile found and what changed because of it,
//! with the before/after ratios of the suite's own runs.

/// The middleware: the profile, the fixes, what remains.
pub(crate) const MIDDLEWARE: &[&str] = &[
    "**Profile** (`perf record` on the server process while `wrk` loaded one page; release \
     build). Before the fix, the HTML rewriter (lol_html) parsed every byte of every page: on \
     the 10 KB page lol_html's tokenizer and selector matching took 20% of all the server's \
     samples (kernel included), and the 1 MB page cost 13.8 ms per request (median) against \
     0.96 ms without the middleware, the whole page going through the parser after the client \
     was already in.",
    "**Fixes** (`instant-actix/src/body.rs`): (1) the rewriter is fed up to a little past each \
     `</head` candidate; as soon as the client is in, the rewriter is ended (it flushes, \
     unchanged, the bytes it held back) and the rest of the chunk and every later chunk pass \
     through untouched, as slices of the same buffer: the cost no longer grows with the page. A \
     `</head` inside a comment, a script, a style, a title or an attribute only makes a shorter \
     write; the rewriter still decides, and `instant-actix/tests/inject_streaming.rs` checks \
     those cases at every chunk cut. (2) The `head` and `body` selectors are parsed once per \
     process and borrowed by every response's rewriter. Before the fix (a run of this suite \
     with the previous `body.rs`, on this machine while it was busy, load average about 4–5), \
     the with/without ratios were: 10 KB page 0.10× (0.06–0.13), 1 MB page 0.08× (0.05–0.09), \
     JSON 1.00× (0.72–1.55). After it, and after the client script and CSS moved out of the \
     page into `/instant/static/client.<hash>.{js,css}` (cached as immutable, so the page grows \
     by about 1.1 KB, the config with two tokens and three tags, instead of 9.5 KB), the two \
     full runs before this one gave 0.40× and 0.38× on the 10 KB page and 0.94× and 0.99× on \
     the 1 MB page; lol_html's share of the server's samples on the 10 KB page fell from 20% to \
     9%, then took 19% of a profile once the rest had shrunk (making the rewriter per response \
     4%, feeding it the head 15%).",
    "**Further fixes** (`instant-actix/src/head_end.rs`, `body.rs`, `templates.rs`): \
     (1) a page the handler answers whole (a `String` or `Bytes` body, as most handlers do) no \
     longer goes through the HTML rewriter when its head is plain markup. A scan that knows the \
     head's usual constructs (doctype, `html`, `head`, `meta`, `link`, `base`, `title`, \
     `style`, `script`, comments, white space), and follows the tokenizer states of the HTML \
     standard for them (quoted and unquoted attributes, comments with their abrupt endings, raw \
     text up to its own end tag), finds the `<` of `</head>`; on anything else (an unknown \
     element, text, `<template>`, `<noscript>`, a script holding `<!--`, a page cut short) it \
     gives up and lol_html decides, as before. The fuzz checks serve every input both whole and \
     streamed and require the same bytes: the committed corpus, and 3,000 seeded pages of head \
     fragments and traps (`instant-fuzz-checks/tests/head_fragments.rs`), about a third of \
     which take the scan. (2) Such a page is sent as three slices of the same buffers (the page \
     up to the insertion point, the snippet, the rest) with its new `Content-Length`, instead \
     of chunked. (3) The config is written by serde's compact serializer and escaped for its \
     script element afterwards, only when it holds a character to escape (checked 32 bytes at a \
     time), instead of string by string as serde writes it; the WebSocket URL is built without \
     `format!`, and the shared-cache headers are removed by static names. In a profile of the \
     10 KB page with the scan (`perf record --call-graph dwarf` on the server while `wrk` \
     loaded it; release build) the scan took about 1.4% of the server's samples, where lol_html \
     took 19% before. The 10 KB page went from 0.38–0.40× to 0.50–0.69× in the four full runs \
     since, and the 1 MB page to 0.92–1.03×, its target met in three of them: within one run \
     its ratio spreads wider than the 5% margin.",
    "**Since the previous run** (`instant-actix/src/page_tokens.rs`, `runtime.rs`): (1) a \
     page's tokens are reused for the same user (and channel) for a tenth of the token \
     lifetime, at most a minute; the auth routes, through which the client renews them, still \
     mint new ones, and the page's channels are authorized again on every request. (2) The \
     config is written field by field: each string is copied whole when a block-wise check \
     finds nothing to escape, for JSON or for the script element, so no pass over the whole \
     text follows; the tokens minted here and the fixed strings are not checked at all. Tests \
     require the bytes serde writes, escaped for the script element as before. Counted as \
     above (callgrind, a `wrk` run against one app at a time): the middleware's extra cost on \
     the 10 KB page fell from 61,400 to 24,500 instructions per request (97,800 against 36,300 \
     without it, then 60,900); valgrind runs SHA-256 in software, so the tokens' share of the \
     saving is smaller outside it. In two runs of this comparison back to back after the first \
     step (5 repetitions each), the 10 KB page went from 0.65× to 0.76×. The benchmark's \
     visitor is one logged-in user, as a user opening page after page is; a site whose every \
     page view comes from another user still signs two tokens per page.",
    "**What remains on the 10 KB page**, and why the 5% target is missed there. The 24,500 \
     instructions the middleware still adds (callgrind, as above) go to: the head scan that \
     finds `</head>`, with the body wrapper it sets up, about 3,600; writing the config about \
     3,100; looking up the two reused tokens about 2,100; the render-time stream positions of \
     the two channels with a history about 2,000; freeing the config about 1,800; authorizing \
     the page's channels about 1,400; the snippet about 1,100; wrapping the response about \
     900; the rest in smaller pieces (channel look-ups, headers, the WebSocket URL) and \
     allocations. Without the middleware a request costs about 36,400 instructions, so a 5% \
     budget is about 1,800, less than the head scan alone: a middleware that finds the end of \
     the head and writes a per-user config into the page cannot meet it on a page this small. \
     On the 1 MB page, where the same fixed work is spread over a hundred times the bytes, it \
     can be met.",
    "**JSON**: a response that is not HTML is checked for the skip header and its content type \
     and handed on with a body wrapper. Its `wrk` ratio is within the run-to-run noise of this \
     shared machine (the spread of the with/without ratio is far wider than 1%; earlier full \
     runs gave 0.97×, 0.98× and 0.85×, this one the table above), so the instruction count \
     settles it: callgrind, as above, counted about 830–1,250 more instructions per request on \
     a request of about 25,000 (3.3–5%). Then the response future was written out \
     instead of boxed (no allocation per response), which took about 50 of them off; what \
     remains is what wrapping a response costs in actix-web's middleware model: moving the \
     response through the future (about 280 in its `poll` and 120 copying), the body wrapper \
     (`EitherBody`, about 150 with `map_body`) and two header-map lookups (about 160). The 1% \
     target is missed by that measure too; what is left comes with handing a response through \
     any actix-web middleware that wraps its body, not with this one's checks.",
];

/// Publishing: what the profile showed, what changed in the core client, what remains.
pub(crate) const PUBLISH: &[&str] = &[
    "**Profile** (`perf record` on the suite's process during a run of this comparison): the \
     client's own thread (`instant-centrifugo…`) took about 4% of the samples, mostly in the \
     kernel's TCP path, the suite's thread about 5%, Python and Centrifugo the rest: instant's \
     gap to the floor is waiting, not CPU on its side. Timing the batch path piece by piece \
     (1,000 events, a 364 KB body, on a busy machine): building the events 2–3 ms; building the \
     body as a `serde_json::Value` tree (`to_value` per event, then `json!`) and serializing it \
     20–25 ms, most of it allocating and freeing the tree's maps; the POST itself close to the \
     floor's.",
    "**Fixes** (`instant-core/src/centrifugo/`): (1) `no_delay.rs`: the client's connections \
     set `TCP_NODELAY`, which awc's connector does not, so the last, short segment of a body \
     larger than one segment no longer waits for Centrifugo's delayed acknowledgement of the \
     previous one. In two runs of this comparison back to back (3 repetitions each, this change \
     alone, the machine busy with a build), one batch of 1,000 events went from 107 ms to 61 ms \
     (medians), fire-and-forget from 124 ms to 43 ms, 64 in flight from 268 ms to 106 ms. (2) \
     `wire.rs`: publish, broadcast and batch bodies are serialized from borrowed typed structs \
     straight into bytes, once (a retry on another node sends the same bytes); no `Value` tree \
     is built. (3) Event ids come from uuid's thread-local generator (`fast-rng`) instead of a \
     `getrandom` system call per event. In the full run before these fixes, instant awaited \
     took 1.5–2.5× the floor's time and its batch reached 40–45% of Centrifugo's ceiling; in \
     the two full runs after them, 1.33–1.61× and 0.66–0.81×.",
    "**Calls on the caller's thread**: an awaited call made on an actix-rt \
     thread (an actix-web worker, `#[actix_web::main]`, an `actix_rt::System`: where handlers \
     publish) no longer crosses to the client's own thread and back. awc's client is not \
     `Send`, so it used to live only on that thread, with an actix-rt system of its own, and \
     every call went there through a queue and came back through a oneshot channel, a wake-up \
     of another thread each way. Now the call runs on the caller's thread as a local task with \
     a thread-local awc client per `CentrifugoClient` (`instant-core/src/centrifugo/worker.rs`); \
     the caller awaits the task's handle, so the futures stay `Send`. Calls from any other \
     runtime, and fire-and-forget, still go through the client's thread; both paths share the \
     node choice, breakers, retry and counters. An interleaved measurement by hand (one \
     actix-rt system, 12 rounds of 400 one-by-one publishes per variant, three runs; median µs \
     per call) put the crossing at 25–45 µs per call: through the client's thread 185–206 µs, \
     on the caller's thread 151–163 µs, awc used directly with the same event and body built in \
     the loop 151–156 µs, the hyper floor 126–145 µs.",
    "**Later fixes** (`instant-core/src/centrifugo/wire.rs`, `event.rs`, this \
     comparison): (1) a batch's answer is read straight into receipts through typed serde \
     structs, without a `serde_json::Value` per reply (any other shape of answer falls back to \
     the general reading); reading the replies into values had cost about 0.3 µs per reply, \
     making the events inside the clock 0.2 µs per event, encoding them 0.3–0.5 µs per event \
     (measured by hand on 1,000 and 10,000 events). (2) An event's id is encoded straight into \
     its buffer. (3) The floor posts the bodies instant sends, each with its \
     `idempotency_key`; in the runs before these fixes it posted them without one, and Centrifugo takes \
     noticeably longer over a batch with keys (the keyless batch beside it shows by how much), \
     so those runs compared unlike bodies. (4) The scenarios a target compares run one after \
     the other, the first of them alternating between repetitions; before, every scenario ran \
     in a fixed order, instant's awaited one first, straight after the previous repetition's \
     Python runs. In the full run before these fixes the batch reached 0.71–0.75× of Centrifugo's \
     ceiling and fire-and-forget 0.63–0.71×.",
    "**What remains: awaited one by one and in flight.** Measured apart with a probe on one \
     actix-rt system (1,000 awaited publishes per variant, 15 rounds interleaving the variants, \
     two runs and two more with a fourth variant; median µs per call): the hyper floor 162–178, \
     awc used directly with prepared bodies 168–211, the same awc calls each in a task spawned \
     on the thread (as instant runs them) 187–198, instant 190–231. The process's CPU time per \
     call (`perf stat` task-clock, 2,000 against 500 calls per variant): hyper 58 µs, awc 79 \
     µs, instant 80 µs; `strace` counts two more `eventfd` writes per instant call than per \
     direct awc call (the spawned task waking the thread's `LocalSet`, then its end waking the \
     caller). So most of what is left against the floor is awc's request path against hyper's, \
     about 20 µs of CPU per call on this machine, and the task that keeps instant's futures \
     `Send` adds a few percent. awc is the project's HTTP client by choice (actix's own); \
     closing the rest would take another HTTP client for Centrifugo's API, or a non-`Send` \
     publish for callers on an actix thread that skips the task. Neither is done, so where the \
     table shows a miss here, it is this.",
    "**Fire-and-forget against the ceiling**: its time runs until the subscriber has received \
     all N, while the floor's batch is timed to Centrifugo's answer, so the subscriber's \
     reading of the last publications counts against fire-and-forget alone; the row `floor \
     batch until delivered / instant fire-and-forget` times the same batch until delivered. \
     Fire-and-forget also sends what it has queued in batches of up to 500 events \
     (`ClientOptions::max_batch`), one after another so that a channel's events keep their \
     order, each answered once Centrifugo has queued it to the subscribers.",
    "**The ratios against django-instant** follow from the floor, as the row \
     `django-instant / floor batch` shows: Centrifugo's own batch, posted by a prepared body, \
     is that many times faster than django-instant's `publish()` on this machine, which is the \
     most any client can show. django-instant ran faster here (1.3–1.8 s per 1,000 events \
     across the full runs) than the 1.9 s per 1,000 events the 150× target assumed, so the \
     150× batched \
     target is out of reach of every client on this machine, the floor included; instant's \
     batch is at Centrifugo's ceiling (the share-of-the-ceiling rows).",
    "django-instant's figures include a new TCP connection per event (it makes a new `cent` \
     client per call); `cent` 5.2 with one client keeps its connection alive, and its remaining \
     cost is Python's.",
];

/// `#[instant::event]`: what a request with the attribute costs, and why.
pub(crate) const EVENT: &[&str] = &[
    "**Profile**, counted in instructions, which a busy machine does not blur (callgrind on \
     `compare --serve-event`, release build, counters zeroed before and dumped after a `wrk` \
     run against one app at a time): before the change below, a request without the attribute \
     cost about 25,000 instructions and the attribute added 11,469: making the event (its id \
     and time), reading the handler's JSON into a `serde_json::Value` for the event's data, \
     serializing the event with that value, and the embedded server reading the event again to \
     keep it in the channel's history and encode its push.",
    "**Fix** (`instant-core/src/event_json.rs`, `instant-macros/src/event/`, \
     `instant-actix/src/embedded/`): for a handler that returns `Json<T>`, the event's data is \
     the response's body, the JSON text `Json` already wrote (the same bytes the HTTP client \
     gets, keys in the order `T` serializes them): `Event::to_json_with_data` writes the \
     event's JSON around it, byte for byte what serde_json writes for the event (tested \
     against it), and `Backend::publish_json_data` hands that text to the backend. The \
     embedded server keeps publications as text, writes a push by hand and only when someone \
     is subscribed, finds a declared channel with one lookup, and shares its history's epoch \
     instead of copying it per publication. The attribute's extra cost fell from 11,469 to \
     5,256 instructions per request: making and freeing the event about 2,000, checking that \
     the body is JSON about 900, writing the event's JSON about 1,200, keeping it in the \
     history about 800.",
    "**Why the 3% target is missed**: 3% of this handler is about 750 of its 25,000 \
     instructions (0.3–0.5 µs per request in the runs of this suite); making and freeing the \
     event alone (a fresh id and time, its strings), which any publish needs, takes more than \
     that. Measured by `wrk`, the ratio spreads widely within a run on this shared machine (the \
     table above) and its median has ranged from 0.82× to 0.96× across the full runs since \
     the change above, with no change in the attribute's path; the instruction count is the \
     steadier measure. A handler that does real work \
     (a database query, a template) leaves the same cost well under 3%. What would cut it \
     further: an event type that borrows its channel, site and message instead of owning them, \
     and a history that keeps the publication's bytes without a copy.",
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
    "**10,000 subscribers.** Centrifugo answers a `publish` or `batch` API call only once it \
     has queued the call's publications to every subscriber, and its HTTP server gives a call \
     10 s to write its answer (v6.9.1: `WriteTimeout: 10 * time.Second` in \
     `internal/app/mux.go`, not a configuration key); a call that takes longer loses its answer \
     and its connection. With 10,000 subscribers on these 2 shared cores its fan-out runs at \
     20,000–65,000 deliveries per second, depending on what else runs: each publication queued to a client wakes that \
     client's writer goroutine, and the 10,000 writers run before the publishing goroutine gets \
     a core back (goroutine dumps taken during the burst found it `runnable` inside \
     `broadcastPublication` every time; half of Centrifugo's CPU profile is the writers' \
     `write` system calls), so each publication leaves as a frame of its own (1.0 per frame, \
     against 3–13 with 1,000 subscribers) at the cost of one `write` per delivery. 100 \
     publications in one call (a million deliveries) took Centrifugo 27 s, and 10 (the former \
     warm-up) took 3.7–7 s here, more than 10 s on the busier machine of the earlier attempts: \
     the answer was lost, which is the failure those attempts saw. Nothing else was at fault: \
     no client was disconnected (the per-client queue, `client.queue_max_size` of 1 MB, never \
     filled), the load generator used about 0.2 of a core during Centrifugo's burst, every \
     client had its subscribe reply before the first call, hyper's client has no timeout of its \
     own, and the file limit (20,000) holds both sides. No Centrifugo v6 setting helps: its \
     configuration exposes neither a per-connection write delay nor frame or channel batching \
     (the Centrifuge library has them). So the 10,000-subscriber burst is 10 publications (the \
     same 100,000 deliveries as the 1,000-subscriber one) in `batch` calls of 5, one after \
     another, the same calls to both servers, and its latency phase sends 2 publications per \
     second (20,000 deliveries per second): at 10 per second, with every call sent on time, \
     Centrifugo fell behind and its answers came after more than 10 s.",
];

/// The embedded server's latency beside Centrifugo's.
pub(crate) const SERVERS_LATENCY: &[&str] = &[
    "**Profile** (`perf record -g -p <pid>` on the embedded server's process for 4 s of the \
     latency phase, release build, 999 Hz): 1,580 samples in 4 s, about 0.4 of one core, so at \
     100 publications per second to 1,000 subscribers (100,000 deliveries per second) the \
     server's CPU is not what sets the latency. 55% of its samples are in the kernel's TCP send \
     path: one `sendto` per subscriber per publication (`tcp_sendmsg_locked`, \
     `__tcp_transmit_skb`, the loopback's receive softirq run on the sender's stack); the rest \
     is the outbox (`ClientHandle::send`: 3.9%), actix-ws's body stream (2.5%), tokio's mpsc \
     queues and wake-ups (about 8%). The latencies of both servers (tens of milliseconds at the \
     median) come mostly from the shared machine: the load generator parses 100,000 WebSocket \
     messages per second on the same 2 cores, beside the server under test and whatever else \
     runs (see the load averages at the top), so the p99 moves a lot from run to run; read the \
     run-by-run ratio.",
    "**Earlier runs**: the full runs before the change below missed the p99 target with 1,000 \
     subscribers (1.14× in the last of them), measured with a publisher that waited for each \
     answer (next paragraph), so their figures are not comparable with these. A connection's \
     writer now puts every reply and publication it finds queued into one WebSocket frame \
     (newline-separated, up to 64 KiB) and writes it at once; the burst shows it (the \
     publications per frame in 2a). At 100 publications per second a connection rarely \
     has more than one publication queued, so that changes little here. Where a run's p99 \
     ratio is close to 1, the difference is in when the 1,000 connections' writers get a core \
     on a machine whose two cores the load generator also needs; writing at once from the \
     fan-out to connections whose writer is idle would save one wake-up per delivery.",
    "**The publisher no longer waits for an answer before the next tick.** At first each \
     `publish` call waited for the previous one's answer, and a server answers only once it has \
     queued the publication to every subscriber, so a slower server was sent fewer publications \
     than the rate said: with 1,000 subscribers the 5 s phase took 7–12 s, and with 10,000 \
     subscribers 10 publications per second came down to about 2.5. Each call now goes out on \
     its tick, so both servers get the same load and a server that falls behind shows it in \
     its latencies; figures from earlier runs are not comparable with these.",
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
