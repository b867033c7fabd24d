"""Moderation on the worker side: the prompt and dialogue check (classifier, rules, the
`moderate_text` light task) and the nudity check on finished frames. Never imported by the bot;
the names and presets the bot needs are in engine.api."""
