"""The platform-neutral core: commands in, replies out. No chat library, no torch."""
