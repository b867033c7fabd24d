"""The generation worker. `engine.events` and `engine.queue` are the job interface the bot uses;
everything heavy is imported lazily, inside the worker, so importing this package is cheap."""
