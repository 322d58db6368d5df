"""Fuzz entry points (atheris); run with `make fuzz` or `python -m tests.fuzz.fuzz_parser`."""
