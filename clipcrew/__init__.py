"""clipcrew: process wiring, settings and the command line. The parts live in bot/, engine/,
adapters/ and storage/."""
