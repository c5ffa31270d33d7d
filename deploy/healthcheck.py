"""The image's HEALTHCHECK: exits 0 when /healthz on $PORT answers 200 (the database answered too), else 1.

Python rather than curl, so the image needs nothing installed beyond what the app runs on."""

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT') or 3000}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:  # refused, timed out, or an HTTP error status (503: the database did not answer)
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
