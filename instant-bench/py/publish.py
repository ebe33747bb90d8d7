"""Publishes N events to Centrifugo from Python, as a Python app would; prints the time taken.

Usage:
    publish.py cent5 API_URL API_KEY CHANNEL N
    publish.py django-instant API_URL API_KEY CHANNEL N

cent5: Centrifugo's SDK `cent` 5.x, one Client reused for every event (API_URL is the API's
base, e.g. http://127.0.0.1:8000/api). django-instant: django-instant's own
`instant.producers.publish()`, which makes a new `cent` 4.x Client (and so a new HTTP connection)
per event; it reads Centrifugo's address and key from the Django settings module named by
DJANGO_SETTINGS_MODULE, which the suite writes. The events have the shape instant publishes:
channel, site, message, event_class and a small data object.

Prints one JSON line: {"seconds": <time from the first publish to the last answer>}; exits 1 with
{"error": ...} when a publish fails.
"""

import json
import sys
import time


def event(i):
    return {
        "message": f"Order {i} was shipped",
        "event_class": "object edited",
        "data": {
            "id": i,
            "model": "shop.Order",
            "status": "shipped",
            "url": f"/orders/{i}/",
            "total": "149.90",
        },
    }


def run_cent5(api_url, api_key, channel, n):
    from cent import Client, PublishRequest

    client = Client(api_url, api_key, timeout=10.0)
    start = time.perf_counter()
    for i in range(n):
        payload = event(i)
        payload["channel"] = channel
        payload["site"] = "bench"
        client.publish(PublishRequest(channel=channel, data=payload))
    return time.perf_counter() - start


def run_django_instant(channel, n):
    import django

    django.setup()
    from instant.producers import publish

    start = time.perf_counter()
    for i in range(n):
        e = event(i)
        publish(channel, e["message"], event_class=e["event_class"], data=e["data"])
    return time.perf_counter() - start


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, api_url, api_key, channel, n = sys.argv[1:]
    n = int(n)
    try:
        if mode == "cent5":
            seconds = run_cent5(api_url, api_key, channel, n)
        elif mode == "django-instant":
            seconds = run_django_instant(channel, n)
        else:
            print(__doc__, file=sys.stderr)
            sys.exit(2)
    except Exception as error:  # reported to the suite, which fails the run
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
