"""The bot process stays small: importing everything it runs loads no ML stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["torch", "diffusers", "transformers", "insightface", "onnxruntime", "cv2", "av", "numpy"]


def test_bot_process_imports_no_heavy_modules() -> None:
    code = (
        "import sys, clipcrew.cli, clipcrew.app, bot.service, adapters.local.server, "
        "adapters.telegram, adapters.discord, "
        "engine.queue_backends, engine.channels, engine.jobs\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
