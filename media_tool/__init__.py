"""media-tool: raw recordings in, a published bilingual podcast out."""

__version__ = "0.1.0"
