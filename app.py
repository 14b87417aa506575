"""The reader's page, from the checkout: `python app.py [--store DIR] [--host 127.0.0.1] [--port 7860]`.

The app itself lives in `assistant/app.py` (installed, it is `on-the-record serve`); this file only starts it.
"""

from __future__ import annotations

if __name__ == "__main__":
    from assistant.app import main

    raise SystemExit(main())
