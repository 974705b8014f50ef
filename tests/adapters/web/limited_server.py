"""The web page on the fake GPU in a process of its own, with a lowered open-files limit
(soft and hard, so that the page cannot raise it): `python -m tests.adapters.web.
limited_server DATA_DIR NOFILE [SETTING=VALUE...]` prints the page's URL, then serves until
its standard input closes."""

from __future__ import annotations

import asyncio
import resource
import sys

from tests.adapters.web.conftest import close, serve_page
from tests.bot.conftest import make_settings
from tests.fake_executor import FakeExecutor


async def main(data: str, nofile: int, values: dict[str, str]) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    from bot.logs import setup_logging

    settings = make_settings(data, I2V_WEB_PORT=0, **values)
    setup_logging(settings.data_dir, "INFO", [], console=False)
    served = await serve_page(settings, FakeExecutor())
    print(served.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await close(served)


if __name__ == "__main__":
    values = dict(arg.split("=", 1) for arg in sys.argv[3:])
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), values))
