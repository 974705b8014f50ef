"""The video a Telegram chat receives is the signed file: its bytes, as uploaded to the Bot
API, carry Content Credentials any C2PA reader reads."""

from __future__ import annotations

from bot.provenance.verify import verify
from tests.adapters.telegram_bot.conftest import FAST
from tests.credentials import made_by_ai


async def test_the_uploaded_video_says_a_model_made_it(engine_tg, tmp_path):
    ann = engine_tg.person(21)
    await ann.photo(f"a cat turning its head slowly {FAST}")
    call = await ann.wait_video()
    uploaded = tmp_path / "from-telegram.mp4"
    uploaded.write_bytes(engine_tg.api.video_bytes(call.files))
    action = made_by_ai(uploaded)
    assert action["parameters"]["model"] == "i2vgen-xl"
    assert "I2VGen-XL (i2vgen-xl)" in action["softwareAgent"]["name"]
    assert verify(uploaded).valid
