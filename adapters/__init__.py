"""Chat platform adapters. Each one turns its platform's events into `bot` commands and renders
the core's replies; none of them knows about jobs, consent or the engine."""
