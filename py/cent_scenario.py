"""Drives a Centrifugo server HTTP API with the official Python SDK `cent` (5.x).

Usage:
    cent_scenario.py API_URL API_KEY [--channel news] [--other chat] [--unknown nowhere:x]

API_URL is the API's base, e.g. http://127.0.0.1:8000/api, or http://<app>/instant/api for the embedded server (cent posts to API_URL/<method>);
API_URL and API_KEY may come from the environment instead (CENT_API_URL, CENT_API_KEY).

Runs publish, broadcast, batch, history, presence, presence_stats and info with the sync
Client, the stream position through the AsyncClient (aiohttp), then the error
paths: a wrong API key (cent's CentUnauthorizedError) and a publish to an unknown channel
(cent's CentApiResponseError with Centrifugo's code). Prints one JSON line per step:

    {"step": "publish", "ok": true, "result": {...}}
    {"step": "unknown_channel", "ok": true, "error": {"type": "CentApiResponseError", "code": 102, ...}}

with "problem" on a step whose answer is not what Centrifugo gives, then a summary line
{"summary": true, "passed": N, "failed": N}. Exits 1 when a step failed, 2 on bad usage.
"""

import argparse
import asyncio
import json
import os
import sys
import traceback

from cent import (
    AsyncClient,
    BatchRequest,
    BroadcastRequest,
    CentApiResponseError,
    CentError,
    CentUnauthorizedError,
    Client,
    HistoryRequest,
    InfoRequest,
    PresenceRequest,
    PresenceStatsRequest,
    PublishRequest,
)

PUBLISHED = {"text": "hello from cent", "n": 1, "nested": {"ok": True}}
BROADCAST = {"text": "to both channels", "n": 2}
BATCH = [{"text": "batch one", "n": 3}, {"text": "batch two", "n": 4}]


class Problem(Exception):
    """The server answered, but not as Centrifugo does."""


def check(condition, message):
    if not condition:
        raise Problem(message)


def dump(result):
    return result.model_dump(mode="json")


def error_of(error):
    found = {"type": type(error).__name__}
    if isinstance(error, CentApiResponseError):
        found["code"] = error.code
        found["message"] = error.message
    return found


def run(args):
    client = Client(args.api_url, args.api_key, timeout=10.0)
    state = {}

    def publish():
        result = client.publish(PublishRequest(channel=args.channel, data=PUBLISHED))
        check(result.offset > 0, f"publish gave no offset: {result!r}")
        check(result.epoch != "", f"publish gave no epoch: {result!r}")
        state["first"] = (result.offset, result.epoch)
        return dump(result)

    def broadcast():
        result = client.broadcast(
            BroadcastRequest(channels=[args.channel, args.other], data=BROADCAST)
        )
        check(len(result.responses) == 2, f"broadcast gave {len(result.responses)} responses")
        for channel, response in zip([args.channel, args.other], result.responses):
            check(response.error is None, f"broadcast to {channel} failed: {response.error!r}")
            check(
                response.result is not None and response.result.offset > 0,
                f"broadcast to {channel} gave no offset: {response!r}",
            )
        offset, epoch = state["first"]
        first = result.responses[0].result
        check(
            (first.offset, first.epoch) == (offset + 1, epoch),
            f"broadcast to {args.channel} is at {first.offset}/{first.epoch}, "
            f"expected {offset + 1}/{epoch}",
        )
        return dump(result)

    def batch():
        result = client.batch(
            BatchRequest(requests=[PublishRequest(channel=args.other, data=d) for d in BATCH])
        )
        check(len(result.replies) == 2, f"batch gave {len(result.replies)} replies")
        offsets = [reply.offset for reply in result.replies]
        check(
            offsets[0] > 0 and offsets[1] == offsets[0] + 1,
            f"batch offsets are {offsets}, expected two consecutive ones",
        )
        return {"replies": [dump(reply) for reply in result.replies]}

    def history():
        result = client.history(HistoryRequest(channel=args.channel, limit=10))
        offset, epoch = state["first"]
        found = [(p.offset, p.data) for p in result.publications]
        expected = [(offset, PUBLISHED), (offset + 1, BROADCAST)]
        check(found == expected, f"history has {found}, expected {expected}")
        check(result.offset == offset + 1, f"history's top offset is {result.offset}")
        check(result.epoch == epoch, f"history's epoch is {result.epoch!r}, expected {epoch!r}")
        return dump(result)

    def presence():
        result = client.presence(PresenceRequest(channel=args.channel))
        for client_id, info in result.presence.items():
            check(info.client == client_id, f"presence entry {client_id} names {info.client}")
        return dump(result)

    def presence_stats():
        result = client.presence_stats(PresenceStatsRequest(channel=args.channel))
        check(result.num_users <= result.num_clients, f"presence stats: {result!r}")
        return dump(result)

    def info():
        result = client.info(InfoRequest())
        check(len(result.nodes) >= 1, "info lists no node")
        check(all(node.uid and node.name for node in result.nodes), "a node lacks uid or name")
        return dump(result)

    def async_client():
        async def history_position():
            async_client = AsyncClient(args.api_url, args.api_key, timeout=10.0)
            try:
                return await async_client.history(HistoryRequest(channel=args.channel, limit=0))
            finally:
                await async_client.close()

        result = asyncio.run(history_position())
        offset, epoch = state["first"]
        check(result.publications == [], f"history with limit 0 has {result.publications}")
        check(
            (result.offset, result.epoch) == (offset + 1, epoch),
            f"AsyncClient sees the stream at {result.offset}/{result.epoch}",
        )
        return dump(result)

    def wrong_key():
        wrong = Client(args.api_url, args.api_key + "-wrong", timeout=10.0)
        try:
            wrong.publish(PublishRequest(channel=args.channel, data=PUBLISHED))
        except CentUnauthorizedError as error:
            return {"error": error_of(error)}
        raise Problem("a publish with a wrong API key succeeded")

    def unknown_channel():
        try:
            client.publish(PublishRequest(channel=args.unknown, data=PUBLISHED))
        except CentApiResponseError as error:
            check(error.code == 102, f"expected code 102 (unknown channel), got {error.code}")
            return {"error": error_of(error)}
        raise Problem(f"a publish to {args.unknown} succeeded")

    steps = [
        publish,
        broadcast,
        batch,
        history,
        presence,
        presence_stats,
        info,
        async_client,
        wrong_key,
        unknown_channel,
    ]
    passed = failed = 0
    for step in steps:
        line = {"step": step.__name__}
        try:
            outcome = step()
            line["ok"] = True
            line.update(outcome if "error" in outcome else {"result": outcome})
            passed += 1
        except Problem as problem:
            line.update(ok=False, problem=str(problem))
            failed += 1
        except CentError as error:
            line.update(ok=False, problem=f"{type(error).__name__}: {error}")
            line["error"] = error_of(error)
            failed += 1
        except Exception as error:  # noqa: BLE001 - any other failure is reported, not raised
            line.update(ok=False, problem=f"{type(error).__name__}: {error}")
            line["traceback"] = traceback.format_exc()
            failed += 1
        print(json.dumps(line, sort_keys=True), flush=True)
    print(json.dumps({"summary": True, "passed": passed, "failed": failed}), flush=True)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api_url", nargs="?", default=os.environ.get("CENT_API_URL"))
    parser.add_argument("api_key", nargs="?", default=os.environ.get("CENT_API_KEY"))
    parser.add_argument("--channel", default="news", help="a channel with history and presence")
    parser.add_argument("--other", default="chat", help="a second channel, for broadcast and batch")
    parser.add_argument("--unknown", default="nowhere:x", help="a channel the server does not have")
    args = parser.parse_args()
    if not args.api_url or not args.api_key:
        parser.error("give API_URL and API_KEY, as arguments or as CENT_API_URL and CENT_API_KEY")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
