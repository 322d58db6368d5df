"""Tests of the sans-IO SIP message core: torture corpus, parser, URIs, headers, properties."""
