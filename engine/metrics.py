"""What a worker counts, for its Prometheus endpoint (clipcrew/metrics.py serves it).

clipcrew_render_seconds{engine}        histogram: a clip's render, from claim to stored file
clipcrew_worker_jobs_total{outcome}    counter: jobs a worker ended (done, failed, blocked,
                                       cancelled)
clipcrew_job_takeovers_total           counter: jobs taken over after their worker's lease
                                       lapsed (engine.lease)
clipcrew_light_task_seconds{task}      histogram: light tasks (selfie checks, refits, prompt
                                       checks)
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds: a sketch clip takes one or two, a model's clip one to several minutes.
RENDER_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600, 900)
LIGHT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)

RENDER_SECONDS = Histogram(
    "clipcrew_render_seconds",
    "Seconds a worker spent making a clip, from taking the job to the stored file.",
    ["engine"],
    buckets=RENDER_BUCKETS,
)
WORKER_JOBS = Counter(
    "clipcrew_worker_jobs_total", "Jobs a worker ended, by how they ended.", ["outcome"]
)
JOB_TAKEOVERS = Counter(
    "clipcrew_job_takeovers_total",
    "Jobs taken over by another worker after their worker's lease lapsed.",
)
LIGHT_TASK_SECONDS = Histogram(
    "clipcrew_light_task_seconds",
    "Seconds a light task took on a light worker.",
    ["task"],
    buckets=LIGHT_BUCKETS,
)
