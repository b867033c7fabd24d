"""What the bot counts, for its Prometheus endpoint (clipcrew/metrics.py serves it).

    clipcrew_jobs_total{outcome}                       counter: clips as the bot saw them end
                                                       (posted, failed, cancelled, withheld)
    clipcrew_post_seconds{platform}                    histogram: uploading a finished clip
    clipcrew_moderation_refusals_total{category}       counter: prompts refused before queueing
    clipcrew_platform_api_errors_total{platform,status} counter: platform API answers >= 400
    clipcrew_platform_rate_limited_total{platform}     counter: of those, 429 (rate limited)

The adapters count their platform's answers (an httpx hook for Telegram, an aiohttp trace for
Discord) through `api_answer`.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

POST_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)

JOBS = Counter("clipcrew_jobs_total", "Clips by how they ended, as the bot saw them.", ["outcome"])
POST_SECONDS = Histogram(
    "clipcrew_post_seconds",
    "Seconds spent posting a finished clip to its chat (refits included).",
    ["platform"],
    buckets=POST_BUCKETS,
)
MODERATION_REFUSALS = Counter(
    "clipcrew_moderation_refusals_total", "Prompts refused by the moderation check.", ["category"]
)
API_ERRORS = Counter(
    "clipcrew_platform_api_errors_total",
    "Chat platform API answers with an error status.",
    ["platform", "status"],
)
RATE_LIMITED = Counter(
    "clipcrew_platform_rate_limited_total",
    "Chat platform API answers 429 (rate limited).",
    ["platform"],
)


def api_answer(platform: str, status: int) -> None:
    """Count one platform API answer (only errors are counted)."""
    if status < 400:
        return
    API_ERRORS.labels(platform=platform, status=str(status)).inc()
    if status == 429:
        RATE_LIMITED.labels(platform=platform).inc()
